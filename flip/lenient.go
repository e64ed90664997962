package flip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file reads Flip's JSON field by field. Flip is loose in what it
// sends (numbers as strings and strings as numbers, the string "null" for
// a missing value, amounts as "10000.00", timestamps in several formats),
// so one odd field must never fail a whole bill or page: each field is
// read on its own, a field that cannot be read is left at its zero value
// and recorded as a [FieldProblem], and the raw JSON stays attached.
// docs/flip-tolerances.md lists each tolerance and the fact it rests on.

// FieldProblem is one field of Flip's JSON that could not be read as its
// type. The field is left at its zero value; the other fields, and the
// raw JSON, are kept.
type FieldProblem struct {
	// Field is the JSON path of the field: "amount",
	// "bill_payment.created_at", "data[3]".
	Field string
	// Value is the field's JSON as received, cut to 64 bytes.
	Value string
	// Err says why the field could not be read.
	Err error
}

// Error describes the problem.
func (p FieldProblem) Error() string {
	return fmt.Sprintf("flip: field %s = %s: %v", p.Field, p.Value, p.Err)
}

// Unwrap returns the cause.
func (p FieldProblem) Unwrap() error { return p.Err }

// The causes of field problems, for errors.Is.
var (
	// ErrFractionalAmount: an amount with a non-zero fraction. Flip's
	// amounts are whole rupiah; a fraction is never rounded away.
	ErrFractionalAmount = errors.New("amount is not a whole number of rupiah")
	// ErrAmbiguousAmount: an amount string such as "10.000" that reads as
	// ten with a decimal point and as ten thousand with Indonesian
	// thousands separators.
	ErrAmbiguousAmount = errors.New("amount is ambiguous (a decimal point or a thousands separator?)")
)

// maxProblemValue bounds FieldProblem.Value.
const maxProblemValue = 64

// objectReader reads the fields of one JSON object leniently, recording
// the fields it cannot read in problems.
type objectReader struct {
	prefix   string // "bill_payment." for a nested object
	fields   map[string]json.RawMessage
	problems *[]FieldProblem
}

// newObjectReader parses data as a JSON object. Anything else (an array,
// a number, invalid JSON) is an error: it is not one odd field but a
// wrong payload.
func newObjectReader(data []byte, prefix string, problems *[]FieldProblem) (*objectReader, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("flip: want a JSON object, got %.32q", data)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("flip: decoding a JSON object: %w", err)
	}
	return &objectReader{prefix: prefix, fields: fields, problems: problems}, nil
}

// raw returns the field's JSON; a name matched exactly wins over one that
// differs only in case (encoding/json's own rule), and among those the
// first in byte order, so that the choice never depends on map order.
func (o *objectReader) raw(name string) (json.RawMessage, bool) {
	if v, ok := o.fields[name]; ok {
		return v, true
	}
	best, found := "", false
	for k := range o.fields {
		if strings.EqualFold(k, name) && (!found || k < best) {
			best, found = k, true
		}
	}
	if !found {
		return nil, false
	}
	return o.fields[best], true
}

// problem records that name could not be read.
func (o *objectReader) problem(name string, raw json.RawMessage, err error) {
	v := string(bytes.TrimSpace(raw))
	if len(v) > maxProblemValue {
		v = v[:maxProblemValue] + "..."
	}
	*o.problems = append(*o.problems, FieldProblem{Field: o.prefix + name, Value: v, Err: err})
}

// present returns the field's JSON unless it is absent: missing, null,
// "", or the string "null".
func (o *objectReader) present(name string) (json.RawMessage, bool) {
	raw, ok := o.raw(name)
	if !ok || isAbsent(raw) {
		return nil, false
	}
	return raw, true
}

// str reads a text field; a number is kept as its exact text.
func (o *objectReader) str(name string) string {
	raw, ok := o.present(name)
	if !ok {
		return ""
	}
	s, err := parseText(raw)
	if err != nil {
		o.problem(name, raw, err)
	}
	return s
}

// id reads an identifier sent as a number or a string.
func (o *objectReader) id(name string) ID {
	raw, ok := o.present(name)
	if !ok {
		return ""
	}
	var id ID
	if err := id.UnmarshalJSON(raw); err != nil {
		o.problem(name, raw, err)
		return ""
	}
	return id
}

// int reads a whole number (a counter, a step, a unique code).
func (o *objectReader) int(name string) int64 {
	raw, ok := o.present(name)
	if !ok {
		return 0
	}
	n, err := parseWhole(raw)
	if err != nil {
		o.problem(name, raw, err)
		return 0
	}
	return n
}

