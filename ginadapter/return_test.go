package ginadapter_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// countingProvider is a MemProvider that counts its reads of a link's
// payments (the provider call of a re-check) and, while gate is not nil,
// holds each read until gate is closed.
type countingProvider struct {
	*providertest.MemProvider
	calls   *atomic.Int64
	started chan struct{} // receives once per read, when it starts (if not nil)
	gate    chan struct{}
}

func (p countingProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	p.calls.Add(1)
	if p.started != nil {
		select {
		case p.started <- struct{}{}:
		default:
		}
	}
	if p.gate != nil {
		<-p.gate
	}
	return p.MemProvider.ListLinkPayments(ctx, link)
}

// returnTo sends a customer back to the return route for link id.
func (a *app) returnTo(id string) *httptest.ResponseRecorder {
	return a.do(httptest.NewRequest(http.MethodGet, "/paylink/return/"+id, nil))
}

// TestReturnRouteBoundsProviderCalls specifies what the public return
// route may cost the merchant's provider quota.
func TestReturnRouteBoundsProviderCalls(t *testing.T) {
	t.Parallel()

	t.Run("50 concurrent returns for one link share one provider call", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		started, gate := make(chan struct{}, 1), make(chan struct{})
		cfg := apiCfg
		// No per-link interval and no overall limit: only the sharing of
		// the call in flight can keep the count at one.
		cfg.ReturnRecheckInterval, cfg.ReturnRechecksPerSecond = -1, -1
		a := newApp(t, nil, cfg, func(m *providertest.MemProvider) provider.Provider {
			return countingProvider{MemProvider: m, calls: &calls, started: started, gate: gate}
		})
		l := a.link(15000)
		p := a.settle(l.ID, provider.PaymentSuccessful)

		var wg sync.WaitGroup
		codes := make([]int, 50)
		wg.Go(func() { codes[0] = a.returnTo(l.ID).Code })
		<-started // the first return is asking the provider
		for i := 1; i < len(codes); i++ {
			wg.Go(func() { codes[i] = a.returnTo(l.ID).Code })
		}
		time.Sleep(300 * time.Millisecond) // the others join the call in flight
		close(gate)
		wg.Wait()

		if n := calls.Load(); n != 1 {
			t.Errorf("provider calls = %d, want 1", n)
		}
		for i, c := range codes {
			if c != http.StatusSeeOther {
				t.Errorf("return %d answered %d, want 303", i, c)
			}
		}
		if stored, err := a.store.GetPayment(context.Background(), "mem", p.ID); err != nil || stored.Status != provider.PaymentSuccessful {
			t.Errorf("payment after the returns = %+v, %v; want SUCCESSFUL", stored, err)
		}
	})

	t.Run("returns within the interval redirect with the stored state and ask nothing", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		var seen []provider.Payment
		cfg := apiCfg // the default interval, 10 s
		cfg.ReturnRedirect = func(c *gin.Context, l *provider.Link, pays []provider.Payment) string {
			seen = pays
			return "/orders/" + l.ID
		}
		a := newApp(t, nil, cfg, func(m *providertest.MemProvider) provider.Provider {
			return countingProvider{MemProvider: m, calls: &calls}
		})
		l := a.link(15000)
		if rec := a.returnTo(l.ID); rec.Code != http.StatusSeeOther || len(seen) != 0 {
			t.Fatalf("first return: %d, payments %+v; want 303 and none", rec.Code, seen)
		}
		a.settle(l.ID, provider.PaymentSuccessful) // paid after the first re-check
		for i := range 5 {
			rec := a.returnTo(l.ID)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/orders/"+l.ID {
				t.Errorf("return %d: %d Location %q, want 303 /orders/%s", i+2, rec.Code, rec.Header().Get("Location"), l.ID)
			}
			if len(seen) != 0 {
				t.Errorf("return %d saw payments %+v, want the stored state (none)", i+2, seen)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("provider calls = %d, want 1 (the first return's)", n)
		}
	})

	t.Run("over the overall limit, returns redirect with the stored state", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		cfg := apiCfg
		cfg.ReturnRechecksPerSecond, cfg.ReturnRecheckBurst = 0.001, 2
		a := newApp(t, nil, cfg, func(m *providertest.MemProvider) provider.Provider {
			return countingProvider{MemProvider: m, calls: &calls}
		})
		for i := range 5 {
			l := a.link(15000)
			if rec := a.returnTo(l.ID); rec.Code != http.StatusSeeOther {
				t.Errorf("return for link %d: %d, want 303", i, rec.Code)
			}
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("provider calls = %d, want 2 (the burst)", n)
		}
	})

	t.Run("an unknown link is 404 without asking the provider", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		a := newApp(t, nil, apiCfg, func(m *providertest.MemProvider) provider.Provider {
			return countingProvider{MemProvider: m, calls: &calls}
		})
		for range 3 {
			if rec := a.returnTo("777"); rec.Code != http.StatusNotFound {
				t.Errorf("answer %d, want 404", rec.Code)
			}
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("provider calls = %d, want 0", n)
		}
	})
}

