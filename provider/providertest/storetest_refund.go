package providertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// refundWrite is the write of payment p (an event with its status and
// refunded amount) decided on a read that saw prev.
func refundWrite(p provider.Payment, prev provider.PaymentState, hooks ...string) *provider.ApplyWrite {
	ev := provider.Event{Provider: "test", Payment: p}
	key := ev.Key()
	w := storeWrite(p)
	w.Claim = &key
	w.Event = []byte(`{"id":"` + key.String() + `"}`)
	w.Callback.Status, w.Callback.Body = p.Status, []byte("data="+key.String())
	w.PreviousStatus, w.PreviousRefunded = prev.Status, prev.Refunded
	w.StatusChange.From, w.StatusChange.To, w.StatusChange.Refunded = prev.Status, p.Status, p.RefundedAmount.Amount
	for _, h := range hooks {
		w.HookRuns = append(w.HookRuns, provider.NewHookRun{EventID: key.String(), Provider: key.Provider, PaymentID: key.PaymentID, Hook: h, IdempotencyKey: provider.HookIdempotencyKey(key.String(), h)})
	}
	return w
}

// refundPaid stores a SUCCESSFUL payment id of link linkID and returns it.
func refundPaid(t *testing.T, s suiteStore, id, linkID string) provider.Payment {
	t.Helper()
	storePutLinks(t, s, storeLink(linkID))
	p := storePayment(id, linkID)
	p.Status = provider.PaymentSuccessful
	storeApply(t, s, storeWrite(p))
	return p
}

func withRefund(p provider.Payment, st provider.PaymentStatus, refunded int64) provider.Payment {
	p.Status, p.RawStatus, p.RefundedAmount = st, string(st), provider.Rupiah(refunded)
	p.CompletedAt = storeBase.Add(time.Hour)
	return p
}

func storeTestRefundedAmountRoundTrips(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	p := refundPaid(t, s, "ra-p", "ra")
	part := withRefund(p, provider.PaymentPartiallyRefunded, 3000)
	storeApply(t, s, refundWrite(part, p.State()))

	st := storeLoad(t, s, "ra", "ra-p")
	want := part
	want.Raw = nil
	storeSamePayment(t, *st.Payment, want)
	got, err := s.GetPayment(ctx, "test", "ra-p")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	storeSamePayment(t, *got, part)
	list, err := s.ListLinkPayments(ctx, "test", "ra")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListLinkPayments: %v, %v", list, err)
	}
	storeSamePayment(t, list[0], part)
	hist, err := s.ListStatusChanges(ctx, "test", "ra-p")
	if err != nil || len(hist) != 2 {
		t.Fatalf("ListStatusChanges: %v, %v; want 2 changes", hist, err)
	}
	if h := hist[1]; h.From != provider.PaymentSuccessful || h.To != provider.PaymentPartiallyRefunded || h.Refunded != 3000 {
		t.Errorf("status change of the refund = %+v, want SUCCESSFUL -> PARTIALLY_REFUNDED, refunded 3000", h)
	}
	if hist[0].Refunded != 0 {
		t.Errorf("status change of the success says %d refunded", hist[0].Refunded)
	}
}

