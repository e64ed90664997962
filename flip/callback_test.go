package flip_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// testToken looks like Flip's validation tokens (a bcrypt hash).
const testToken = "$2y$13$UsffNb9Y69sU4r5PzWgPwu038C28EUTM8wxSe4COTImnKbtQMnjzKxxsd"

func callbackRequest(t testing.TB, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/flip/callback", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func validData() string {
	return `{"id":"PGPWF1","bill_link":"flip.id/$co/#p","bill_link_id":130110,"bill_title":"Order 1","sender_name":"nisa",` +
		`"sender_email":"n@example.com","sender_bank":"mandiri","sender_bank_type":"virtual_account","amount":45000,` +
		`"status":"SUCCESSFUL","created_at":"2024-09-02 13:34:46"}`
}

func form(data, token string) string {
	v := url.Values{}
	if data != "" {
		v.Set("data", data)
	}
	if token != "" {
		v.Set("token", token)
	}
	return v.Encode()
}

func TestParseCallbackRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		configured  string
		body        string
		contentType string
		maxBytes    int64
		want        error
		wantCode    provider.ErrorCode
	}{
		{"no token configured fails closed", "", form(validData(), testToken), "", 0, flip.ErrTokenNotConfigured, provider.CodeUnauthenticated},
		{"blank token configured fails closed", " \t\n", form(validData(), " \t\n"), "", 0, flip.ErrTokenNotConfigured, provider.CodeUnauthenticated},
		{"no token sent", testToken, form(validData(), ""), "", 0, flip.ErrMissingToken, provider.CodeUnauthenticated},
		{"wrong token", testToken, form(validData(), "wrong"), "", 0, flip.ErrInvalidToken, provider.CodeUnauthenticated},
		{"token prefix", testToken, form(validData(), testToken[:10]), "", 0, flip.ErrInvalidToken, provider.CodeUnauthenticated},
		{"token with suffix", testToken, form(validData(), testToken+"x"), "", 0, flip.ErrInvalidToken, provider.CodeUnauthenticated},
		{"JSON content type", testToken, form(validData(), testToken), "application/json", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"no content type", testToken, form(validData(), testToken), "-", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"body over the cap", testToken, form(validData(), testToken), "", 100, flip.ErrCallbackTooLarge, provider.CodeTooLarge},
		{"huge body, default cap", testToken, form(strings.Repeat("x", 70<<10), testToken), "", 0, flip.ErrCallbackTooLarge, provider.CodeTooLarge},
		{"bad form encoding", testToken, "data=%zz&token=" + url.QueryEscape(testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"no data", testToken, form("", testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"data not JSON", testToken, form("id=1", testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"data a JSON array", testToken, form(`[1]`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"no id", testToken, form(`{"bill_link_id":1,"amount":10000,"status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"no bill_link_id", testToken, form(`{"id":"A","amount":10000,"status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"no amount", testToken, form(`{"id":"A","bill_link_id":1,"status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"null amount", testToken, form(`{"id":"A","bill_link_id":1,"amount":null,"status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"negative amount", testToken, form(`{"id":"A","bill_link_id":1,"amount":-1,"status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"fractional amount", testToken, form(`{"id":"A","bill_link_id":1,"amount":10000.5,"status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"non-numeric amount", testToken, form(`{"id":"A","bill_link_id":1,"amount":"ten","status":"SUCCESSFUL"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"no status", testToken, form(`{"id":"A","bill_link_id":1,"amount":10000}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"blank status", testToken, form(`{"id":"A","bill_link_id":1,"amount":10000,"status":" "}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"status the string null", testToken, form(`{"id":"A","bill_link_id":1,"amount":10000,"status":"null"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"amount the string null", testToken, form(`{"id":"A","bill_link_id":1,"amount":"null","status":"FAILED"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"fractional decimal string amount", testToken, form(`{"id":"A","bill_link_id":1,"amount":"10000.50","status":"FAILED"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"amount with thousands dots", testToken, form(`{"id":"A","bill_link_id":1,"amount":"10.000","status":"FAILED"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"amount beyond int64", testToken, form(`{"id":"A","bill_link_id":1,"amount":9223372036854775808,"status":"FAILED"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"id an object", testToken, form(`{"id":{"v":1},"bill_link_id":1,"amount":10000,"status":"FAILED"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"unencoded data that is not one JSON object", testToken, `data={"id":"A"}}&token=` + testToken, "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"unencoded data cut short", testToken, `data={"id":"A","amount":1&token=` + testToken, "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"unencoded body, wrong token", testToken, `data={"id":"A","bill_link_id":1,"amount":10000,"status":"FAILED"}&token=wrong`, "", 0, flip.ErrInvalidToken, provider.CodeUnauthenticated},
		{"unencoded body, token URL-encoded", testToken, `data={"id":"A","bill_link_id":1,"amount":10000,"status":"FAILED"}&token=` + url.QueryEscape(testToken), "", 0, flip.ErrInvalidToken, provider.CodeUnauthenticated},
		{"fractional bill_link_id", testToken, form(`{"id":"A","bill_link_id":1.5,"amount":10000,"status":"FAILED"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := callbackRequest(t, tt.body)
			switch tt.contentType {
			case "-":
				r.Header.Del("Content-Type")
			case "":
			default:
				r.Header.Set("Content-Type", tt.contentType)
			}
			cb, err := flip.ParseCallback(r, tt.configured, tt.maxBytes)
			if cb != nil {
				t.Errorf("got a callback %+v", cb)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, tt.wantCode) || provider.CodeOf(err) != tt.wantCode {
				t.Errorf("err = %v, want code %v (CodeOf: %v)", err, tt.wantCode, provider.CodeOf(err))
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("token in error %q", err)
			}
		})
	}
}

func TestParseCallbackAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		data        string
		contentType string
		wantStatus  string
		wantAmount  int64
		wantLinkID  flip.ID
	}{
		{"documented callback", validData(), "", "SUCCESSFUL", 45000, "130110"},
		{"charset parameter", validData(), "application/x-www-form-urlencoded; charset=utf-8", "SUCCESSFUL", 45000, "130110"},
		{"amount as string, id as string", `{"id":"A","bill_link_id":"2502091430251230000","amount":"10000","status":"CANCELLED"}`, "", "CANCELLED", 10000, "2502091430251230000"},
		{"older spelling", `{"id":"A","bill_link_id":7,"amount":10000,"status":"CANCELED"}`, "", "CANCELED", 10000, "7"},
		{"pending tolerated", `{"id":"A","bill_link_id":7,"amount":10000,"status":"PENDING"}`, "", "PENDING", 10000, "7"},
		{"unknown fields and nulls", `{"id":"A","bill_link_id":7,"amount":10000,"status":"FAILED","sender_email":null,"new":{"x":[1]}}`, "", "FAILED", 10000, "7"},
		{"zero amount of an unpaid open bill", `{"id":"A","bill_link_id":7,"amount":0,"status":"CANCELLED"}`, "", "CANCELLED", 0, "7"},
		{"numeric payment id", `{"id":123,"bill_link_id":7,"amount":10000,"status":"FAILED"}`, "", "FAILED", 10000, "7"},
		// Unknown statuses are kept for the caller to record and flag: a
		// refusal would make Flip retry five times, then drop the payment.
		{"unknown status kept", `{"id":"A","bill_link_id":7,"amount":10000,"status":"PAID"}`, "", "PAID", 10000, "7"},
		{"lower-case status kept as sent", `{"id":"A","bill_link_id":7,"amount":10000,"status":"successful"}`, "", "successful", 10000, "7"},
		{"created_at not understood", `{"id":"A","bill_link_id":7,"amount":10000,"status":"FAILED","created_at":"yesterday"}`, "", "FAILED", 10000, "7"},
		{"created_at the string null", `{"id":"A","bill_link_id":7,"amount":10000,"status":"FAILED","created_at":"null"}`, "", "FAILED", 10000, "7"},
		{"created_at RFC 3339", `{"id":"A","bill_link_id":7,"amount":10000,"status":"FAILED","created_at":"2024-09-02T13:34:46+07:00"}`, "", "FAILED", 10000, "7"},
		{"whole decimal amount", `{"id":"A","bill_link_id":7,"amount":10000.0,"status":"FAILED"}`, "", "FAILED", 10000, "7"},
		{"whole decimal string amount", `{"id":"A","bill_link_id":7,"amount":"10000.00","status":"FAILED"}`, "", "FAILED", 10000, "7"},
		{"amount with an exponent", `{"id":"A","bill_link_id":7,"amount":1e4,"status":"FAILED"}`, "", "FAILED", 10000, "7"},
		{"sender fields of odd types", `{"id":"A","bill_link_id":7,"amount":10000,"status":"FAILED","sender_name":42,"sender_email":"null","sender_bank":["bni"]}`, "", "FAILED", 10000, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := callbackRequest(t, form(tt.data, testToken))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			cb, err := flip.ParseCallback(r, testToken, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cb.Status != tt.wantStatus || cb.Amount != tt.wantAmount || cb.BillLinkID != tt.wantLinkID || string(cb.Raw) != tt.data ||
				cb.MatchedToken != flip.TokenCurrent {
				t.Errorf("callback = %+v", cb)
			}
		})
	}
}

// The decoder tolerates white space JSON does not allow around the data
// (a vertical tab, a no-break space); Raw is still valid JSON, so a store
// keeping it in a JSON column can. Data already valid is kept as sent.
func TestParseCallbackRawIsAlwaysJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, pad string
		asSent    bool
	}{
		{"vertical tab", "\v", false},
		{"no-break space", "\u00a0", false},
		{"newline, valid JSON", "\n", true},
	} {
		data := validData() + tt.pad
		cb, err := flip.ParseCallback(callbackRequest(t, url.Values{"data": {data}, "token": {testToken}}.Encode()), testToken, 0)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !json.Valid(cb.Raw) {
			t.Errorf("%s: Raw %q is not JSON", tt.name, cb.Raw)
		}
		if tt.asSent && string(cb.Raw) != data {
			t.Errorf("%s: Raw = %q, want the data as sent", tt.name, cb.Raw)
		}
	}
}

func TestParseCallbackLeavesTheRequestReadable(t *testing.T) {
	t.Parallel()
	body := form(validData(), testToken)
	r := callbackRequest(t, body)
	if _, err := flip.ParseCallback(r, testToken, 0); err != nil {
		t.Fatal(err)
	}
	again, err := io.ReadAll(r.Body)
	if err != nil || string(again) != body {
		t.Errorf("body after parsing = %q (%v), want the original", again, err)
	}
	if got := r.PostFormValue("data"); got != validData() {
		t.Errorf("PostFormValue(data) = %q", got)
	}
}

func TestParseCallbackAfterParseForm(t *testing.T) {
	t.Parallel()
	// A middleware already consumed the body with ParseForm.
	r := callbackRequest(t, form(validData(), testToken))
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	cb, err := flip.ParseCallback(r, testToken, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cb.ID != "PGPWF1" {
		t.Errorf("callback = %+v", cb)
	}
}

func TestCallbackRoundTrip(t *testing.T) {
	t.Parallel()
	want := flip.Callback{
		ID: "PGPWF10117252588865176637", BillLink: "flip.id/pwf-sandbox/$co/#bill-1", BillLinkID: "2502091430251230000",
		BillTitle: "Order 1", SenderName: "Jon", SenderEmail: "jon@example.com", SenderBank: "bni",
		SenderBankType: "virtual_account", Amount: 45000, Status: "SUCCESSFUL",
		CreatedAt: time.Date(2024, 9, 2, 13, 34, 46, 0, flip.Location()), ReferenceID: "ref-9",
	}
	r, err := flip.NewCallbackRequest(context.Background(), "http://example.test/flip/callback", testToken, want)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request = %s with %q", r.Method, r.Header.Get("Content-Type"))
	}
	got, err := flip.ParseCallback(r, testToken, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Flip's shape: bill_link_id is a JSON number, created_at has seconds.
	if !strings.Contains(string(got.Raw), `"bill_link_id":2502091430251230000`) ||
		!strings.Contains(string(got.Raw), `"created_at":"2024-09-02 13:34:46"`) {
		t.Errorf("data = %s", got.Raw)
	}
	got.Raw = nil
	if got.MatchedToken != flip.TokenCurrent {
		t.Errorf("MatchedToken = %q, want current", got.MatchedToken)
	}
	want.MatchedToken = flip.TokenCurrent
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v", got.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("round trip\n got %+v\nwant %+v", *got, want)
	}
}

func TestCallbackFormOmitsEmptyOptionalFields(t *testing.T) {
	t.Parallel()
	v := flip.CallbackForm("tok", flip.Callback{ID: "A", BillLinkID: "1", Amount: 10000, Status: "FAILED"})
	if got, want := v.Get("data"), `{"id":"A","bill_link_id":1,"amount":10000,"status":"FAILED"}`; got != want {
		t.Errorf("data = %s\nwant   %s", got, want)
	}
	if v.Get("token") != "tok" {
		t.Errorf("token = %q", v.Get("token"))
	}
}

// flipSampleBody is the body of Flip's sample curl (-d 'data={...}&token=...'):
// curl sends -d as it is, so nothing in it is URL-encoded.
const flipSampleBody = `data={"id":"FT1","bill_link":"flip.id/$<company_code>/#<product_code>","bill_link_id":4740,` +
	`"bill_title":"Cimol Goreng","sender_name":"Jon Doe","sender_bank":"bni","sender_email":"email@email.com",` +
	`"amount":10000,"status":"SUCCESSFUL","sender_bank_type":"bank_account","created_at":"2021-11-29 10:10:10"}&token=` + testToken

func TestParseCallbackUnencodedBody(t *testing.T) {
	t.Parallel()
	odd := `{"id":"PGPWF9","bill_link_id":7,"bill_title":"Diskon 50%+ongkir & gratis=ya","sender_name":"A+B",` +
		`"sender_email":"a+b@example.com","amount":"45000","status":"SUCCESSFUL","note":"100%zz {}"}`
	tests := []struct {
		name      string
		body      string
		wantData  string
		wantTitle string
		wantEmail string
	}{
		{"Flip's sample curl", flipSampleBody, flipSampleBody[len("data="):strings.Index(flipSampleBody, "&token=")],
			"Cimol Goreng", "email@email.com"},
		// "+" stays a plus and "%" a percent; "&" and "=" inside the JSON
		// do not split it.
		{"plus, percent, ampersand kept as sent", "data=" + odd + "&token=" + testToken, odd, "Diskon 50%+ongkir & gratis=ya", "a+b@example.com"},
		{"token first", "token=" + testToken + "&data=" + odd, odd, "Diskon 50%+ongkir & gratis=ya", "a+b@example.com"},
		{"other fields around", "x=1&data=" + odd + "&token=" + testToken + "&y=2", odd, "Diskon 50%+ongkir & gratis=ya", "a+b@example.com"},
		// A form-encoded body is decoded as a form: "%2B" is a plus there.
		{"form-encoded as usual", url.Values{"data": {odd}, "token": {testToken}}.Encode(), odd, "Diskon 50%+ongkir & gratis=ya", "a+b@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := callbackRequest(t, tt.body)
			cb, err := flip.ParseCallback(r, testToken, 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(cb.Raw) != tt.wantData || cb.BillTitle != tt.wantTitle || cb.SenderEmail != tt.wantEmail {
				t.Errorf("callback = %+v\nRaw %s", cb, cb.Raw)
			}
			if r.PostForm.Get("data") != tt.wantData || r.PostForm.Get("token") != testToken {
				t.Errorf("PostForm = %v", r.PostForm)
			}
			if again, _ := io.ReadAll(r.Body); string(again) != tt.body {
				t.Errorf("body after parsing = %q, want it as sent", again)
			}
		})
	}
}

func TestRedactToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"data=%7B%7D&token=secret", "data=%7B%7D"},
		{"token=secret&data=%7B%7D", "data=%7B%7D"},
		{"a=1&&token=s&b=2", "a=1&&b=2"},
		{"to%6Ben=secret&data=x", "data=x"},
		{"", ""},
		// An unencoded JSON value is kept whole, even text that looks
		// like a token field inside it.
		{`data={"t":"a&token=b"}&token=secret`, `data={"t":"a&token=b"}`},
		{flipSampleBody, flipSampleBody[:strings.Index(flipSampleBody, "&token=")]},
		// Not readable as a body: every "&" splits, the token still goes.
		{`data={"t":"a"}}&token=secret`, `data={"t":"a"}}`},
	}
	for _, tt := range tests {
		if got := string(flip.RedactToken([]byte(tt.in))); got != tt.want {
			t.Errorf("RedactToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCallbackVerifierTokenRotation(t *testing.T) {
	t.Parallel()
	const oldToken, newToken = "$2y$13$old-token-still-in-flight", "$2y$13$new-token-from-the-dashboard"
	tests := []struct {
		name      string
		v         flip.CallbackVerifier
		sent      string
		wantMatch flip.TokenMatch
		wantErr   error
	}{
		{"the new token", flip.CallbackVerifier{Token: newToken, PreviousToken: oldToken}, newToken, flip.TokenCurrent, nil},
		{"the old token during the rollout", flip.CallbackVerifier{Token: newToken, PreviousToken: oldToken}, oldToken, flip.TokenPrevious, nil},
		{"neither", flip.CallbackVerifier{Token: newToken, PreviousToken: oldToken}, "$2y$13$guess", "", flip.ErrInvalidToken},
		{"the old token one character short", flip.CallbackVerifier{Token: newToken, PreviousToken: oldToken}, oldToken[:len(oldToken)-1], "", flip.ErrInvalidToken},
		{"none sent", flip.CallbackVerifier{Token: newToken, PreviousToken: oldToken}, "", "", flip.ErrMissingToken},
		{"the old token after the rollout", flip.CallbackVerifier{Token: newToken}, oldToken, "", flip.ErrInvalidToken},
		{"a blank previous token accepts nothing more", flip.CallbackVerifier{Token: newToken, PreviousToken: " "}, " ", "", flip.ErrInvalidToken},
		{"both the same", flip.CallbackVerifier{Token: newToken, PreviousToken: newToken}, newToken, flip.TokenCurrent, nil},
		// The previous token never stands in for the current one: no
		// current token is still fail closed.
		{"only a previous token configured", flip.CallbackVerifier{PreviousToken: oldToken}, oldToken, "", flip.ErrTokenNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cb, err := tt.v.Parse(callbackRequest(t, form(validData(), tt.sent)))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if cb != nil {
					t.Errorf("a callback with an error: %+v", cb)
				}
				for _, tok := range []string{oldToken, newToken} {
					if strings.Contains(err.Error(), tok) {
						t.Errorf("token in error %q", err)
					}
				}
				return
			}
			if cb.MatchedToken != tt.wantMatch {
				t.Errorf("MatchedToken = %q, want %q", cb.MatchedToken, tt.wantMatch)
			}
		})
	}
}
