package flip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ID is an identifier Flip sends sometimes as a JSON number and sometimes
// as a JSON string (link_id, bill_link_id). It is kept as the exact decimal
// text, so 19-digit ids survive unchanged; it is never parsed as a float.
type ID string

// String returns the id's text.
func (id ID) String() string { return string(id) }

// UnmarshalJSON accepts a JSON number, a JSON string, or null, "" and
// "null" (the empty ID; Flip writes missing values as the string "null").
// A number must be an integer written without fraction or exponent.
func (id *ID) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case isAbsent(data):
		*id = ""
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("flip: id: %w", err)
		}
		*id = ID(s)
		return nil
	}
	if !isInteger(string(data)) {
		return fmt.Errorf("flip: id: want an integer or a string, got %.32q", data)
	}
	*id = ID(data)
	return nil
}

// MarshalJSON writes an all-digit id as a JSON number (Flip's own form),
// any other id as a JSON string, and the empty id as null.
func (id ID) MarshalJSON() ([]byte, error) {
	switch {
	case id == "":
		return []byte("null"), nil
	case isInteger(string(id)) && id[0] != '-' && (len(id) == 1 || id[0] != '0'):
		return []byte(id), nil
	}
	return json.Marshal(string(id))
}

// isInteger reports whether s is an optionally negative run of ASCII digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// flexInt decodes an integer sent as a JSON number or a numeric JSON
// string, with a zero fraction allowed ("10000.0"); null, "" and "null"
// decode as 0 with set false.
type flexInt struct {
	v   int64
	set bool
}

func (n *flexInt) UnmarshalJSON(data []byte) error {
	if isAbsent(data) {
		*n = flexInt{}
		return nil
	}
	v, err := parseWhole(data)
	if err != nil {
		return fmt.Errorf("flip: want an integer: %w", err)
	}
	*n = flexInt{v: v, set: true}
	return nil
}

// flag decodes Flip's 0/1 flags (also true/false and "0"/"1").
type flag bool

func (f *flag) UnmarshalJSON(data []byte) error {
	switch strings.ToLower(strings.TrimSpace(strings.Trim(string(bytes.TrimSpace(data)), `"`))) {
	case "1", "true":
		*f = true
	case "0", "false", "null", "":
		*f = false
	default:
		return fmt.Errorf("flip: want 0 or 1, got %.32q", data)
	}
	return nil
}

func (f flag) MarshalJSON() ([]byte, error) {
	if f {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// Location returns the time zone of Flip's timestamps: Asia/Jakarta
// (Western Indonesia Time, UTC+7, no daylight saving). When the system has
// no time zone database it returns a fixed +07:00 zone named "WIB".
func Location() *time.Location { return jakarta() }

var jakarta = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Jakarta"); err == nil {
		return loc
	}
	return time.FixedZone("WIB", 7*60*60)
})

// The layouts of Flip's timestamps.
const (
	layoutSeconds = "2006-01-02 15:04:05"
	layoutMinutes = "2006-01-02 15:04"
	layoutDate    = "2006-01-02"
)

// zonelessLayouts are read in Asia/Jakarta; zonedLayouts carry their own
// offset. Fractional seconds after the seconds are accepted by both.
var (
	zonelessLayouts = []string{layoutSeconds, layoutMinutes, layoutDate,
		"2006-01-02T15:04:05", "2006-01-02T15:04"}
	zonedLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00",
		"2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z0700", "2006-01-02 15:04:05 Z07:00",
		"2006-01-02 15:04:05 Z0700"}
)

// Timestamp is one of Flip's zone-less "YYYY-MM-DD HH:mm:ss" (or
// "YYYY-MM-DD HH:mm") timestamps, read in [Location]. The zero Timestamp
// stands for JSON null, "" or "null".
type Timestamp struct{ time.Time }

// ParseTimestamp parses Flip's timestamp text. It accepts
// "YYYY-MM-DD HH:mm:ss", "YYYY-MM-DD HH:mm", "YYYY-MM-DD" and the same
// with a "T" instead of the space, read in [Location]; RFC 3339 and those
// layouts followed by a zone offset ("+07:00", "+0700", "Z"), read in
// their own zone; and unix seconds (milliseconds from 10^12 on) as 9 to 16
// digits.
// Fractional seconds are accepted. The empty string, "null" and MySQL's
// zero date "0000-00-00 00:00:00" give the zero time.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "null") || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, s, jakarta()); err == nil {
			return inRange(t, s)
		}
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return inRange(t, s)
		}
	}
	// Unix seconds have had 10 digits since 2001; shorter digit strings
	// ("20240902") are something else.
	if isInteger(s) && s[0] != '-' && len(s) >= 9 && len(s) <= 16 {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return unixTime(n)
		}
	}
	return time.Time{}, fmt.Errorf("flip: unknown timestamp format %.40q", s)
}

// inRange refuses times whose year is outside 1..9999 in Asia/Jakarta
// (they cannot be written back in Flip's format).
func inRange(t time.Time, s string) (time.Time, error) {
	if y := t.In(jakarta()).Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("flip: timestamp %.40q is out of range", s)
	}
	return t, nil
}

// FormatTimestamp formats t as Flip does: "YYYY-MM-DD HH:mm:ss" in [Location].
func FormatTimestamp(t time.Time) string { return t.In(jakarta()).Format(layoutSeconds) }

// UnmarshalJSON accepts a timestamp string (see [ParseTimestamp]), a unix
// time as a number, or null.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	if isAbsent(data) {
		t.Time = time.Time{}
		return nil
	}
	v, err := parseTime(data)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes Flip's "YYYY-MM-DD HH:mm:ss" form, or null when zero.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(FormatTimestamp(t.Time))
}

// UnixTime is a timestamp Flip sends as unix seconds (bill_payment's
// created_at). The zero UnixTime stands for JSON null.
type UnixTime struct{ time.Time }

// UnmarshalJSON accepts unix seconds as a number or numeric string (or
// any timestamp [ParseTimestamp] reads), or null.
func (t *UnixTime) UnmarshalJSON(data []byte) error {
	if isAbsent(data) {
		t.Time = time.Time{}
		return nil
	}
	v, err := parseTime(data)
	if err != nil {
		return fmt.Errorf("flip: unix time: %w", err)
	}
	t.Time = v
	return nil
}

// MarshalJSON writes unix seconds, or null when zero.
func (t UnixTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, t.Unix(), 10), nil
}
