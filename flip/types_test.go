package flip

import (
	"encoding/json"
	"testing"
	"time"
)

func TestIDDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json    string
		want    ID
		wantErr bool
	}{
		{`130068`, "130068", false},
		{`"110561"`, "110561", false},
		{`2502091430251230000`, "2502091430251230000", false}, // 19 digits, beyond float64 precision
		{`99999999999999999999999`, "99999999999999999999999", false},
		{`"PGPWF10117252552383992345"`, "PGPWF10117252552383992345", false},
		{`null`, "", false},
		{`""`, "", false},
		{`1.5`, "", true},
		{`1e3`, "", true},
		{`true`, "", true},
		{`{}`, "", true},
	}
	for _, tt := range tests {
		var got ID
		err := json.Unmarshal([]byte(tt.json), &got)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q, error %v", tt.json, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestIDEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   ID
		want string
	}{
		{"130068", `130068`},
		{"2502091430251230000", `2502091430251230000`},
		{"PGPWF1", `"PGPWF1"`},
		{"007", `"007"`},
		{"-1", `"-1"`},
		{"0", `0`},
		{"", `null`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.id)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%q) = %s, %v; want %s", tt.id, got, err, tt.want)
		}
		var back ID
		if err := json.Unmarshal(got, &back); err != nil || back != tt.id {
			t.Errorf("round trip of %q = %q, %v", tt.id, back, err)
		}
	}
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	loc := Location()
	tests := []struct {
		json    string
		want    time.Time
		wantErr bool
	}{
		{`"2021-11-29 10:10:10"`, time.Date(2021, 11, 29, 10, 10, 10, 0, loc), false},
		{`"2022-12-30 15:50"`, time.Date(2022, 12, 30, 15, 50, 0, 0, loc), false},
		{`"2022-12-30"`, time.Date(2022, 12, 30, 0, 0, 0, 0, loc), false},
		{`"2022-12-30T15:50:00+07:00"`, time.Date(2022, 12, 30, 15, 50, 0, 0, loc), false},
		{`1658379743`, time.Unix(1658379743, 0), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"30/12/2022"`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tt := range tests {
		var got Timestamp
		err := json.Unmarshal([]byte(tt.json), &got)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, error %v", tt.json, got, err, tt.want, tt.wantErr)
		}
	}
	// Flip's wall clock is UTC+7 whatever zone the time is given in.
	if got := FormatTimestamp(time.Date(2024, 9, 2, 6, 34, 46, 0, time.UTC)); got != "2024-09-02 13:34:46" {
		t.Errorf("FormatTimestamp = %q", got)
	}
	if got, _ := json.Marshal(Timestamp{}); string(got) != "null" {
		t.Errorf("zero Timestamp marshals as %s", got)
	}
	if _, offset := time.Now().In(loc).Zone(); offset != 7*60*60 {
		t.Errorf("Location() offset = %d, want +07:00", offset)
	}
}

func TestUnixTime(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`1725255238`, `"1725255238"`} {
		var u UnixTime
		if err := json.Unmarshal([]byte(in), &u); err != nil || u.Unix() != 1725255238 {
			t.Errorf("Unmarshal(%s) = %v, %v", in, u, err)
		}
		if out, _ := json.Marshal(u); string(out) != "1725255238" {
			t.Errorf("Marshal = %s", out)
		}
	}
	var u UnixTime
	if err := json.Unmarshal([]byte(`"soon"`), &u); err == nil {
		t.Error("accepted a non-number")
	}
}

func TestFlexibleNumbersAndFlags(t *testing.T) {
	t.Parallel()
	var b Bill
	err := json.Unmarshal([]byte(`{"link_id":"1","amount":"45000","is_address_required":true,"is_phone_number_required":"1","step":"2"}`), &b)
	if err != nil || b.Amount != 45000 || !b.IsAddressRequired || !b.IsPhoneNumberRequired || b.Step != StepPaymentMethod {
		t.Errorf("bill = %+v, %v", b, err)
	}
	// A flag that is neither 0 nor 1 is one odd field: recorded, not fatal.
	if err := json.Unmarshal([]byte(`{"link_id":"1","is_address_required":2}`), &b); err != nil || b.IsAddressRequired ||
		len(b.Problems) != 1 || b.Problems[0].Field != "is_address_required" || b.LinkID != "1" {
		t.Errorf("flag 2: bill = %+v, %v; want the flag false and listed in Problems", b, err)
	}
	out, err := json.Marshal(Bill{LinkID: "5", IsAddressRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil || m["is_address_required"] != 1.0 || m["is_phone_number_required"] != 0.0 || m["link_id"] != 5.0 {
		t.Errorf("Marshal = %s", out)
	}
}

func TestAbsoluteURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"flip.id/pwf-sandbox/$testflip/#test-1542": "https://flip.id/pwf-sandbox/$testflip/#test-1542",
		"flip.id/$co/#p?next=https://x.example":    "https://flip.id/$co/#p?next=https://x.example",
		"https://flip.id/x":                        "https://flip.id/x",
		"http://localhost:8080/checkout/1":         "http://localhost:8080/checkout/1",
		"//flip.id/x":                              "https://flip.id/x",
		"  flip.id/x ":                             "https://flip.id/x",
		// A loopback host is a local server (the fake): plain http.
		"127.0.0.1:9090/pwf/checkout/7": "http://127.0.0.1:9090/pwf/checkout/7",
		"localhost:8080/x":              "http://localhost:8080/x",
		"[::1]:8080/x":                  "http://[::1]:8080/x",
		"127.0.0.1/x":                   "http://127.0.0.1/x",
		"localhost.evil.example/x":      "https://localhost.evil.example/x",
		"":                              "",
	}
	for in, want := range tests {
		if got := absoluteURL(in); got != want {
			t.Errorf("absoluteURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := &Client{backoff: 200 * time.Millisecond}
	for attempt := 1; attempt <= 20; attempt++ {
		full := min(200*time.Millisecond<<(attempt-1), maxBackoff)
		if attempt > 10 {
			full = maxBackoff
		}
		for range 20 {
			d := c.backoffFor(attempt)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	big := &Client{backoff: time.Minute}
	if d := big.backoffFor(5); d > time.Minute {
		t.Errorf("a base above the cap is the cap: got %v", d)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := map[string]time.Duration{"": 0, "2": 2 * time.Second, "0": 0, "-3": 0, "soon": 0, "3600": maxBackoff}
	for in, want := range tests {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
