package flip_test

import (
	"context"
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
		{"unknown status", testToken, form(`{"id":"A","bill_link_id":1,"amount":10000,"status":"PAID"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
		{"bad created_at", testToken, form(`{"id":"A","bill_link_id":1,"amount":10000,"status":"FAILED","created_at":"yesterday"}`, testToken), "", 0, flip.ErrMalformedCallback, provider.CodeInvalidArgument},
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
			if cb.Status != tt.wantStatus || cb.Amount != tt.wantAmount || cb.BillLinkID != tt.wantLinkID || string(cb.Raw) != tt.data {
				t.Errorf("callback = %+v", cb)
			}
		})
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
