package ginadapter_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

var apiCfg = ginadapter.Config{APIPrefix: "/paylink", APIAuth: trustedCaller, ReturnPath: "/paylink/return"}

func TestCreateLink(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, apiCfg)
	body := `{"title":"Order 42","amount":45000,"type":"SINGLE","step":2,
		"expires_at":"2030-01-31T23:59:00+07:00","redirect_url":"https://shop.example/thanks",
		"customer":{"name":"Budi","email":"budi@example.com","phone":"0812"},
		"method":{"bank":"bni","type":"virtual_account"}}`
	rec := a.do(jsonRequest(http.MethodPost, "/paylink/links", body))
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	l := decode[provider.Link](t, rec)
	want := provider.Link{
		ID: l.ID, Provider: "mem", URL: l.URL, Title: "Order 42", Type: provider.LinkSingle,
		Amount: provider.Rupiah(45000), Status: provider.LinkActive, Step: provider.StepPaymentMethod,
		Customer:    provider.Customer{Name: "Budi", Email: "budi@example.com", Phone: "0812"},
		Method:      provider.PaymentMethod{Bank: "bni", Type: "virtual_account"},
		RedirectURL: "https://shop.example/thanks",
	}
	if !l.ExpiresAt.Equal(time.Date(2030, 1, 31, 16, 59, 0, 0, time.UTC)) {
		t.Errorf("expires_at = %v, want 2030-01-31 23:59 +07:00", l.ExpiresAt)
	}
	l.ExpiresAt, l.CreatedAt, l.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
	if l.ID == "" || l.URL == "" || !equalJSON(t, l, want) {
		t.Errorf("link = %+v\nwant %+v", l, want)
	}
	if got := rec.Header().Get("Location"); got != "/paylink/links/"+l.ID {
		t.Errorf("Location = %q", got)
	}
	if _, err := a.store.GetLink(context.Background(), "mem", l.ID); err != nil {
		t.Errorf("the link was not stored: %v", err)
	}
}

