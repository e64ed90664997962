package console

import (
	"strings"
	"testing"
)

// TestRedactText: secret-looking values in free text are hidden wherever
// they appear; everything else is kept.
func TestRedactText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		secret string // must be gone
		keep   string // must stay
	}{
		{`receipt API answered 400: {"order_id":"o-1","signature_key":"abc123"}`, "abc123", `"order_id":"o-1"`},
		{`POST https://mail.example/send?token=xyz789&to=budi: 500`, "xyz789", "to=budi"},
		{`panic: bad body "{\"server_key\":\"SB-Mid-server-s3cr3t\",\"amount\":5}"`, "SB-Mid-server-s3cr3t", `\"amount\":5`},
		{`webhook refused: Authorization: Bearer eyJhbGciOi.payload.sig`, "eyJhbGciOi", "webhook refused"},
		{`password=hunter2 user=ana`, "hunter2", "user=ana"},
		{`api_key: k-42, retry later`, "k-42", "retry later"},
		{`{"Signature": 12345}`, "12345", `"Signature"`},
		{`mail server down`, "", "mail server down"},
	}
	for _, tt := range tests {
		got := redactText(tt.in)
		if tt.secret != "" && strings.Contains(got, tt.secret) {
			t.Errorf("redactText(%q) = %q, still shows %q", tt.in, got, tt.secret)
		}
		if !strings.Contains(got, tt.keep) {
			t.Errorf("redactText(%q) = %q, lost %q", tt.in, got, tt.keep)
		}
	}
}