// TestUnauthenticatedAnswersCarryNoPersonalData: the return route, and
// the JSON routes when mounted public, never answer with a customer's
// name, email, phone, address or virtual account number.
func TestUnauthenticatedAnswersCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	personal := []string{"Budi Santoso", "budi@example.com", "081234567", "Jl. Merdeka", "9881234567890"}
	cfg := ginadapter.Config{APIPrefix: "/paylink", APIPublic: true, ReturnPath: "/paylink/return"}
	customer := provider.Customer{Name: "Budi Santoso", Email: "budi@example.com", Phone: "081234567", Address: "Jl. Merdeka 1"}
	a := newApp(t, nil, cfg, func(m *providertest.MemProvider) provider.Provider { return senderProvider{m, customer} })
	l, err := a.svc.CreateLink(context.Background(), "", provider.CreateLinkParams{
		Title: "Order 1", Amount: provider.Rupiah(15000), Step: provider.StepPaymentMethod, Customer: customer,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := a.settle(l.ID, provider.PaymentSuccessful)
	p.Sender, p.VANumber = customer, "9881234567890" // what the provider shows too
	if rec := a.do(a.callback(cbPath, testToken, p)); rec.Code != http.StatusOK {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	if pays := a.payments(l.ID); len(pays) != 1 || pays[0].Sender.Email != customer.Email {
		t.Fatalf("stored payments %+v, want one with the sender (the test needs personal data to hide)", pays)
	}

	answers := map[string]*httptest.ResponseRecorder{
		"GET the link (public)": a.do(jsonRequest(http.MethodGet, "/paylink/links/"+l.ID, "")),
		"POST a link (public)": a.do(jsonRequest(http.MethodPost, "/paylink/links",
			`{"title":"Order 2","amount":15000,"step":2,"customer":{"name":"Budi Santoso","email":"budi@example.com","phone":"081234567","address":"Jl. Merdeka 1"}}`)),
		"the return route": a.returnTo(l.ID),
	}
	follow := answers["the return route"].Header().Get("Location")
	answers["the return route's default target"] = a.do(jsonRequest(http.MethodGet, follow, ""))
	for name, rec := range answers {
		if rec.Code >= 400 {
			t.Errorf("%s: answer %d %s", name, rec.Code, rec.Body)
		}
		whole := rec.Body.String() + " " + rec.Header().Get("Location")
		for _, pii := range personal {
			if strings.Contains(whole, pii) {
				t.Errorf("%s answers %q:\n%s", name, pii, whole)
			}
		}
	}
	got := decode[ginadapter.LinkResponse](t, answers["GET the link (public)"])
	if got.Link.ID != l.ID || len(got.Payments) != 1 || got.Payments[0].Status != provider.PaymentSuccessful {
		t.Errorf("public link answer %+v, want the link and its SUCCESSFUL payment", got)
	}
}

// TestMountRefusesOpenJSONRoutes: JSON routes without an authorization
// are mounted only when the config says so in as many words.
func TestMountRefusesOpenJSONRoutes(t *testing.T) {
	t.Parallel()
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{providertest.NewMemProvider("mem", testToken)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	err = ginadapter.Mount(r, svc, ginadapter.Config{APIPrefix: "/paylink", ReturnPath: "/paylink/return"})
	if !errors.Is(err, provider.CodeInvalidArgument) || !strings.Contains(err.Error(), "APIAuth") {
		t.Errorf("Mount without APIAuth = %v, want CodeInvalidArgument naming APIAuth", err)
	}
	if routes := r.Routes(); len(routes) != 0 {
		t.Errorf("Mount added routes: %v", routes)
	}
	// With an authorization, the routes are mounted behind it.
	denied := func(c *gin.Context) { c.AbortWithStatus(http.StatusUnauthorized) }
	if err := ginadapter.Mount(r, svc, ginadapter.Config{APIPrefix: "/paylink", APIAuth: denied}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, jsonRequest(http.MethodPost, "/paylink/links", `{"title":"T","amount":10000}`))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("POST without credentials: %d, want 401", rec.Code)
	}
}

// senderProvider shows every payment with the customer as its sender and
// a VA number: personal data the public answers must hide.
type senderProvider struct {
	*providertest.MemProvider
	customer provider.Customer
}

func (s senderProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	pays, err := s.MemProvider.ListLinkPayments(ctx, link)
	for i := range pays {
		pays[i].Sender, pays[i].VANumber = s.customer, "9881234567890"
	}
	return pays, err
}
