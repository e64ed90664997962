package provider_test

import (
	"errors"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func TestPaymentOfEvent(t *testing.T) {
	for _, c := range []struct{ id, provider, payment string }{
		{"flip:PGPWF1:SUCCESSFUL", "flip", "PGPWF1"},
		{"flip:PGPWF1:SUCCESSFUL!amount_mismatch", "flip", "PGPWF1"},
		{"flip:PGPWF1:!unknown_status", "flip", "PGPWF1"},
		{"midtrans:order-7:a:PENDING", "midtrans", "order-7:a"},
		{"mem:A!B:PENDING", "mem", "A!B"},
		{"nonsense", "", ""},
		{"flip:", "", ""},
	} {
		p, pay := provider.PaymentOfEvent(c.id)
		if p != c.provider || pay != c.payment {
			t.Errorf("PaymentOfEvent(%q) = %q, %q; want %q, %q", c.id, p, pay, c.provider, c.payment)
		}
		if c.provider != "" {
			key := provider.EventKey{Provider: c.provider, PaymentID: c.payment, Status: provider.PaymentPending}
			if p, pay := provider.PaymentOfEvent(key.String()); p != c.provider || pay != c.payment {
				t.Errorf("PaymentOfEvent(%q) does not give back %q, %q", key.String(), c.provider, c.payment)
			}
		}
	}
}

func TestActNeedsAnActionLog(t *testing.T) {
	bare := struct{ provider.Store }{providertest.NewMemStore()}
	svc, err := provider.NewService(bare, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", "t")}})
	if err != nil {
		t.Fatal(err)
	}
	if svc.ActionLog() != nil {
		t.Fatal("ActionLog of a store without one is not nil")
	}
	rec, err := svc.Act(t.Context(), provider.Action{Kind: provider.ActionReconcileLink, Actor: "ana", LinkID: "1"})
	if !errors.Is(err, provider.CodeFailedPrecondition) || rec != nil {
		t.Fatalf("Act without an action log: %+v, %v; want CodeFailedPrecondition and nothing done", rec, err)
	}
}

func TestReprocessNeedsACallbackDecoder(t *testing.T) {
	store := providertest.NewMemStore()
	p := noDecoder{providertest.NewMemProvider("mem", "t")}
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{p}})
	if err != nil {
		t.Fatal(err)
	}
	cb := provider.CallbackRecord{Provider: "mem", PaymentID: "P", LinkID: "L", Status: provider.PaymentSuccessful,
		Body: []byte(`{"id":"P","link_id":"L","status":"SUCCESSFUL"}`), Verdict: provider.VerdictUnknownLink}
	if err := store.Apply(t.Context(), &provider.ApplyWrite{Callback: &cb}); err != nil {
		t.Fatal(err)
	}
	rec, err := svc.Act(t.Context(), provider.Action{Kind: provider.ActionReprocessCallback, Actor: "ana", CallbackID: cb.ID})
	if !errors.Is(err, provider.CodeUnimplemented) || !errors.Is(err, errors.ErrUnsupported) || rec == nil || rec.Succeeded() {
		t.Fatalf("reprocessing without a decoder: %+v, %v; want a recorded CodeUnimplemented", rec, err)
	}
}

// noDecoder hides MemProvider's CallbackDecoder.
type noDecoder struct{ provider.Provider }