func TestCreateLinkIdempotency(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, apiCfg)
	create := func(header, body string) (int, provider.Link) {
		req := jsonRequest(http.MethodPost, "/paylink/links", body)
		if header != "" {
			req.Header.Set(ginadapter.IdempotencyKeyHeader, header)
		}
		rec := a.do(req)
		if rec.Code != http.StatusCreated {
			return rec.Code, provider.Link{}
		}
		return rec.Code, decode[provider.Link](t, rec)
	}
	_, first := create("order-7", `{"title":"Order 7","amount":10000}`)
	_, again := create("order-7", `{"title":"Order 7","amount":10000}`)
	_, byField := create("", `{"title":"Order 7","amount":10000,"idempotency_key":"order-7"}`)
	_, other := create("order-8", `{"title":"Order 8","amount":10000}`)
	if first.ID == "" || again.ID != first.ID || byField.ID != first.ID {
		t.Errorf("retries with one key made links %q, %q, %q; want one", first.ID, again.ID, byField.ID)
	}
	if other.ID == first.ID {
		t.Errorf("another key returned the same link %q", other.ID)
	}
	if code, _ := create("order-9", `{"title":"Order 9","amount":10000,"idempotency_key":"order-10"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("header and field disagreeing: status %d, want 422", code)
	}
}

// TestCreateLinkRefused specifies the error answers of POST /links: the
// status, and the JSON fields named with the failed rule.
func TestCreateLinkRefused(t *testing.T) {
	t.Parallel()
	type field struct{ Field, Rule string }
	tests := []struct {
		name    string
		body    string
		refuser bool // the provider refuses every link (Flip's field names)
		status  int
		fields  []field
	}{
		{name: "title missing", body: `{"amount":10000}`, status: 422, fields: []field{{"title", "required"}}},
		{name: "negative amount", body: `{"title":"t","amount":-1}`, status: 422, fields: []field{{"amount", "min"}}},
		{name: "unknown type", body: `{"title":"t","type":"DOUBLE"}`, status: 422, fields: []field{{"type", "oneof"}}},
		{name: "step out of range", body: `{"title":"t","step":4}`, status: 422, fields: []field{{"step", "max"}}},
		{name: "bad customer email", body: `{"title":"t","customer":{"email":"budi.example.com"}}`, status: 422, fields: []field{{"customer.email", "email"}}},
		{name: "relative redirect url", body: `{"title":"t","redirect_url":"thanks.html"}`, status: 422, fields: []field{{"redirect_url", "url"}}},
		{name: "expiry not RFC 3339", body: `{"title":"t","expires_at":"2030-01-31 23:59"}`, status: 422, fields: []field{{"expires_at", "datetime"}}},
		{name: "long method bank", body: `{"title":"t","method":{"bank":"` + strings.Repeat("b", 51) + `"}}`, status: 422, fields: []field{{"method.bank", "max"}}},
		{name: "amount of the wrong JSON type", body: `{"title":"t","amount":"45000"}`, status: 422, fields: []field{{"amount", "type"}}},
		{name: "every bad field at once", body: `{"amount":-5,"type":"X","customer":{"email":"nope"}}`, status: 422,
			fields: []field{{"title", "required"}, {"amount", "min"}, {"type", "oneof"}, {"customer.email", "email"}}},
		{name: "provider-side field errors use the JSON names", body: `{"title":"t","amount":10000}`, refuser: true, status: 422,
			fields: []field{{"customer.email", ""}, {"expires_at", ""}}},
		{name: "broken JSON", body: `{"title":`, status: 400},
		{name: "not JSON at all", body: `title=t`, status: 400},
		{name: "empty body", body: ``, status: 400},
		{name: "body over MaxBodyBytes", body: `{"title":"` + strings.Repeat("t", 70<<10) + `"}`, status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var wrap []func(*providertest.MemProvider) provider.Provider
			if tt.refuser {
				wrap = append(wrap, func(m *providertest.MemProvider) provider.Provider { return refusingProvider{m} })
			}
			a := newApp(t, nil, apiCfg, wrap...)
			rec := a.do(jsonRequest(http.MethodPost, "/paylink/links", tt.body))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			resp := decode[ginadapter.ErrorResponse](t, rec)
			if resp.Error == "" || resp.Code == "" {
				t.Errorf("error answer lacks a message or code: %s", rec.Body)
			}
			var got []field
			for _, f := range resp.Fields {
				got = append(got, field{f.Field, f.Rule})
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v (%s)", got, tt.fields, rec.Body)
			}
			links, err := a.store.(provider.Reader).ListLinks(context.Background(), provider.LinkFilter{Provider: "mem", Active: true, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(links) != 0 {
				t.Errorf("a refused request stored links: %+v", links)
			}
		})
	}
}

func TestGetLink(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, apiCfg)
	l := a.link(20000)

	rec := a.do(jsonRequest(http.MethodGet, "/paylink/links/"+l.ID, ""))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decode[ginadapter.LinkResponse](t, rec)
	if got.Link == nil || got.Link.ID != l.ID || got.Payments == nil || len(got.Payments) != 0 {
		t.Errorf("before payment: %s, want the link and an empty payments array", rec.Body)
	}

	p := a.settle(l.ID, provider.PaymentSuccessful)
	if rec := a.do(a.callback(cbPath, testToken, p)); rec.Code != 200 {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	rec = a.do(jsonRequest(http.MethodGet, "/paylink/links/"+l.ID, ""))
	got = decode[ginadapter.LinkResponse](t, rec)
	if len(got.Payments) != 1 || got.Payments[0].ID != p.ID || got.Payments[0].Status != provider.PaymentSuccessful {
		t.Errorf("after payment: payments %+v, want %s SUCCESSFUL", got.Payments, p.ID)
	}
	if got.Link.Status != provider.LinkInactive {
		t.Errorf("paid SINGLE link status %s, want INACTIVE", got.Link.Status)
	}

	rec = a.do(jsonRequest(http.MethodGet, "/paylink/links/404404", ""))
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown link: %d, want 404", rec.Code)
	}
	if resp := decode[ginadapter.ErrorResponse](t, rec); resp.Code != "not found" {
		t.Errorf("unknown link answer %s", rec.Body)
	}
}

// TestAPIAuth: the app's authorization guards the JSON routes, not the
// callback route.
func TestAPIAuth(t *testing.T) {
	t.Parallel()
	auth := func(c *gin.Context) {
		if c.GetHeader("Authorization") != "Bearer staff" {
			c.AbortWithStatus(http.StatusUnauthorized)
		}
	}
	cfg := apiCfg
	cfg.APIAuth = auth
	a := newApp(t, nil, cfg)
	l := a.link(10000)
	if rec := a.do(jsonRequest(http.MethodGet, "/paylink/links/"+l.ID, "")); rec.Code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want 401", rec.Code)
	}
	req := jsonRequest(http.MethodGet, "/paylink/links/"+l.ID, "")
	req.Header.Set("Authorization", "Bearer staff")
	if rec := a.do(req); rec.Code != http.StatusOK {
		t.Errorf("with credentials: %d, want 200", rec.Code)
	}
	if rec := a.do(a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))); rec.Code != 200 {
		t.Errorf("callback behind APIAuth: %d, want 200", rec.Code)
	}
}

func TestJSONRoutesNotMountedByDefault(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, ginadapter.Config{})
	for _, path := range []string{"/paylink/links/1", "/paylink/return/1"} {
		if rec := a.do(jsonRequest(http.MethodGet, path, "")); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 (not mounted)", path, rec.Code)
		}
	}
	var paths []string
	for _, r := range a.r.Routes() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	if !slices.Equal(paths, []string{"POST /flip/callback"}) {
		t.Errorf("routes = %v, want only the callback route", paths)
	}
}

// TestReturnRoute specifies the customer's return: a re-check with the
// provider, then a 303.
func TestReturnRoute(t *testing.T) {
	t.Parallel()

	t.Run("re-checks with the provider before the callback arrives", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil, apiCfg)
		l := a.link(15000)
		p := a.settle(l.ID, provider.PaymentSuccessful) // no callback sent
		rec := a.do(jsonRequest(http.MethodGet, "/paylink/return/"+l.ID, ""))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/paylink/links/"+l.ID {
			t.Fatalf("answer %d Location %q, want 303 to the status route", rec.Code, rec.Header().Get("Location"))
		}
		stored, err := a.store.GetPayment(context.Background(), "mem", p.ID)
		if err != nil || stored.Status != provider.PaymentSuccessful {
			t.Errorf("payment after return = %+v, %v; want SUCCESSFUL", stored, err)
		}
		// The callback that follows is a duplicate, not a second payment.
		rec = a.do(a.callback(cbPath, testToken, p))
		if ans := decode[ginadapter.CallbackAnswer](t, rec); ans.Verdict != provider.VerdictDuplicate {
			t.Errorf("late callback verdict %q, want duplicate", ans.Verdict)
		}
	})

	t.Run("ReturnRedirect chooses the target from the stored state", func(t *testing.T) {
		t.Parallel()
		cfg := apiCfg
		cfg.ReturnRecheckInterval = -1 // every return re-checks
		cfg.ReturnRedirect = func(c *gin.Context, l *provider.Link, pays []provider.Payment) string {
			if len(pays) > 0 && pays[len(pays)-1].Status == provider.PaymentSuccessful {
				return "/orders/" + l.ID + "?paid=1"
			}
			return "/orders/" + l.ID
		}
		a := newApp(t, nil, cfg)
		l := a.link(15000)
		if rec := a.do(jsonRequest(http.MethodGet, "/paylink/return/"+l.ID, "")); rec.Header().Get("Location") != "/orders/"+l.ID {
			t.Errorf("unpaid: Location %q", rec.Header().Get("Location"))
		}
		a.settle(l.ID, provider.PaymentSuccessful)
		if rec := a.do(jsonRequest(http.MethodGet, "/paylink/return/"+l.ID, "")); rec.Header().Get("Location") != "/orders/"+l.ID+"?paid=1" {
			t.Errorf("paid: Location %q", rec.Header().Get("Location"))
		}
	})

	t.Run("an unreachable provider still redirects, with the stored state, and is logged", func(t *testing.T) {
		t.Parallel()
		var seen []provider.Payment
		cfg := apiCfg
		cfg.ReturnRedirect = func(c *gin.Context, l *provider.Link, pays []provider.Payment) string {
			seen = pays
			return "/orders/" + l.ID
		}
		var down atomic.Pointer[error]
		a := newApp(t, nil, cfg, func(m *providertest.MemProvider) provider.Provider { return flakyProvider{m, &down} })
		l := a.link(15000)
		p := a.settle(l.ID, provider.PaymentPending)
		if rec := a.do(a.callback(cbPath, testToken, p)); rec.Code != 200 {
			t.Fatalf("callback: %d %s", rec.Code, rec.Body)
		}
		a.settle(l.ID, provider.PaymentSuccessful) // paid, but nobody can ask
		err := provider.Errorf(provider.CodeUnavailable, "mem.ListLinkPayments", "gateway down")
		down.Store(&err)
		rec := a.do(jsonRequest(http.MethodGet, "/paylink/return/"+l.ID, ""))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/orders/"+l.ID {
			t.Errorf("answer %d Location %q, want 303 /orders/%s", rec.Code, rec.Header().Get("Location"), l.ID)
		}
		if len(seen) != 1 || seen[0].Status != provider.PaymentPending {
			t.Errorf("redirect saw payments %+v, want the stored PENDING one", seen)
		}
		if logs := a.logs.String(); !strings.Contains(logs, "could not re-check") || !strings.Contains(logs, "gateway down") {
			t.Errorf("the fallback was not logged:\n%s", logs)
		}
	})

	t.Run("an unknown link is 404", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, nil, apiCfg)
		if rec := a.do(jsonRequest(http.MethodGet, "/paylink/return/777", "")); rec.Code != http.StatusNotFound {
			t.Errorf("answer %d, want 404", rec.Code)
		}
	})

	t.Run("an empty redirect is a server error", func(t *testing.T) {
		t.Parallel()
		cfg := ginadapter.Config{ReturnPath: "/back", ReturnRedirect: func(*gin.Context, *provider.Link, []provider.Payment) string { return "" }}
		a := newApp(t, nil, cfg)
		l := a.link(15000)
		if rec := a.do(jsonRequest(http.MethodGet, "/back/"+l.ID, "")); rec.Code != http.StatusInternalServerError {
			t.Errorf("answer %d, want 500", rec.Code)
		}
	})
}

func TestCreateLinkHidesTheProviderRefusingTheServersCredentials(t *testing.T) {
	t.Parallel()
	for _, code := range []provider.ErrorCode{provider.CodeUnauthenticated, provider.CodePermissionDenied} {
		t.Run(code.String(), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, nil, apiCfg, func(m *providertest.MemProvider) provider.Provider { return lockedOutProvider{m, code} })
			rec := a.do(jsonRequest(http.MethodPost, "/paylink/links", `{"title":"t","amount":10000}`))
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500 (the caller is not the one refused): %s", rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), "credential") {
				t.Errorf("the provider's message reached the caller: %s", rec.Body)
			}
			if !strings.Contains(a.logs.String(), "credential") {
				t.Errorf("the provider's refusal was not logged")
			}
		})
	}
}
