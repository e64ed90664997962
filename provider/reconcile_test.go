package provider_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// A paid SINGLE link is INACTIVE, so the reconciler leaves it alone by
// default. With ReconcilePaid it keeps visiting it while a refund or
// chargeback may still move its payment, and applies one whose callback
// was lost, its hook included, until the payment is fully returned.
func TestReconcileFindsAChargebackWhoseCallbackWasLost(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{ReconcilePaid: 30 * 24 * time.Hour})
	var chargebacks counter
	must(t, f.svc.On("alert", provider.When(provider.PaymentPartiallyChargedBack, provider.PaymentChargedBack), chargebacks.hook))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 45000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	reconcile := func(want provider.ReconcileReport) {
		t.Helper()
		rep, err := f.svc.Reconcile(t.Context())
		must(t, err)
		if rep.Links != want.Links || rep.PaidLinks != want.PaidLinks || rep.Applied != want.Applied {
			t.Fatalf("Reconcile = %+v, want %d links, %d of them paid, %d applied", rep, want.Links, want.PaidLinks, want.Applied)
		}
	}
	reconcile(provider.ReconcileReport{Links: 1, Applied: 1}) // the success, from the open link

	_, err = f.mem.ChargeBack(pay.ID, 10000) // no callback is ever delivered
	must(t, err)
	reconcile(provider.ReconcileReport{Links: 1, PaidLinks: 1, Applied: 1})
	p, err := f.store.GetPayment(t.Context(), "mem", pay.ID)
	must(t, err)
	if p.Status != provider.PaymentPartiallyChargedBack || p.RefundedAmount.Amount != 10000 {
		t.Fatalf("after the pass the payment is %s with %d returned, want PARTIALLY_CHARGED_BACK with 10000", p.Status, p.RefundedAmount.Amount)
	}
	waitFor(t, "the chargeback hook", func() bool { return chargebacks.total() == 1 })
	reconcile(provider.ReconcileReport{Links: 1, PaidLinks: 1}) // still partly returned: visited, nothing new

	_, err = f.mem.ChargeBack(pay.ID, 0)
	must(t, err)
	reconcile(provider.ReconcileReport{Links: 1, PaidLinks: 1, Applied: 1})
	if got := f.status(t, pay.ID); got != provider.PaymentChargedBack {
		t.Fatalf("after the second pass the payment is %s, want CHARGED_BACK", got)
	}
	waitFor(t, "the second chargeback hook", func() bool { return chargebacks.total() == 2 })
	reconcile(provider.ReconcileReport{}) // fully charged back: nothing can move it, never visited again
}

// paidThenChargedBackUnseen makes a SINGLE link whose payment the
// reconciler applies as SUCCESSFUL, then charges it back at the provider
// with no callback, and returns the payment's id.
func paidThenChargedBackUnseen(t *testing.T, f *fixture) string {
	t.Helper()
	l := f.link(t, 45000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	_, err = f.svc.Reconcile(t.Context())
	must(t, err)
	_, err = f.mem.ChargeBack(pay.ID, 0)
	must(t, err)
	return pay.ID
}

func TestReconcilePaidIsOffByDefaultAndBoundedByItsWindow(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		f := newFixture(t, provider.ServiceOptions{})
		id := paidThenChargedBackUnseen(t, f)
		rep, err := f.svc.Reconcile(t.Context())
		must(t, err)
		if rep.Links != 0 || f.status(t, id) != provider.PaymentSuccessful {
			t.Fatalf("without ReconcilePaid: %+v, payment %s; want no visit, SUCCESSFUL", rep, f.status(t, id))
		}
	})
	t.Run("window", func(t *testing.T) {
		var later atomic.Int64 // how far the service's clock is ahead
		f := newFixture(t, provider.ServiceOptions{
			ReconcilePaid: 7 * 24 * time.Hour,
			Now:           func() time.Time { return time.Now().Add(time.Duration(later.Load())) },
		})
		id := paidThenChargedBackUnseen(t, f)
		later.Store(int64(8 * 24 * time.Hour))
		rep, err := f.svc.Reconcile(t.Context())
		must(t, err)
		if rep.PaidLinks != 0 || f.status(t, id) != provider.PaymentSuccessful {
			t.Fatalf("a link created 8 days ago with ReconcilePaid 7 days: %+v; want it left alone", rep)
		}
	})
}
