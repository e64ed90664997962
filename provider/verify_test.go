package provider_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// countingProvider counts the payment listings verification makes.
type countingProvider struct {
	*providertest.MemProvider
	lists atomic.Int64
}

func (c *countingProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	c.lists.Add(1)
	return c.MemProvider.ListLinkPayments(ctx, link)
}

func newVerifyFixture(t *testing.T) (*fixture, *countingProvider) {
	t.Helper()
	f := &fixture{store: providertest.NewMemStore(), mem: providertest.NewMemProvider("mem", "tok")}
	cp := &countingProvider{MemProvider: f.mem}
	svc, err := provider.NewService(f.store, provider.ServiceOptions{Providers: []provider.Provider{cp}})
	must(t, err)
	f.svc = svc
	return f, cp
}

// A callback the provider does not show is recorded for operators and
// answered with an error the provider retries on; it changes nothing.
func TestVerificationConfirmsEveryStatus(t *testing.T) {
	for _, st := range []provider.PaymentStatus{provider.PaymentSuccessful, provider.PaymentCancelled, provider.PaymentFailed} {
		t.Run(string(st), func(t *testing.T) {
			f, _ := newVerifyFixture(t)
			l := f.link(t, 45000, provider.LinkMultiple)
			pending, err := f.mem.Settle(l.ID, provider.PaymentPending, 0)
			must(t, err)
			f.apply(t, event(l.ID, pending.ID, provider.PaymentPending, 45000))

			// A forged callback with the right token, for a payment the provider holds PENDING.
			out, err := f.svc.ApplyEvent(t.Context(), event(l.ID, pending.ID, st, 45000))
			if !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
				t.Fatalf("forged %s: verdict %s, err %v; want unverified and CodeUnavailable", st, out.Verdict, err)
			}
			if got := f.status(t, pending.ID); got != provider.PaymentPending {
				t.Fatalf("forged %s moved the payment to %s", st, got)
			}
			cbs, _ := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{Flagged: true})
			if len(cbs) != 1 || cbs[0].Verdict != provider.VerdictUnverified {
				t.Fatalf("flagged callbacks = %+v, want the forged one, unverified", cbs)
			}
			if hs, _ := f.store.ListStatusChanges(t.Context(), "mem", pending.ID); len(hs) != 1 {
				t.Fatalf("status history = %+v, want only PENDING", hs)
			}
		})
	}
}

func TestVerificationAppliesOnceTheProviderShowsIt(t *testing.T) {
	f, _ := newVerifyFixture(t)
	l := f.link(t, 45000, provider.LinkSingle)
	// The callback outruns the provider's own API: not visible yet.
	_, err := f.svc.ApplyEvent(t.Context(), event(l.ID, "EARLY", provider.PaymentSuccessful, 45000))
	if !errors.Is(err, provider.CodeUnavailable) {
		t.Fatalf("not yet visible: err = %v, want CodeUnavailable (the provider retries)", err)
	}
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	if out := f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 45000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("once visible: verdict %s, want applied", out.Verdict)
	}
}

func TestVerificationMakesNoProviderCallForADuplicate(t *testing.T) {
	f, cp := newVerifyFixture(t)
	l := f.link(t, 45000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 45000))
	before := cp.lists.Load()
	for range 3 {
		if out := f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 45000)); out.Verdict != provider.VerdictDuplicate {
			t.Fatalf("repeat: verdict %s, want duplicate", out.Verdict)
		}
	}
	if n := cp.lists.Load() - before; n != 0 {
		t.Fatalf("three duplicates made %d provider calls, want 0", n)
	}
	// Nor does stale news: it changes nothing.
	if out := f.apply(t, event(l.ID, pay.ID, provider.PaymentPending, 45000)); out.Verdict != provider.VerdictStale {
		t.Fatalf("late PENDING: verdict %s, want stale", out.Verdict)
	}
	if n := cp.lists.Load() - before; n != 0 {
		t.Fatalf("duplicates and a stale callback made %d provider calls, want 0", n)
	}
}

func TestAnUnknownStatusIsRecordedAndFlagged(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var flagged counter
	must(t, f.svc.On("alert", provider.WhenFlagged(), flagged.hook))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 45000, provider.LinkSingle)
	ev := event(l.ID, "P1", "", 45000)
	ev.Payment.RawStatus = "REFUNDED"
	for range 2 {
		out := f.apply(t, ev)
		if out.Verdict != provider.VerdictUnknownStatus || !out.Verdict.Flagged() {
			t.Fatalf("verdict = %s, want unknown_status, flagged", out.Verdict)
		}
	}
	if _, err := f.store.GetPayment(t.Context(), "mem", "P1"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("an unknown status stored a payment: %v", err)
	}
	waitFor(t, "the flagged hook", func() bool { return flagged.total() == 1 })
	cbs, _ := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{Flagged: true})
	if len(cbs) != 2 {
		t.Fatalf("flagged callbacks: %d, want both deliveries", len(cbs))
	}
}
