package provider_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

// returned builds an event of a refund or chargeback status of a payment
// of 10000 with refunded returned in all.
func returned(linkID, paymentID string, st provider.PaymentStatus, refunded int64) *provider.Event {
	ev := event(linkID, paymentID, st, 10000)
	ev.Payment.RefundedAmount = provider.Rupiah(refunded)
	return ev
}

// hookLog records what the refund and chargeback hooks saw.
type hookLog struct {
	mu    sync.Mutex
	calls []string // "hook status delta/cumulative"
	ids   map[string]int
}

func (h *hookLog) hook(name string) func(ctx context.Context, ev *provider.HookEvent) error {
	return func(ctx context.Context, ev *provider.HookEvent) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.ids == nil {
			h.ids = map[string]int{}
		}
		h.ids[name+" "+ev.IdempotencyKey]++
		h.calls = append(h.calls, fmt.Sprintf("%s %s %d/%d", name, ev.Status, ev.RefundedDelta.Amount, ev.Payment.RefundedAmount.Amount))
		return nil
	}
}

func (h *hookLog) snapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// Every pair of states of the ladder, through the Service: the second
// event is applied exactly when the ladder allows the move, a repeat is a
// duplicate, a cancellation or failure of a paid payment is a reversal
// (REVERSED, all of it returned, by the same rules), and anything else is
// stale and changes nothing.
func TestApplyEventWalksTheLadderForEveryPairOfStates(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	for i, from := range ladder {
		for j, to := range ladder {
			l := f.link(t, 10000, provider.LinkMultiple)
			id := fmt.Sprintf("P-%d-%d", i, j)
			if out := f.apply(t, returned(l.ID, id, from.Status, from.Refunded)); out.Verdict != provider.VerdictApplied {
				t.Fatalf("%s on a new payment: %s", from, out.Verdict)
			}
			out := f.apply(t, returned(l.ID, id, to.Status, to.Refunded))
			want, after := provider.VerdictStale, from
			if from.Status.Paid() && (to.Status == provider.PaymentCancelled || to.Status == provider.PaymentFailed) {
				to = provider.PaymentState{Status: provider.PaymentReversed, Refunded: 10000} // a reversal
			}
			switch {
			case from == to:
				want = provider.VerdictDuplicate
			case from.CanTransition(to):
				want, after = provider.VerdictApplied, to
			}
			p, err := f.store.GetPayment(t.Context(), "mem", id)
			must(t, err)
			if out.Verdict != want || p.State() != after {
				t.Errorf("%s then %s: verdict %s, stored %s; want %s, %s", from, to, out.Verdict, p.State(), want, after)
			}
		}
	}
}

func TestRefundAmountsThatDoNotFitTheStatusAreFlagged(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 10000, provider.LinkMultiple)
	f.apply(t, event(l.ID, "PAY", provider.PaymentSuccessful, 10000))
	for _, c := range []struct {
		name     string
		status   provider.PaymentStatus
		refunded int64
		amount   int64
	}{
		{"PartialOfNothing", provider.PaymentPartiallyRefunded, 0, 10000},
		{"PartialOfAll", provider.PaymentPartiallyRefunded, 10000, 10000},
		{"PartialOfMoreThanPaid", provider.PaymentPartiallyChargedBack, 12000, 10000},
		{"FullOfLess", provider.PaymentRefunded, 4000, 10000},
		{"FullOfMore", provider.PaymentChargedBack, 10001, 10000},
		{"SuccessWithARefund", provider.PaymentSuccessful, 1000, 10000},
		{"RefundOfAnotherAmount", provider.PaymentRefunded, 9000, 9000},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := returned(l.ID, "PAY", c.status, c.refunded)
			ev.Payment.Amount = provider.Rupiah(c.amount)
			if out := f.apply(t, ev); out.Verdict != provider.VerdictAmountMismatch {
				t.Fatalf("verdict %s, want amount_mismatch", out.Verdict)
			}
			p, err := f.store.GetPayment(t.Context(), "mem", "PAY")
			must(t, err)
			if p.Status != provider.PaymentSuccessful || p.RefundedAmount.Amount != 0 {
				t.Fatalf("a flagged refund changed the payment to %s", p.State())
			}
		})
	}
	// A refund of a payment whose link the store does not know.
	if out := f.apply(t, returned("no-such-link", "PAY2", provider.PaymentRefunded, 10000)); out.Verdict != provider.VerdictUnknownLink {
		t.Errorf("refund of an unknown link: %s, want unknown_link", out.Verdict)
	}
}

