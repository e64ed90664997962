package midtrans_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// recorder is a RoundTripper that keeps each request's method, path and
// headers.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(req.Context()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// TestClientSendsJSONHeaders checks that every call of the client sends
// Accept: application/json, and Content-Type: application/json with a
// body, as Midtrans requires (and midtranstest enforces).
func TestClientSendsJSONHeaders(t *testing.T) {
	const key = "SB-Mid-server-headers"
	fake := midtranstest.NewServer(midtranstest.Options{ServerKey: key})
	t.Cleanup(fake.Close)
	rec := &recorder{}
	c, err := midtrans.NewClient(key, midtrans.Options{BaseURL: fake.URL, HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	snap, err := c.CreateTransaction(ctx, midtrans.CreateTransactionParams{OrderID: "h-1", GrossAmount: 10000})
	must(snap, err)
	must(nil, c.CancelSnapSession(ctx, snap.Token))
	must(c.CreateTransaction(ctx, midtrans.CreateTransactionParams{OrderID: "h-2", GrossAmount: 10000}))
	must(fake.Choose(ctx, "h-2", midtranstest.Method{}))
	must(c.GetStatus(ctx, "h-2"))
	must(c.Expire(ctx, "h-2"))
	must(c.CreateTransaction(ctx, midtrans.CreateTransactionParams{OrderID: "h-3", GrossAmount: 10000}))
	must(fake.Choose(ctx, "h-3", midtranstest.Method{}))
	must(c.Cancel(ctx, "h-3"))
	must(c.CreateTransaction(ctx, midtrans.CreateTransactionParams{OrderID: "h-4", GrossAmount: 10000}))
	must(fake.Pay(ctx, "h-4", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}))
	must(c.Refund(ctx, "h-4", midtrans.RefundRequest{Amount: 4000, RefundKey: "r-1"}))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) != 9 {
		t.Errorf("%d requests, want 9", len(rec.reqs))
	}
	for _, r := range rec.reqs {
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("%s %s: Accept %q", r.Method, r.URL.Path, got)
		}
		if r.ContentLength != 0 {
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, got)
			}
		}
	}
}
