package fliptest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

func TestContentTypeIsRequiredOnEveryAPIRequest(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	payID := s.Payments(id)[0].ID
	routes := []struct{ method, path string }{
		{http.MethodPost, "/v2/pwf/bill"},
		{http.MethodGet, "/v2/pwf/bill"},
		{http.MethodGet, "/v2/pwf/" + id + "/bill"},
		{http.MethodPut, "/v2/pwf/" + id + "/bill"},
		{http.MethodGet, "/v2/pwf/" + id + "/payment"},
		{http.MethodGet, "/v2/pwf/payment"},
		{http.MethodPut, "/v2/pwf/bill-payment/" + payID + "/confirm"},
		{http.MethodGet, "/v2/general/maintenance"},
	}
	for _, rt := range routes {
		for _, ct := range []string{"", "application/json", "text/plain", "multipart/form-data; boundary=x"} {
			req, _ := http.NewRequestWithContext(t.Context(), rt.method, s.URL+rt.path, nil)
			req.Header.Set("Authorization", basicAuth(testKey))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			if got := a.do(req).codes(t); !slices.Equal(got, []string{"Content-Type:999"}) {
				t.Errorf("%s %s with content type %q: errors %v, want Content-Type:999", rt.method, rt.path, ct, got)
			}
		}
		// The credentials are checked first: no key is a 401 whatever the
		// content type.
		req, _ := http.NewRequestWithContext(t.Context(), rt.method, s.URL+rt.path, nil)
		if r := a.do(req); r.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a key: %d", rt.method, rt.path, r.status)
		}
	}
	// A charset parameter is fine.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/v2/pwf/bill", nil)
	req.Header.Set("Authorization", basicAuth(testKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if r := a.do(req); r.status != http.StatusOK {
		t.Errorf("with a charset: %d %s", r.status, r.body)
	}
}

func TestEmptyPaymentsCode(t *testing.T) {
	t.Parallel()
	for _, code := range []int{1050, 1043} {
		t.Run(itoa(code), func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, Options{EmptyPaymentsCode: code})
			a := newAPI(t, s)
			id := a.createBill(step1()...)
			if got := a.get("/v2/pwf/" + id + "/payment").codes(t); !slices.Equal(got, []string{"id:" + itoa(code)}) {
				t.Errorf("no payment yet: errors %v, want id:%d", got, code)
			}
			// An unknown bill answers the same 1050 as always.
			if got := a.get("/v2/pwf/999/payment").codes(t); !slices.Equal(got, []string{"id:1050"}) {
				t.Errorf("unknown bill: errors %v", got)
			}
			// The list of every bill's payments is never refused.
			if r := a.get("/v2/pwf/payment"); r.status != http.StatusOK {
				t.Errorf("all payments: %d %s", r.status, r.body)
			}
			if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
				t.Fatal(err)
			}
			var page testPage
			r := a.get("/v2/pwf/" + id + "/payment")
			r.into(t, &page)
			if r.status != http.StatusOK || len(page.Data) != 1 {
				t.Errorf("with a payment: %d %s", r.status, r.body)
			}

			// Package flip's provider reads the answer as "no payments
			// yet" for a bill that exists, and as not found otherwise.
			p := flip.NewProvider(s.Client(), flip.ProviderOptions{})
			fresh := a.createBill(step1()...)
			if got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: fresh}); err != nil || len(got) != 0 {
				t.Errorf("provider, fresh bill: %v, %v; want an empty list", got, err)
			}
			if got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "999"}); err == nil {
				t.Errorf("provider, unknown bill: %v, want an error", got)
			}
		})
	}
	t.Run("other codes are a programming error", func(t *testing.T) {
		t.Parallel()
		defer func() {
			if recover() == nil {
				t.Error("EmptyPaymentsCode 422 did not panic")
			}
		}()
		NewUnstartedServer(Options{SecretKey: testKey, EmptyPaymentsCode: 422})
	})
}

func TestQuirksInPaymentLists(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Quirks: Quirks{NullStrings: true, StringNumbers: true, DecimalAmounts: true},
		Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	id := a.createBill(step1()...)
	pending := a.createBill(step3()...) // a step-3 bill has a PENDING payment at once
	if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
		t.Fatal(err)
	}

	m := a.get("/v2/pwf/" + id + "/payment").object(t)
	for _, k := range []string{"link_id", "total_data", "data_per_page", "total_page", "page"} {
		if _, ok := m[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, m[k])
		}
	}
	paid := m["data"].([]any)[0].(map[string]any)
	if paid["amount"] != "45000.00" || paid["reference_id"] != "null" || paid["completed_at"] == "null" {
		t.Errorf("paid payment = %v", paid)
	}
	open := a.get("/v2/pwf/" + pending + "/payment").object(t)["data"].([]any)[0].(map[string]any)
	if open["completed_at"] != "null" || open["settlement_date"] != "null" || open["status"] != "PENDING" {
		t.Errorf("pending payment = %v, want \"null\" strings", open)
	}

	// End to end: package flip reads every one of them.
	p := flip.NewProvider(s.Client(), flip.ProviderOptions{})
	got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: id})
	if err != nil || len(got) != 1 || got[0].Amount.Amount != 45000 || got[0].CompletedAt.IsZero() || got[0].LinkID != id {
		t.Fatalf("provider = %+v, %v", got, err)
	}
	got, err = p.ListLinkPayments(t.Context(), &provider.Link{ID: pending})
	if err != nil || len(got) != 1 || !got[0].CompletedAt.IsZero() || got[0].Amount.Amount != 45000 {
		t.Fatalf("provider, pending = %+v, %v", got, err)
	}
	page, err := s.Client().ListPayments(t.Context(), flip.PaymentQuery{})
	if err != nil || page.TotalData != 2 || len(page.Data) != 2 || len(page.Problems) != 0 {
		t.Fatalf("ListPayments = %+v, %v", page, err)
	}
	for _, pay := range page.Data {
		if len(pay.Problems) != 0 {
			t.Errorf("payment %s: problems %v", pay.ID, pay.Problems)
		}
	}
}