func TestAFullRefundWithoutAnAmountMeansAllOfIt(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 10000, provider.LinkMultiple)
	f.apply(t, event(l.ID, "PAY", provider.PaymentSuccessful, 10000))
	out := f.apply(t, event(l.ID, "PAY", provider.PaymentChargedBack, 10000))
	if out.Verdict != provider.VerdictApplied || out.Payment.RefundedAmount != provider.Rupiah(10000) {
		t.Fatalf("CHARGED_BACK without an amount: %s, refunded %v; want applied, IDR 10000", out.Verdict, out.Payment.RefundedAmount)
	}
}

func TestRefundAndChargebackHooksRunOncePerNewAmount(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var log hookLog
	must(t, f.svc.On("refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), log.hook("refund")))
	must(t, f.svc.On("chargeback", provider.When(provider.PaymentPartiallyChargedBack, provider.PaymentChargedBack), log.hook("chargeback")))
	must(t, f.svc.On("paid", provider.When(provider.PaymentSuccessful), log.hook("paid")))
	must(t, f.svc.On("audit", provider.When(), log.hook("audit")))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkMultiple)
	for _, ev := range []*provider.Event{
		event(l.ID, "PAY", provider.PaymentSuccessful, 10000),
		returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, 3000),
		returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, 3000), // duplicate
		returned(l.ID, "PAY", provider.PaymentPartiallyChargedBack, 7000),
		returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, 3000), // stale
		returned(l.ID, "PAY", provider.PaymentRefunded, 10000),
		returned(l.ID, "PAY", provider.PaymentChargedBack, 10000), // stale: REFUNDED is absorbing
		// A payment whose success was never reported, refunded in full:
		// it was paid all the same, so the success hook runs once with
		// the refund hooks, on the same event.
		returned(l.ID, "MISSED", provider.PaymentRefunded, 10000),
	} {
		f.apply(t, ev)
	}
	want := []string{
		"paid SUCCESSFUL 0/0", "audit SUCCESSFUL 0/0",
		"refund PARTIALLY_REFUNDED 3000/3000", "audit PARTIALLY_REFUNDED 3000/3000",
		"chargeback PARTIALLY_CHARGED_BACK 4000/7000", "audit PARTIALLY_CHARGED_BACK 4000/7000",
		"refund REFUNDED 3000/10000", "audit REFUNDED 3000/10000",
		"refund REFUNDED 10000/10000", "audit REFUNDED 10000/10000", "paid REFUNDED 10000/10000",
	}
	waitFor(t, "every hook run", func() bool { return len(log.snapshot()) >= len(want) })
	waitFor(t, "runs to settle", func() bool {
		runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		return len(runs) == len(want)
	})
	got := map[string]int{}
	for _, c := range log.snapshot() {
		got[c]++
	}
	for _, w := range want {
		if got[w] != 1 {
			t.Errorf("hook call %q ran %d times, want once (all calls: %v)", w, got[w], log.snapshot())
		}
	}
	if n := len(log.snapshot()); n != len(want) {
		t.Errorf("%d hook calls, want %d: %v", n, len(want), log.snapshot())
	}
	for k, n := range log.ids {
		if n != 1 {
			t.Errorf("idempotency key %s used %d times", k, n)
		}
	}
}

// Two partial refunds decided on the same read must not both be written:
// the store refuses the second, which is decided again.
func TestConcurrentPartialRefundsEndAtTheLargestAmount(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var log hookLog
	must(t, f.svc.On("refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), log.hook("refund")))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkMultiple)
	f.apply(t, event(l.ID, "PAY", provider.PaymentSuccessful, 10000))
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			amount := []int64{3000, 5000, 7000, 9000}[i%4]
			if _, err := f.svc.ApplyEvent(context.Background(), returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, amount)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	p, err := f.store.GetPayment(t.Context(), "mem", "PAY")
	must(t, err)
	if p.State() != (provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 9000}) {
		t.Fatalf("after concurrent partial refunds: %s, want PARTIALLY_REFUNDED 9000", p.State())
	}
	hist, err := f.store.ListStatusChanges(t.Context(), "mem", "PAY")
	must(t, err)
	for i := 1; i < len(hist); i++ {
		prev := provider.PaymentState{Status: hist[i-1].To, Refunded: hist[i-1].Refunded}
		next := provider.PaymentState{Status: hist[i].To, Refunded: hist[i].Refunded}
		if !prev.CanTransition(next) {
			t.Errorf("history went backwards: %s then %s", prev, next)
		}
	}
	runs, err := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{Hook: "refund"})
	must(t, err)
	if len(runs) != len(hist)-1 {
		t.Errorf("%d refund hook runs for %d applied refunds", len(runs), len(hist)-1)
	}
}