func storeTestClaimsKeyedByRefundedAmount(t *testing.T, s suiteStore) {
	p := refundPaid(t, s, "rk-p", "rk")
	first := withRefund(p, provider.PaymentPartiallyRefunded, 3000)
	storeApply(t, s, refundWrite(first, p.State(), "h"))
	second := withRefund(p, provider.PaymentPartiallyRefunded, 7000)
	storeApply(t, s, refundWrite(second, first.State(), "h"))

	st := storeLoad(t, s, "rk", "rk-p")
	k3 := provider.EventKey{Provider: "test", PaymentID: "rk-p", Status: provider.PaymentPartiallyRefunded, Refunded: 3000}
	k7 := k3
	k7.Refunded = 7000
	if len(st.Claimed) != 3 || !st.HasClaimed(k3) || !st.HasClaimed(k7) || !st.HasClaimed(storeKey("rk-p", provider.PaymentSuccessful)) {
		t.Fatalf("Claimed = %+v, want SUCCESSFUL, PARTIALLY_REFUNDED:3000 and :7000", st.Claimed)
	}
	if st.Payment.State() != second.State() {
		t.Errorf("payment is %s, want %s", st.Payment.State(), second.State())
	}
	// The first partial refund again, from a reader that saw the second.
	storeWantConflict(t, "Apply of a claimed partial refund", s.Apply(storeCtx(t), refundWrite(first, second.State())))
	if q, ok := s.(hookQueue); ok {
		for _, k := range []provider.EventKey{k3, k7} {
			runs, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{EventID: k.String()})
			if err != nil || len(runs) != 1 {
				t.Errorf("hook runs of %s: %v, %v; want one", k, runs, err)
			}
		}
	}

	// The longest key a store must hold: a flagged partial chargeback of
	// the largest amount.
	long := provider.EventKey{Provider: "test", PaymentID: "rk-p", Status: provider.PaymentPartiallyChargedBack,
		Refunded: 1<<63 - 1, Flag: provider.VerdictAmountMismatch}
	storeApply(t, s, &provider.ApplyWrite{Claim: &long, Event: []byte(`{}`)})
	if st := storeLoad(t, s, "rk", "rk-p"); !st.HasClaimed(long) || len(st.Claimed) != 4 {
		t.Errorf("after a flagged partial claim: %+v, want it among 4", st.Claimed)
	}
}

func storeTestApplyRefusesAChangedRefundedAmount(t *testing.T, s suiteStore) {
	p := refundPaid(t, s, "rc-p", "rc")
	first := withRefund(p, provider.PaymentPartiallyRefunded, 3000)
	storeApply(t, s, refundWrite(first, p.State()))
	second := withRefund(p, provider.PaymentPartiallyRefunded, 7000)
	storeApply(t, s, refundWrite(second, first.State()))

	// A reader that saw the first refund decides a partial chargeback on
	// top of it: the status it saw still holds, the amount does not.
	cb := withRefund(p, provider.PaymentPartiallyChargedBack, 8000)
	storeWantConflict(t, "Apply over a payment whose refunded amount changed", s.Apply(storeCtx(t), refundWrite(cb, first.State())))
	st := storeLoad(t, s, "rc", "rc-p")
	if st.Payment.State() != second.State() || len(st.Claimed) != 3 {
		t.Fatalf("a refused Apply left %s and claims %+v; want %s and 3 claims", st.Payment.State(), st.Claimed, second.State())
	}
	storeApply(t, s, refundWrite(cb, second.State()))
}

// Of concurrent partial refunds decided on the same read, exactly one is
// written: each has its own claim, so only the payment's precondition,
// status and refunded amount, tells them apart.
func storeTestConcurrentPartialRefundsOneWins(t *testing.T, s suiteStore) {
	p := refundPaid(t, s, "rr-p", "rr")
	first := withRefund(p, provider.PaymentPartiallyRefunded, 1000)
	storeApply(t, s, refundWrite(first, p.State()))
	writes := make([]*provider.ApplyWrite, 12)
	for i := range writes {
		writes[i] = refundWrite(withRefund(p, provider.PaymentPartiallyRefunded, int64(2000+i*500)), first.State(), "h")
	}
	winner := storeRace(t, s, "partial refunds on one read", writes).Payment.RefundedAmount.Amount
	ctx := storeCtx(t)
	st := storeLoad(t, s, "rr", "rr-p")
	if st.Payment.RefundedAmount.Amount != winner || len(st.Claimed) != 3 {
		t.Fatalf("after the race: refunded %v, claims %+v; want %d and 3 claims", st.Payment.RefundedAmount, st.Claimed, winner)
	}
	hist, err := s.ListStatusChanges(ctx, "test", "rr-p")
	if err != nil || len(hist) != 3 {
		t.Fatalf("status history after the race: %d changes, %v; want 3", len(hist), err)
	}
	if q, ok := s.(hookQueue); ok {
		runs, err := q.ListHookRuns(ctx, provider.HookRunFilter{Hook: "h"})
		if err != nil || len(runs) != 1 || runs[0].EventID != fmt.Sprintf("test:rr-p:PARTIALLY_REFUNDED:%d", winner) {
			t.Fatalf("hook runs after the race: %+v, %v; want the winner's only", runs, err)
		}
	}
}
