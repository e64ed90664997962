package flip

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIsAbsent(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `null`, ` null `, `""`, `"  "`, `"null"`, `"NULL"`, `" Null "`} {
		if !isAbsent(json.RawMessage(in)) {
			t.Errorf("isAbsent(%s) = false, want true", in)
		}
	}
	for _, in := range []string{`0`, `"0"`, `false`, `"nullable"`, `"-"`, `{}`, `[]`} {
		if isAbsent(json.RawMessage(in)) {
			t.Errorf("isAbsent(%s) = true, want false", in)
		}
	}
}

func TestParseText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{`"Jon Snow"`, "Jon Snow", false},
		{`"a+b%20c"`, "a+b%20c", false},
		// A number sent for a string keeps its exact text: a 17-digit VA
		// number never passes through a float.
		{`65143710135726484`, "65143710135726484", false},
		{`-12`, "-12", false},
		{`1.50`, "1.50", false},
		{`true`, "", true},
		{`{"a":1}`, "", true},
		{`["x"]`, "", true},
	}
	for _, tt := range tests {
		got, err := parseText(json.RawMessage(tt.in))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseText(%s) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr error // nil: accepted; errAny: any error
	}{
		{`45000`, 45000, nil},
		{`"45000"`, 45000, nil},
		{`" 45000 "`, 45000, nil},
		{`45000.0`, 45000, nil},
		{`45000.00`, 45000, nil},
		{`"45000.00"`, 45000, nil},
		{`"10000.0"`, 10000, nil},
		{`4.5e4`, 45000, nil},
		{`"4.5E4"`, 45000, nil},
		{`0`, 0, nil},
		{`9223372036854775807`, 9223372036854775807, nil},
		// A fraction of a rupiah is an error, never rounded.
		{`45000.5`, 0, ErrFractionalAmount},
		{`"45000.01"`, 0, ErrFractionalAmount},
		{`1e-3`, 0, ErrFractionalAmount},
		// "10.000" is ten, or ten thousand written the Indonesian way.
		{`"10.000"`, 0, ErrAmbiguousAmount},
		{`"1.500.000"`, 0, ErrAmbiguousAmount},
		// A JSON number has no thousands separators: 10.000 is ten.
		{`10.000`, 10, nil},
		{`-1`, 0, errAny},
		{`"-45000"`, 0, errAny},
		{`9223372036854775808`, 0, errAny},
		{`1e30`, 0, errAny},
		{`"Rp45.000"`, 0, errAny},
		{`"45,000"`, 0, errAny},
		{`"0x10"`, 0, errAny},
		{`"1/2"`, 0, errAny},
		{`"Inf"`, 0, errAny},
		{`"NaN"`, 0, errAny},
		{`true`, 0, errAny},
		{`{}`, 0, errAny},
		{`"1e99999"`, 0, errAny},
	}
	for _, tt := range tests {
		got, err := parseAmount(json.RawMessage(tt.in))
		switch {
		case tt.wantErr == nil && (err != nil || got != tt.want):
			t.Errorf("parseAmount(%s) = %d, %v; want %d", tt.in, got, err, tt.want)
		case tt.wantErr == errAny && err == nil:
			t.Errorf("parseAmount(%s) = %d, want an error", tt.in, got)
		case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("parseAmount(%s) = %d, %v; want %v", tt.in, got, err, tt.wantErr)
		}
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

func TestParseTimestampFormats(t *testing.T) {
	t.Parallel()
	wib := Location()
	at := time.Date(2024, 9, 2, 13, 34, 46, 0, wib)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2024-09-02 13:34:46", at, false},                                 // Flip's own, WIB
		{"2024-09-02 13:34", at.Truncate(time.Minute), false},              // expired_date as documented
		{"2024-09-02", time.Date(2024, 9, 2, 0, 0, 0, 0, wib), false},      // a date
		{"2024-09-02T13:34:46", at, false},                                 // ISO without a zone: WIB
		{"2024-09-02T13:34:46.250", at.Add(250 * time.Millisecond), false}, // with a fraction
		{"2024-09-02 13:34:46.000000", at, false},
		{"2024-09-02T13:34:46+07:00", at, false}, // RFC 3339
		{"2024-09-02T06:34:46Z", at, false},
		{"2024-09-02T06:34:46.5Z", at.Add(500 * time.Millisecond), false},
		{"2024-09-02T13:34:46+0700", at, false}, // Flip's X-TIMESTAMP style
		{"2024-09-02 06:34:46Z", at, false},
		{"2024-09-02 13:34:46+07:00", at, false},
		{"2024-09-02 13:34:46 +0700", at, false},
		{"1725258886", at, false},       // unix seconds as text
		{"1725258886000", at, false},    // unix milliseconds as text
		{"20240902", time.Time{}, true}, // not a unix time
		{"-1725258886", time.Time{}, true},
		{"", time.Time{}, false},
		{"  ", time.Time{}, false},
		{"null", time.Time{}, false},
		{"NULL", time.Time{}, false},
		{"0000-00-00 00:00:00", time.Time{}, false}, // MySQL's zero date
		{"0000-00-00", time.Time{}, false},
		{"yesterday", time.Time{}, true},
		{"02/09/2024", time.Time{}, true},
		{"2024-13-40 99:99:99", time.Time{}, true},
		{"10000-01-01T00:00:00Z", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if !got.Equal(tt.want) || (err != nil) != tt.wantErr {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseTimeNumbers(t *testing.T) {
	t.Parallel()
	at := time.Date(2022, 7, 21, 12, 2, 23, 0, Location())
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{`1658379743`, at, false},
		{`"1658379743"`, at, false},
		{`1658379743000`, at, false},
		{`1658379743.0`, at, false},
		{`1658379743.5`, time.Time{}, true},
		{`0`, time.Time{}, false},                // unset
		{`99999999999999999`, time.Time{}, true}, // milliseconds far past year 9999
		{`-99999999999999`, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseTime(json.RawMessage(tt.in))
		if !got.Equal(tt.want) || (err != nil) != tt.wantErr {
			t.Errorf("parseTime(%s) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestObjectReaderFieldNames(t *testing.T) {
	t.Parallel()
	var problems []FieldProblem
	o, err := newObjectReader([]byte(`{"Amount":"1","amount":2,"TITLE":"x"}`), "", &problems)
	if err != nil {
		t.Fatal(err)
	}
	// An exact name wins; otherwise case is ignored, as encoding/json does.
	if got := o.amount("amount"); got != 2 {
		t.Errorf("amount = %d, want the exact match 2", got)
	}
	if got := o.str("title"); got != "x" {
		t.Errorf("title = %q, want x", got)
	}
	for _, in := range []string{`[]`, `"x"`, `1`, `{`, ``} {
		if _, err := newObjectReader([]byte(in), "", &problems); err == nil {
			t.Errorf("newObjectReader(%s) accepted a non-object", in)
		}
	}
}

func TestFieldProblemError(t *testing.T) {
	t.Parallel()
	var problems []FieldProblem
	o, _ := newObjectReader([]byte(`{"bill_payment":{"amount":"12.5"}}`), "", &problems)
	o.object("bill_payment").amount("amount")
	if len(problems) != 1 {
		t.Fatalf("problems = %v", problems)
	}
	p := problems[0]
	if p.Field != "bill_payment.amount" || p.Value != `"12.5"` || !errors.Is(p, ErrFractionalAmount) {
		t.Errorf("problem = %+v (%v)", p, p)
	}
	problems = nil
	o, _ = newObjectReader([]byte(`{"created_at":`+jsonQuote(strings.Repeat("x", 100))+`}`), "", &problems)
	o.time("created_at")
	if len(problems) != 1 || len(problems[0].Value) > maxProblemValue+3 {
		t.Errorf("a long value is cut: %+v", problems)
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
