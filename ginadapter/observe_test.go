package ginadapter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// callbackLog is an Observer that keeps every callback it is told about.
type callbackLog struct {
	provider.NopObserver
	mu   sync.Mutex
	seen []provider.CallbackObservation
}

func (l *callbackLog) EndCallback(_ context.Context, c provider.CallbackObservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, c)
}

func (l *callbackLog) take() []provider.CallbackObservation {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.seen
	l.seen = nil
	return seen
}

func TestEveryCallbackIsObservedOnceWithItsVerdictOrRefusal(t *testing.T) {
	obs := &callbackLog{}
	mem := providertest.NewMemProvider("mem", testToken)
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{mem}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	if err := ginadapter.Mount(r.Group("/open"), svc, ginadapter.Config{CallbackPath: "/cb", MaxBodyBytes: 1024}); err != nil {
		t.Fatal(err)
	}
	if err := ginadapter.Mount(r.Group("/closed"), svc, ginadapter.Config{CallbackPath: "/cb",
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}); err != nil {
		t.Fatal(err)
	}
	link, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatal(err)
	}
	pay, err := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(path, token string) *http.Request {
		req, err := providertest.NewCallbackRequest(t.Context(), path, token, pay)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	for _, c := range []struct {
		name    string
		req     func() *http.Request
		status  int
		verdict provider.Verdict
		refusal provider.Refusal
	}{
		{"applied", func() *http.Request { return signed("/open/cb", testToken) }, 200, provider.VerdictApplied, ""},
		{"duplicate", func() *http.Request { return signed("/open/cb", testToken) }, 200, provider.VerdictDuplicate, ""},
		{"forged", func() *http.Request { return signed("/open/cb", "forged") }, 401, "", provider.RefusalUnauthenticated},
		{"not JSON", func() *http.Request {
			req := signed("/open/cb", testToken)
			req.Header.Set("Content-Type", "text/plain")
			return req
		}, 415, "", provider.RefusalInvalid},
		{"too large", func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, "/open/cb", strings.NewReader(strings.Repeat("x", 2048)))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, 413, "", provider.RefusalTooLarge},
		{"malformed", func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, "/open/cb", strings.NewReader(`{"id":`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(providertest.CallbackTokenHeader, testToken)
			return req
		}, 400, "", provider.RefusalInvalid},
		{"outside the allowed networks", func() *http.Request { return signed("/closed/cb", testToken) }, 403, "", provider.RefusalPermissionDenied},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := c.req()
			req.RemoteAddr = "192.0.2.10:40000"
			rec := httptestServe(r, req)
			if rec.Code != c.status {
				t.Fatalf("answered %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			seen := obs.take()
			if len(seen) != 1 {
				t.Fatalf("observed %d times (%+v), want once", len(seen), seen)
			}
			if got := seen[0]; got.Provider != "mem" || got.Verdict != c.verdict || got.Refusal != c.refusal {
				t.Errorf("observed %+v, want provider mem, verdict %q, refusal %q", got, c.verdict, c.refusal)
			}
		})
	}
}

func httptestServe(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
