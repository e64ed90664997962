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

// UnmarshalJSON accepts a JSON number, a JSON string or null (the empty ID).
// A number must be an integer written without fraction or exponent.
func (id *ID) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
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
// string; null and "" decode as 0 with set false.
type flexInt struct {
	v   int64
	set bool
}

func (n *flexInt) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*n = flexInt{}
		return nil
	}
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = flexInt{}
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("flip: want an integer, got %.32q", s)
	}
	*n = flexInt{v: v, set: true}
	return nil
}

// flag decodes Flip's 0/1 flags (also true/false and "0"/"1").
type flag bool

func (f *flag) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(data)), `"`) {
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

// Timestamp is one of Flip's zone-less "YYYY-MM-DD HH:mm:ss" (or
// "YYYY-MM-DD HH:mm") timestamps, read in [Location]. The zero Timestamp
// stands for JSON null or "".
type Timestamp struct{ time.Time }

// ParseTimestamp parses Flip's timestamp text in [Location]. It accepts
// "YYYY-MM-DD HH:mm:ss", "YYYY-MM-DD HH:mm", "YYYY-MM-DD" and RFC 3339.
// The empty string gives the zero time.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{layoutSeconds, layoutMinutes, layoutDate} {
		if t, err := time.ParseInLocation(layout, s, jakarta()); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("flip: unknown timestamp format %.40q", s)
}

// FormatTimestamp formats t as Flip does: "YYYY-MM-DD HH:mm:ss" in [Location].
func FormatTimestamp(t time.Time) string { return t.In(jakarta()).Format(layoutSeconds) }

// UnmarshalJSON accepts a timestamp string, a unix time in seconds, or null.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	if len(data) > 0 && data[0] != '"' {
		var u UnixTime
		if err := u.UnmarshalJSON(data); err != nil {
			return err
		}
		t.Time = u.Time
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	v, err := ParseTimestamp(s)
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

// UnmarshalJSON accepts unix seconds as a number or numeric string, or null.
func (t *UnixTime) UnmarshalJSON(data []byte) error {
	var n flexInt
	if err := n.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("flip: unix time: %w", err)
	}
	if !n.set {
		t.Time = time.Time{}
		return nil
	}
	v := time.Unix(n.v, 0).In(jakarta())
	if v.Year() < 1 || v.Year() > 9999 {
		return fmt.Errorf("flip: unix time %d is out of range", n.v)
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
