package providertest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

type memHarness struct{ p *providertest.MemProvider }

const memToken = "conformance-token"

func (h memHarness) Provider() provider.Provider { return h.p }

func (h memHarness) Settle(ctx context.Context, l *provider.Link, st provider.PaymentStatus) (*http.Request, error) {
	pay, err := h.p.Settle(l.ID, st, 0)
	if err != nil {
		return nil, err
	}
	return providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", memToken, pay)
}

func (h memHarness) PayRefundable(ctx context.Context, l *provider.Link) (*http.Request, error) {
	return h.Settle(ctx, l, provider.PaymentSuccessful)
}

func (h memHarness) RefundCallback(ctx context.Context, l *provider.Link, st provider.PaymentStatus, refunded int64) (*http.Request, error) {
	ps, err := h.p.ListLinkPayments(ctx, l)
	if err != nil {
		return nil, err
	}
	pay := ps[len(ps)-1]
	if pay.State() != (provider.PaymentState{Status: st, Refunded: refunded}) {
		return nil, fmt.Errorf("the payment is %s, not %s %d", pay.State(), st, refunded)
	}
	return providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", memToken, pay)
}

func (h memHarness) ChargeBack(ctx context.Context, l *provider.Link, amount int64) (*http.Request, error) {
	ps, err := h.p.ListLinkPayments(ctx, l)
	if err != nil {
		return nil, err
	}
	pay, err := h.p.ChargeBack(ps[len(ps)-1].ID, amount)
	if err != nil {
		return nil, err
	}
	return providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", memToken, pay)
}

func (h memHarness) BadCallback(ctx context.Context, kind providertest.BadCallback) (*http.Request, error) {
	pay := provider.Payment{ID: "P1", LinkID: "1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)}
	switch kind {
	case providertest.WrongToken:
		return providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", "not-the-token", pay)
	case providertest.MissingToken:
		return providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", "", pay)
	default:
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://app.invalid/callback", strings.NewReader("{not json"))
		if err == nil {
			r.Header.Set(providertest.CallbackTokenHeader, memToken)
		}
		return r, err
	}
}

func TestMemProviderConformance(t *testing.T) {
	providertest.TestProvider(t, func(t *testing.T) providertest.Harness {
		return memHarness{p: providertest.NewMemProvider("mem", memToken)}
	})
}

func TestMemProviderRefusesEveryCallbackWithoutAToken(t *testing.T) {
	p := providertest.NewMemProvider("mem", "")
	if err := p.CheckCallbackConfig(); err == nil {
		t.Error("CheckCallbackConfig passed with no token")
	}
	req, err := providertest.NewCallbackRequest(t.Context(), "http://app.invalid/cb", "", provider.Payment{ID: "P", LinkID: "1", Status: provider.PaymentSuccessful})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ParseCallback(t.Context(), req); err == nil {
		t.Fatal("a callback with an empty token passed an unconfigured provider")
	}
}
