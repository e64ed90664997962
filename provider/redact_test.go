package provider_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

func TestRedactFields(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       []string // substrings that must stay
		gone       []string // substrings that must go
	}{
		{"json at every depth", `{"order_id":"A1","signature_key":"abc123","nested":{"api_token":"t0p"},"gross_amount":"45000.00","n":12.50}`,
			[]string{`"order_id": "A1"`, `"gross_amount": "45000.00"`, `"n": 12.50`, `"signature_key": "[redacted]"`, `"api_token": "[redacted]"`},
			[]string{"abc123", "t0p"}},
		{"form keeps other bytes", "data=%7B%22id%22%3A1%7D&token=%24s3cret&x=1",
			[]string{"data=%7B%22id%22%3A1%7D&", "&x=1", "token=%5Bredacted%5D"}, []string{"s3cret"}},
		{"escaped field name", "to%6Ben=s3cret", []string{"to%6Ben=%5Bredacted%5D"}, []string{"s3cret"}},
		{"not a body of fields", "hello", []string{"hello"}, nil},
		{"unreadable json comes back as it is", `{"id":"A1"`, []string{`{"id":"A1"`}, nil},
		{"unreadable json keeps all but its secrets", `{"id":"A1","token":"s3cret","nested":{"signature_key":"abc123"`,
			[]string{`{"id":"A1","token":"[redacted]","nested":{"signature_key":"[redacted]"`}, []string{"s3cret", "abc123"}},
		{"json cut inside a secret", `{"id":"A1","server_key":"s3cr`, []string{`"server_key":"[redacted]"`}, []string{"s3cr"}},
		{"json cut after a secret's name", `{"id":"A1","password":`, []string{`"password":"[redacted]"`}, nil},
		{"unquoted secret value in broken json", `{"token":12345,"id":`, []string{`"token":"[redacted]"`}, []string{"12345"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(provider.RedactFields([]byte(c.body), provider.SecretField))
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("RedactFields(%q) = %q, want it to hold %q", c.body, got, w)
				}
			}
			for _, g := range c.gone {
				if strings.Contains(got, g) {
					t.Errorf("RedactFields(%q) = %q still holds %q", c.body, got, g)
				}
			}
		})
	}
}

func TestSecretField(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "X-Callback-Token": true, "signature_key": true, "client_secret": true, "Password": true,
		"server_key": true, "order_id": false, "gross_amount": false, "data": false, "bill_link_id": false,
	} {
		if got := provider.SecretField(name); got != want {
			t.Errorf("SecretField(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzRedactFields: whatever the body, RedactFields never panics, and the
// value of a secret member never survives, in a JSON object, in a JSON
// object cut short anywhere after its secret's name, or in a form.
func FuzzRedactFields(f *testing.F) {
	f.Add("token", "s3cretvalue", "order-1", 10, `{"a":`)
	f.Add("signature_key", "abcdef0123", "x", 0, "token=1&data=2")
	f.Add("client_secret", "zzzzzzzz", `q"u\ote`, 40, "\x00{[")
	f.Fuzz(func(t *testing.T, name, value, other string, cut int, raw string) {
		provider.RedactFields([]byte(raw), provider.SecretField)
		if len(value) < 6 || !alnum(value) || !provider.SecretField(name) {
			return
		}
		mark := value[:6] // what must not show of the secret
		otherJSON, _ := json.Marshal(other)
		for _, s := range []string{name, other, string(otherJSON), url.QueryEscape(other), url.QueryEscape(name), provider.Redacted, `"data":{"n":1,`, `"id":`} {
			if strings.Contains(s, mark) {
				return
			}
		}
		leaks := func(body []byte) {
			t.Helper()
			if out := provider.RedactFields(body, provider.SecretField); strings.Contains(string(out), mark) {
				t.Fatalf("RedactFields(%s) = %s keeps the secret", body, out)
			}
		}
		body, err := json.Marshal(map[string]any{"id": other, "data": map[string]any{name: value, "n": 1}})
		if err != nil {
			return
		}
		leaks(body)
		quoted, _ := json.Marshal(name)
		if at := strings.Index(string(body), string(quoted)+":"); at >= 0 {
			leaks(body[:min(len(body), at+len(quoted)+1+max(cut, 0))])
		}
		leaks([]byte(url.Values{"data": {other}, name: {value}}.Encode()))
	})
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