// amount reads an amount in rupiah: whole and not negative. Anything else
// is a problem and reads as 0, which never settles a payment.
func (o *objectReader) amount(name string) int64 {
	raw, ok := o.present(name)
	if !ok {
		return 0
	}
	n, err := parseAmount(raw)
	if err != nil {
		o.problem(name, raw, err)
		return 0
	}
	return n
}

// flag reads one of Flip's 0/1 flags.
func (o *objectReader) flag(name string) bool {
	raw, ok := o.present(name)
	if !ok {
		return false
	}
	var f flag
	if err := f.UnmarshalJSON(raw); err != nil {
		o.problem(name, raw, err)
		return false
	}
	return bool(f)
}

// time reads a timestamp in any of the formats [ParseTimestamp] knows, or
// as unix seconds (or milliseconds).
func (o *objectReader) time(name string) time.Time {
	raw, ok := o.present(name)
	if !ok {
		return time.Time{}
	}
	t, err := parseTime(raw)
	if err != nil {
		o.problem(name, raw, err)
		return time.Time{}
	}
	return t
}

// object returns a reader of a nested object, or nil when the field is
// absent; a field that is not an object is a problem and reads as absent.
func (o *objectReader) object(name string) *objectReader {
	raw, ok := o.present(name)
	if !ok {
		return nil
	}
	sub, err := newObjectReader(raw, o.prefix+name+".", o.problems)
	if err != nil {
		o.problem(name, raw, errors.New("want a JSON object"))
		return nil
	}
	return sub
}

// isAbsent reports whether raw stands for a missing value: empty, null,
// a blank string, or the string "null" (any case), which Flip sends for
// missing values in payment lists.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return true
	}
	if raw[0] != '"' {
		return false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "null")
}

// parseText reads a JSON string, or a JSON number as its exact text.
func parseText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	return "", errors.New("want a string or a number")
}

// decimalText is a plain decimal: sign, digits, optional fraction and
// exponent. Base prefixes, fractions like "1/2", "Inf" and "NaN" are not.
var decimalText = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$`)

// thousandsText reads as a number with "." thousands separators.
var thousandsText = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{3})+$`)

// parseWhole reads an integer sent as a JSON number or a numeric JSON
// string, allowing a zero fraction or an exponent ("10000.0", "1e4").
// A non-zero fraction is ErrFractionalAmount: it is never rounded.
func parseWhole(raw json.RawMessage) (int64, error) {
	s, quoted, err := numberText(raw)
	if err != nil {
		return 0, err
	}
	if quoted && thousandsText.MatchString(s) {
		return 0, ErrAmbiguousAmount
	}
	return wholeDecimal(s)
}

// parseAmount is parseWhole for amounts, which are never negative.
func parseAmount(raw json.RawMessage) (int64, error) {
	n, err := parseWhole(raw)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("amount is negative")
	}
	return n, nil
}

// numberText returns the text of a JSON number or numeric JSON string.
func numberText(raw json.RawMessage) (s string, quoted bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", true, err
		}
		return strings.TrimSpace(s), true, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false, errors.New("want a number or a numeric string")
	}
	return n.String(), false, nil
}

// wholeDecimal reads s exactly (no float on the way) and returns it when
// it is a whole number that fits an int64.
func wholeDecimal(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if len(s) > 64 || !decimalText.MatchString(s) {
		return 0, fmt.Errorf("want a number, got %.32q", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("want a number, got %.32q", s)
	}
	if !r.IsInt() {
		return 0, ErrFractionalAmount
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("number %.32s is out of range", s)
	}
	return r.Num().Int64(), nil
}

// parseTime reads a timestamp: a string in any format ParseTimestamp
// knows, or unix seconds (milliseconds from 10^12 on) as a number.
func parseTime(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		return ParseTimestamp(s)
	}
	n, err := parseWhole(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a timestamp: %w", err)
	}
	return unixTime(n)
}

// unixMillisFrom is where unix numbers switch from seconds to
// milliseconds: 10^12 seconds is the year 33658, 10^12 milliseconds 2001.
const unixMillisFrom = 1_000_000_000_000

// unixTime reads unix seconds, or milliseconds from unixMillisFrom on, in
// Asia/Jakarta; 0 is no time, and years outside 1..9999 are refused.
func unixTime(n int64) (time.Time, error) {
	if n == 0 {
		return time.Time{}, nil
	}
	var t time.Time
	if n >= unixMillisFrom || n <= -unixMillisFrom {
		t = time.UnixMilli(n)
	} else {
		t = time.Unix(n, 0)
	}
	t = t.In(jakarta())
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("unix time %d is out of range", n)
	}
	return t, nil
}
