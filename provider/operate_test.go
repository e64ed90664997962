package provider_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func TestActNeedsAnActionLog(t *testing.T) {
	bare := struct{ provider.Store }{providertest.NewMemStore()}
	svc, err := provider.NewService(bare, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", "t")}})
	if err != nil {
		t.Fatal(err)
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

// A hook run names its payment itself: a partial refund's event id
// ("mem:PAY:PARTIALLY_REFUNDED:3000") is no payment, yet the run, and the
// operator's retry of it in the action log, name PAY.
func TestARefundsHookRunNamesItsPayment(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	must(t, f.svc.On("refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), func(context.Context, *provider.HookEvent) error {
		return errors.New("ledger down")
	}))
	l := f.link(t, 10000, provider.LinkSingle)
	f.apply(t, event(l.ID, "PAY", provider.PaymentSuccessful, 10000))
	f.apply(t, returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, 3000))
	must(t, f.svc.Start(t.Context()))
	var failed provider.HookRun
	waitFor(t, "the refund hook to fail", func() bool {
		runs, err := f.svc.Store().(provider.Reader).ListHookRuns(t.Context(), provider.HookRunFilter{Provider: "mem", PaymentID: "PAY", State: provider.HookRunFailed})
		must(t, err)
		if len(runs) == 1 {
			failed = runs[0]
		}
		return len(runs) == 1
	})
	if failed.EventID != "mem:PAY:PARTIALLY_REFUNDED:3000" || failed.Provider != "mem" || failed.PaymentID != "PAY" {
		t.Fatalf("the refund's run: %+v, want event mem:PAY:PARTIALLY_REFUNDED:3000 of payment mem/PAY", failed)
	}
	rec, err := f.svc.Act(t.Context(), provider.Action{Kind: provider.ActionRetryHookRun, Actor: "ana", HookRunID: failed.ID})
	must(t, err)
	if rec.Provider != "mem" || rec.PaymentID != "PAY" {
		t.Fatalf("the retry's action names payment %q/%q, want mem/PAY", rec.Provider, rec.PaymentID)
	}
}