func TestVerificationConfirmsRefundsAndChargebacks(t *testing.T) {
	f, _ := newVerifyFixture(t)
	l := f.link(t, 10000, provider.LinkMultiple)
	paid, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	f.apply(t, event(l.ID, paid.ID, provider.PaymentSuccessful, 10000))

	// Forged: the provider shows no refund at all.
	for _, ev := range []*provider.Event{
		returned(l.ID, paid.ID, provider.PaymentRefunded, 10000),
		returned(l.ID, paid.ID, provider.PaymentPartiallyChargedBack, 2000),
	} {
		out, err := f.svc.ApplyEvent(t.Context(), ev)
		if !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
			t.Fatalf("forged %s: verdict %s, err %v; want unverified", ev.Payment.Status, out.Verdict, err)
		}
	}
	// Genuine, but the callback claims more than the provider shows.
	_, err = f.mem.Refund(t.Context(), paid.ID, provider.RefundParams{Amount: provider.Rupiah(3000)})
	must(t, err)
	if out, _ := f.svc.ApplyEvent(t.Context(), returned(l.ID, paid.ID, provider.PaymentPartiallyRefunded, 6000)); out.Verdict != provider.VerdictUnverified {
		t.Fatalf("a partial refund larger than the provider shows: %s, want unverified", out.Verdict)
	}
	if got := f.status(t, paid.ID); got != provider.PaymentSuccessful {
		t.Fatalf("forged refunds moved the payment to %s", got)
	}
	// The genuine one, and a late one the provider has moved past.
	if out := f.apply(t, returned(l.ID, paid.ID, provider.PaymentPartiallyRefunded, 3000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("genuine partial refund: %s", out.Verdict)
	}
	_, err = f.mem.ChargeBack(paid.ID, 0)
	must(t, err)
	if out := f.apply(t, returned(l.ID, paid.ID, provider.PaymentChargedBack, 10000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("genuine chargeback: %s", out.Verdict)
	}
}

func TestServiceRefundAppliesTheProvidersAnswerOnce(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var log hookLog
	must(t, f.svc.On("refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), log.hook("refund")))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkSingle)
	paid, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	f.apply(t, event(l.ID, paid.ID, provider.PaymentSuccessful, 10000))

	out, err := f.svc.Refund(t.Context(), "", paid.ID, provider.RefundParams{Amount: provider.Rupiah(3000), Reason: "one item out of stock"})
	must(t, err)
	if out.Verdict != provider.VerdictApplied || out.Payment.State() != (provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 3000}) {
		t.Fatalf("Refund of 3000: %s %s", out.Verdict, out.Payment.State())
	}
	// The provider's notification of the same refund, arriving after.
	notified, err := f.mem.ListLinkPayments(t.Context(), l)
	must(t, err)
	if out := f.apply(t, &provider.Event{Provider: "mem", Payment: notified[0], Source: provider.SourceCallback}); out.Verdict != provider.VerdictDuplicate {
		t.Fatalf("notification of an applied refund: %s, want duplicate", out.Verdict)
	}
	out, err = f.svc.Refund(t.Context(), "", paid.ID, provider.RefundParams{})
	must(t, err)
	if out.Payment.State() != (provider.PaymentState{Status: provider.PaymentRefunded, Refunded: 10000}) {
		t.Fatalf("Refund of the rest: %s", out.Payment.State())
	}
	waitFor(t, "both refund hooks", func() bool { return len(log.snapshot()) >= 2 })
	waitFor(t, "runs to settle", func() bool {
		runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		return len(runs) == 2
	})
	got := log.snapshot()
	slices.Sort(got) // hooks run concurrently, in no set order
	if len(got) != 2 || got[0] != "refund PARTIALLY_REFUNDED 3000/3000" || got[1] != "refund REFUNDED 7000/10000" {
		t.Fatalf("refund hook calls: %v", got)
	}

	_, err = f.svc.Refund(t.Context(), "", paid.ID, provider.RefundParams{})
	if !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Errorf("refund of a refunded payment: %v, want CodeFailedPrecondition", err)
	}
	_, err = f.svc.Refund(t.Context(), "", "no-such-payment", provider.RefundParams{})
	if !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("refund of an unknown payment: %v, want CodeNotFound", err)
	}
}

