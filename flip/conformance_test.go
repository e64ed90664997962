package flip_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// flipHarness runs the provider conformance suite against flip over
// fliptest. Callbacks are the exact requests the fake sends, captured by
// an HTTP server standing in for the app.
type flipHarness struct {
	fake     *fliptest.Server
	p        *flip.Provider
	captured chan *http.Request
}

const conformanceToken = "conformance-callback-token"

func newFlipHarness(t *testing.T) providertest.Harness {
	h := &flipHarness{captured: make(chan *http.Request, 16)}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := httptest.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		h.captured <- req
	}))
	t.Cleanup(app.Close)
	h.fake = fliptest.NewServer(fliptest.Options{SecretKey: "conformance-secret", CallbackToken: conformanceToken, CallbackURL: app.URL})
	t.Cleanup(h.fake.Close)
	h.p = flip.NewProvider(h.fake.Client(), flip.ProviderOptions{CallbackToken: conformanceToken})
	return h
}

func (h *flipHarness) Provider() provider.Provider { return h.p }

func (h *flipHarness) Settle(ctx context.Context, l *provider.Link, st provider.PaymentStatus) (*http.Request, error) {
	var err error
	switch st {
	case provider.PaymentSuccessful:
		_, err = h.fake.Pay(ctx, l.ID, fliptest.PayOptions{})
	case provider.PaymentCancelled:
		_, err = h.fake.Expire(ctx, l.ID)
	case provider.PaymentFailed:
		_, err = h.fake.Fail(ctx, l.ID)
	}
	if err != nil {
		return nil, err
	}
	select {
	case r := <-h.captured:
		return r.WithContext(ctx), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(20 * time.Second):
		return nil, context.DeadlineExceeded
	}
}

func (h *flipHarness) BadCallback(ctx context.Context, kind providertest.BadCallback) (*http.Request, error) {
	cb := flip.Callback{ID: "PGPWF1", BillLinkID: "1", Amount: 45000, Status: "SUCCESSFUL"}
	switch kind {
	case providertest.WrongToken:
		return flip.NewCallbackRequest(ctx, "http://app.invalid/flip/callback", "not-the-token", cb)
	case providertest.MissingToken:
		r, err := flip.NewCallbackRequest(ctx, "http://app.invalid/flip/callback", conformanceToken, cb)
		if err != nil {
			return nil, err
		}
		form := flip.CallbackForm(conformanceToken, cb)
		form.Del("token")
		r.Body = io.NopCloser(strings.NewReader(form.Encode()))
		r.ContentLength = int64(len(form.Encode()))
		return r, nil
	default:
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://app.invalid/flip/callback",
			strings.NewReader("data=%7Bnot+json&token="+conformanceToken))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return r, err
	}
}

func TestFlipPassesTheProviderConformanceSuite(t *testing.T) {
	providertest.TestProvider(t, newFlipHarness)
}

func TestAStoredCallbackNeverHoldsTheToken(t *testing.T) {
	h := newFlipHarness(t).(*flipHarness)
	l, err := h.p.CreateLink(t.Context(), provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatal(err)
	}
	req, err := h.Settle(t.Context(), l, provider.PaymentSuccessful)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := h.p.ParseCallback(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ev.Raw, []byte(conformanceToken)) || bytes.Contains(ev.Raw, []byte("token=")) {
		t.Fatalf("event raw body keeps the token: %s", ev.Raw)
	}
	if !bytes.Contains(ev.Raw, []byte("data=")) {
		t.Fatalf("event raw body lost the data field: %s", ev.Raw)
	}
}

func TestRedactTokenKeepsEveryOtherByte(t *testing.T) {
	for in, want := range map[string]string{
		"data=%7B%22id%22%3A1%7D&token=s3cret": "data=%7B%22id%22%3A1%7D",
		"token=s3cret&data=x":                  "data=x",
		"to%6Ben=s3cret&data=x&extra=1":        "data=x&extra=1",
		"data=x":                               "data=x",
	} {
		if got := string(flip.RedactToken([]byte(in))); got != want {
			t.Errorf("RedactToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProviderDeclaresFormCallbacksAndFlipsNetworks(t *testing.T) {
	var p provider.Provider = flip.NewProvider(mustClient(t), flip.ProviderOptions{CallbackToken: "x"})
	mt, ok := p.(provider.CallbackMediaTyper)
	if !ok || mt.CallbackMediaType() != "application/x-www-form-urlencoded" {
		t.Fatalf("flip.Provider does not declare form callbacks")
	}
	nets := flip.CallbackNetworks()
	if len(nets) < 6 || !nets[0].IsValid() {
		t.Fatalf("CallbackNetworks = %v", nets)
	}
}

func mustClient(t *testing.T) *flip.Client {
	t.Helper()
	c, err := flip.NewClient("test-secret", flip.Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
