package flip_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/flip"
)

// FuzzParseCallback feeds ParseCallback both a data field sent with the
// right token (to reach the decoder) and arbitrary bodies.
func FuzzParseCallback(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "callback", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), url.Values{"data": {string(data)}, "token": {testToken}}.Encode())
	}
	f.Add(`{}`, "data=%7B%7D&token="+url.QueryEscape(testToken))
	f.Add(`{"id":1,"bill_link_id":"2","amount":"3","status":"PENDING"}`, "token=wrong&data=x")
	f.Add(`{"id":"a","bill_link_id":1,"amount":1e3,"status":"FAILED","created_at":"2024-01-01 00:00"}`, "")
	// Flip's sample curl: nothing URL-encoded.
	f.Add(`{"id":"A","bill_link_id":1,"amount":"10000.00","status":"successful"}`,
		`data={"id":"FT1","bill_link_id":4740,"sender_email":"a+b@x.id","bill_title":"50% & more","amount":10000,"status":"SUCCESSFUL"}&token=`+testToken)
	f.Add(`{"id":"A","bill_link_id":1,"amount":1,"status":"PAID","created_at":"null"}`, `token=`+testToken+`&data={"a":"}"}&x`)

	f.Fuzz(func(t *testing.T, data, body string) {
		checkParse(t, url.Values{"data": {data}, "token": {testToken}}.Encode())
		checkParse(t, body)
	})
}

// fuzzClient is the client of the providers checkParse makes; it sends
// nothing.
var fuzzClient, _ = flip.NewClient("k", flip.Options{})

func checkParse(t *testing.T, body string) {
	sentinels := []error{flip.ErrMissingToken, flip.ErrInvalidToken, flip.ErrMalformedCallback, flip.ErrCallbackTooLarge}
	cb, err := flip.ParseCallback(callbackRequest(t, body), testToken, 4096)
	if err != nil {
		if cb != nil {
			t.Fatal("a callback and an error")
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error %v matches no sentinel", err)
	}
	if cb.ID == "" || cb.BillLinkID == "" || cb.Amount < 0 || strings.TrimSpace(cb.Status) == "" {
		t.Fatalf("accepted an incomplete callback %+v", cb)
	}
	if cb.MatchedToken != flip.TokenCurrent {
		t.Fatalf("MatchedToken = %q", cb.MatchedToken)
	}
	// The body without its token, as stored, no longer passes: whatever
	// its shape, RedactToken found the token the parser used.
	redacted := flip.RedactToken([]byte(body))
	if _, err := flip.ParseCallback(callbackRequest(t, string(redacted)), testToken, 4096); !errors.Is(err, flip.ErrMissingToken) {
		t.Fatalf("redacted body %q: err = %v, want ErrMissingToken", redacted, err)
	}
	if !json.Valid(cb.Raw) {
		t.Fatalf("Raw is not JSON: %q", cb.Raw)
	}
	// The provider's event keeps exactly that token-less body, and it
	// decodes to the same payment.
	p := flip.NewProvider(fuzzClient, flip.ProviderOptions{CallbackToken: testToken, MaxCallbackBytes: 4096})
	ev, err := p.ParseCallback(t.Context(), callbackRequest(t, body))
	if err != nil {
		t.Fatalf("Provider.ParseCallback refused what ParseCallback accepted: %v", err)
	}
	if !bytes.Equal(ev.Raw, redacted) {
		t.Fatalf("event Raw = %q, want the body without its token %q", ev.Raw, redacted)
	}
	decoded, err := p.DecodeCallback(t.Context(), ev.Raw)
	if err != nil {
		t.Fatalf("DecodeCallback(Raw): %v", err)
	}
	if !reflect.DeepEqual(decoded.Payment, ev.Payment) {
		t.Fatalf("DecodeCallback(Raw) = %+v, want %+v", decoded.Payment, ev.Payment)
	}
	// What CallbackForm builds from an accepted callback is accepted and
	// decodes to the same callback (JSON cannot carry invalid UTF-8, so
	// compare after one normalising trip).
	again, err := flip.ParseCallback(callbackRequest(t, flip.CallbackForm(testToken, *cb).Encode()), testToken, 1<<20)
	if err != nil {
		t.Fatalf("re-encoded callback refused: %v", err)
	}
	third, err := flip.ParseCallback(callbackRequest(t, flip.CallbackForm(testToken, *again).Encode()), testToken, 1<<20)
	if err != nil {
		t.Fatalf("re-re-encoded callback refused: %v", err)
	}
	again.Raw, third.Raw = nil, nil
	if !again.CreatedAt.Equal(third.CreatedAt) {
		t.Fatalf("created_at changed: %v -> %v", again.CreatedAt, third.CreatedAt)
	}
	again.CreatedAt = third.CreatedAt
	if !reflect.DeepEqual(again, third) {
		t.Fatalf("round trip changed the callback:\n%+v\n%+v", again, third)
	}
}

func FuzzDecodeBill(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"link_id":"9223372036854775808","amount":"1","expired_date":1658379743,"is_address_required":"1"}`))
	f.Add([]byte(`{"link_id":null,"customer":null,"bill_payment":{"created_at":"1"}}`))
	f.Add([]byte(`{"expired_date":99999999999999999,"bill_payment":{"created_at":-99999999999999}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var b flip.Bill
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		if !json.Valid(b.Raw) {
			t.Fatalf("Raw is not JSON: %q", b.Raw)
		}
		if b.LinkURL != "" && !strings.Contains(b.LinkURL, "://") {
			t.Fatalf("link URL %q is not absolute", b.LinkURL)
		}
		// Encoding is stable: encode, decode, encode gives the same bytes.
		first, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var back flip.Bill
		if err := json.Unmarshal(first, &back); err != nil {
			t.Fatalf("decoding our own encoding %s: %v", first, err)
		}
		second, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("unstable encoding:\n%s\n%s", first, second)
		}
	})
}