// rawReceiver records callback requests with their bodies exactly as
// they arrive.
type rawReceiver struct {
	mu     sync.Mutex
	bodies []string
	reqs   []*http.Request
}

func (rr *rawReceiver) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(strings.NewReader(string(body)))
	rr.mu.Lock()
	rr.bodies = append(rr.bodies, string(body))
	rr.reqs = append(rr.reqs, clone)
	rr.mu.Unlock()
}

func TestQuirksInCallbacks(t *testing.T) {
	t.Parallel()
	const token = "$2y$13$tok+en%with/odd=chars"
	rr := &rawReceiver{}
	s := newTestServer(t, Options{CallbackToken: token, CallbackURL: newHTTPTestServer(t, rr),
		Quirks: Quirks{StringNumbers: true, DecimalAmounts: true, UnencodedCallbacks: true}})
	a := newAPI(t, s)
	id := a.createBill(step1()...)
	if _, err := s.Pay(t.Context(), id, PayOptions{SenderName: "A+B", SenderEmail: "a+b@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDeliveries(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	rr.mu.Lock()
	body, req := rr.bodies[0], rr.reqs[0]
	rr.mu.Unlock()
	if !strings.HasPrefix(body, `data={`) || !strings.HasSuffix(body, "&token="+token) ||
		!strings.Contains(body, `"amount":"45000.00"`) || !strings.Contains(body, `"bill_link_id":"`+id+`"`) ||
		!strings.Contains(body, `"sender_email":"a+b@example.com"`) {
		t.Errorf("body = %s", body)
	}
	// Package flip reads it as sent: the plus signs stay plus signs.
	cb, err := flip.ParseCallback(req, token, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cb.Amount != 45000 || string(cb.BillLinkID) != id || cb.SenderName != "A+B" || cb.SenderEmail != "a+b@example.com" {
		t.Errorf("callback = %+v", cb)
	}
	// The recorded callback keeps its typed, documented shape.
	if got := s.Callbacks()[0].Data; got.Amount != 45000 || got.BillLinkID != json.Number(id) {
		t.Errorf("recorded = %+v", got)
	}
}

func TestRefuseLocalRedirects(t *testing.T) {
	t.Parallel()
	strict := newAPI(t, newTestServer(t, Options{RefuseLocalRedirects: true}))
	lenient := newAPI(t, newTestServer(t, Options{}))
	tests := []struct {
		url   string
		local bool
	}{
		{"https://example.com/thanks", false},
		{"https://shop.example.co.id/orders/1", false},
		{"http://203.0.113.7/thanks", false},
		{"http://localhost:8080/orders/1/view", true},
		{"http://LOCALHOST/x", true},
		{"http://shop.localhost/x", true},
		{"http://127.0.0.1:8080/x", true},
		{"http://[::1]:8080/x", true},
		{"http://0.0.0.0/x", true},
		{"http://10.0.0.5/x", true},
		{"http://192.168.1.10/x", true},
		{"http://172.16.0.1/x", true},
		{"http://169.254.1.1/x", true},
	}
	for _, tt := range tests {
		r := strict.send(http.MethodPost, "/v2/pwf/bill", form(step1("redirect_url", tt.url)...))
		switch {
		case tt.local && r.status == http.StatusOK:
			t.Errorf("strict: %s accepted", tt.url)
		case tt.local && !slices.Equal(r.codes(t), []string{"redirect_url:1059"}):
			t.Errorf("strict: %s: %s", tt.url, r.body)
		case !tt.local && r.status != http.StatusOK:
			t.Errorf("strict: %s refused: %s", tt.url, r.body)
		}
		if r := lenient.send(http.MethodPost, "/v2/pwf/bill", form(step1("redirect_url", tt.url)...)); r.status != http.StatusOK {
			t.Errorf("default: %s refused: %s", tt.url, r.body)
		}
	}
	id := strict.createBill(step1()...)
	if got := strict.send(http.MethodPut, "/v2/pwf/"+id+"/bill", form("redirect_url", "http://localhost/x")).codes(t); !slices.Equal(got, []string{"redirect_url:1059"}) {
		t.Errorf("edit: %v", got)
	}
}