func TestServiceRefundChecksTheAmountBeforeAskingTheProvider(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 10000, provider.LinkMultiple)
	paid, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	f.apply(t, event(l.ID, paid.ID, provider.PaymentSuccessful, 10000))
	for _, amount := range []provider.Money{provider.Rupiah(10001), provider.Rupiah(-1), {Amount: 10, Currency: "USD"}} {
		_, err := f.svc.Refund(t.Context(), "", paid.ID, provider.RefundParams{Amount: amount})
		if !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("refund of %v: %v, want CodeInvalidArgument", amount, err)
		}
	}
	pending, err := f.mem.Settle(f.link(t, 10000, provider.LinkSingle).ID, provider.PaymentPending, 0)
	must(t, err)
	f.apply(t, event(pending.LinkID, pending.ID, provider.PaymentPending, 10000))
	if _, err := f.svc.Refund(t.Context(), "", pending.ID, provider.RefundParams{}); !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Errorf("refund of an unpaid payment: %v, want CodeFailedPrecondition", err)
	}
	if ps, _ := f.mem.ListLinkPayments(t.Context(), l); ps[0].RefundedAmount.Amount != 0 {
		t.Errorf("a refused refund reached the provider: %v refunded", ps[0].RefundedAmount)
	}
}

// noRefunds is a provider without the Refunder capability.
type noRefunds struct{ provider.Provider }

func TestRefundWithoutTheCapabilityIsUnsupported(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	p := noRefunds{f.mem}
	_, err := provider.Refund(t.Context(), p, "PAY", provider.RefundParams{})
	if !errors.Is(err, provider.CodeUnimplemented) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("provider.Refund without the capability: %v", err)
	}
}

// A reversal with InsecureSkipVerify: the callback as sent is mapped the
// same way. After a partial refund it returns the whole amount (the delta
// is the rest); a payment first seen REVERSED was never delivered, so the
// success hooks do not run for it (unlike a payment first seen refunded).
func TestAReversalRunsItsHookOnceAndNeverTheSuccessHooksForAFirstSeenReversal(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	log := &hookLog{}
	must(t, f.svc.On("paid", provider.When(provider.PaymentSuccessful), log.hook("paid")))
	must(t, f.svc.On("reversed", provider.When(provider.PaymentReversed), log.hook("reversed")))
	must(t, f.svc.On("flag", provider.WhenFlagged(), log.hook("flag")))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkMultiple)

	f.apply(t, event(l.ID, "A", provider.PaymentSuccessful, 10000))
	f.apply(t, returned(l.ID, "A", provider.PaymentPartiallyRefunded, 3000))
	if out := f.apply(t, event(l.ID, "A", provider.PaymentFailed, 0)); out.Verdict != provider.VerdictApplied ||
		out.Payment.State() != (provider.PaymentState{Status: provider.PaymentReversed, Refunded: 10000}) {
		t.Fatalf("reversal after a partial refund: %+v", out)
	}
	if out := f.apply(t, event(l.ID, "A", provider.PaymentCancelled, 9000)); out.Verdict != provider.VerdictAmountMismatch {
		t.Fatalf("reversal of another amount: %s, want amount_mismatch", out.Verdict)
	}
	if out := f.apply(t, returned(l.ID, "B", provider.PaymentReversed, 10000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("first seen REVERSED: %s", out.Verdict)
	}
	f.settleRuns(t)
	got := log.snapshot()
	slices.Sort(got)
	want := []string{"flag CANCELLED 0/0", "paid SUCCESSFUL 0/0", "reversed REVERSED 10000/10000", "reversed REVERSED 7000/10000"}
	if !slices.Equal(got, want) {
		t.Fatalf("hooks ran %v, want %v", got, want)
	}
}
