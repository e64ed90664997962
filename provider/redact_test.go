package provider_test

import (
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
