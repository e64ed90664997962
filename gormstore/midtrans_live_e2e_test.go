package gormstore_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// Going live with Midtrans (provider/midtrans/doc.go), end to end: the
// fake Midtrans, its notifications delivered through the Service, on each
// database, the store's state asserted after each step.

// liveE2E is a midtransE2E with a paid hook (SUCCESSFUL) and a refunded
// hook (PARTIALLY_REFUNDED, REFUNDED) registered and recorded.
type liveE2E struct {
	*midtransE2E
	hooks *hookCalls
}

func newLiveE2E(t *testing.T, b backend, fo midtranstest.Options, po midtrans.ProviderOptions) *liveE2E {
	t.Helper()
	hooks := &hookCalls{}
	e := newMidtransE2EWith(t, b, fo, po, func(svc *provider.Service) error {
		return errors.Join(
			svc.On("paid", provider.When(provider.PaymentSuccessful), hooks.record("paid")),
			svc.On("refunded", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), hooks.record("refunded")))
	})
	return &liveE2E{e, hooks}
}

// payment reads the order's payment from the store.
func (e *liveE2E) payment(t *testing.T) *provider.Payment {
	t.Helper()
	p, err := e.store.GetPayment(t.Context(), "midtrans", e.link.ID)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	return p
}

// wantState checks the stored payment's status and refunded amount.
func (e *liveE2E) wantState(t *testing.T, what string, st provider.PaymentStatus, refunded int64) *provider.Payment {
	t.Helper()
	p := e.payment(t)
	if p.State() != (provider.PaymentState{Status: st, Refunded: refunded}) {
		t.Fatalf("%s: stored payment %s; want %s %d", what, p.State(), st, refunded)
	}
	return p
}

// history reads the order's status history from the store.
func (e *liveE2E) history(t *testing.T) []provider.StatusChange {
	t.Helper()
	h, err := provider.Reader(e.store).ListStatusChanges(t.Context(), "midtrans", e.link.ID)
	if err != nil {
		t.Fatalf("ListStatusChanges: %v", err)
	}
	return h
}

// wantLast checks that the history's last change is to st with refunded.
func (e *liveE2E) wantLast(t *testing.T, what string, st provider.PaymentStatus, refunded int64) []provider.StatusChange {
	t.Helper()
	h := e.history(t)
	if len(h) == 0 || h[len(h)-1].To != st || h[len(h)-1].Refunded != refunded {
		t.Fatalf("%s: status history %+v; want it to end at %s %d", what, h, st, refunded)
	}
	return h
}

// runs lists the stored runs of hook for the order.
func (e *liveE2E) runs(t *testing.T, hook string) []provider.HookRun {
	t.Helper()
	rs, err := provider.Reader(e.store).ListHookRuns(t.Context(), provider.HookRunFilter{Provider: "midtrans", PaymentID: e.link.ID, Hook: hook})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	return rs
}

// wantHooks waits until the order's stored hook runs have all succeeded
// and number len(want), lets a further run come due, then checks the runs
// again and the hooks' recorded calls against want.
func (e *liveE2E) wantHooks(t *testing.T, what string, want ...string) {
	t.Helper()
	done := func() (n int, ok bool) {
		for _, h := range []string{"paid", "refunded"} {
			for _, r := range e.runs(t, h) {
				n++
				if r.State != provider.HookRunSucceeded {
					return n, false
				}
			}
		}
		return n, true
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, ok := done()
		if ok && n >= len(want) && len(e.hooks.list()) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a further run, if one were queued, would be due by now
	n, ok := done()
	got := e.hooks.list()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !ok || n != len(want) || !slices.Equal(got, want) {
		t.Fatalf("%s: %d stored hook runs (all succeeded: %v), calls %q; want %q", what, n, ok, got, want)
	}
}

// settle pays the order with gopay and delivers its settlement.
func (e *liveE2E) settle(t *testing.T) {
	t.Helper()
	if _, err := e.fake.Pay(t.Context(), e.link.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); err != nil {
		t.Fatal(err)
	}
	if out := e.deliver(t, e.notes.take(t, e.link.ID, "settlement", "")); out.Verdict != provider.VerdictApplied {
		t.Fatalf("settlement: verdict %s, want applied", out.Verdict)
	}
	e.wantState(t, "settled", provider.PaymentSuccessful, 0)
}

// With Automatic Fee Imposition on in the dashboard: allowed
// (AllowFeeImposition), the customer pays the order plus the fee and the
// payment is SUCCESSFUL at the order's amount, the fee kept in Raw; not
// allowed, CreateLink turned the fee off, so the customer pays the
// order's amount. Either way the order is paid and the paid hook runs
// once, however often the settlement is delivered.
func TestAFeeImposedSettlementPaysTheOrderOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range []struct {
				name  string
				allow bool
				gross string
			}{
				{"Allowed", true, `"gross_amount":"10071.00"`},
				{"TurnedOff", false, `"gross_amount":"10000.00"`},
			} {
				t.Run(c.name, func(t *testing.T) {
					e := newLiveE2E(t, b, midtranstest.Options{ImposedFee: 71}, midtrans.ProviderOptions{AllowFeeImposition: c.allow})
					if _, err := e.fake.Pay(t.Context(), e.link.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); err != nil {
						t.Fatal(err)
					}
					body := e.notes.take(t, e.link.ID, "settlement", "")
					if !bytes.Contains(body, []byte(c.gross)) {
						t.Fatalf("settlement notification %s; want %s", body, c.gross)
					}
					if out := e.deliver(t, body); out.Verdict != provider.VerdictApplied {
						t.Fatalf("settlement: verdict %s, want applied", out.Verdict)
					}
					p := e.wantState(t, "settled", provider.PaymentSuccessful, 0)
					fee := bytes.Contains(p.Raw, []byte(`"customer_imposed_payment_fee":"71"`))
					if p.Amount.Amount != 10000 || fee != c.allow {
						t.Fatalf("stored payment: amount %d, fee in Raw %v (%s); want 10000, %v", p.Amount.Amount, fee, p.Raw, c.allow)
					}
					h := e.wantLast(t, "settled", provider.PaymentSuccessful, 0)
					if out := e.deliver(t, body); out.Verdict != provider.VerdictDuplicate {
						t.Fatalf("the settlement again: verdict %s, want duplicate", out.Verdict)
					}
					if h2 := e.history(t); len(h2) != len(h) {
						t.Fatalf("the settlement again changed the history: %+v, was %+v", h2, h)
					}
					e.wantHooks(t, "paid", "paid SUCCESSFUL 0/0")
				})
			}
		})
	}
}

// A refund the bank declines after a partial refund (HTTP 200, "202",
// still partial_refund) is an error, and nothing in the store changes:
// the payment stays PARTIALLY_REFUNDED with the first amount, the status
// history is unchanged, no refund hook runs.
func TestADeclinedRefundChangesNothingOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			e := newLiveE2E(t, b, midtranstest.Options{}, midtrans.ProviderOptions{})
			e.settle(t)
			out, err := e.svc.Refund(ctx, "midtrans", e.link.ID, provider.RefundParams{Amount: provider.Rupiah(3000)})
			if err != nil || out.Payment.Status != provider.PaymentPartiallyRefunded || out.Payment.RefundedAmount.Amount != 3000 {
				t.Fatalf("partial refund of 3000: %+v, %v", out, err)
			}
			e.wantState(t, "3000 refunded", provider.PaymentPartiallyRefunded, 3000)
			before := e.wantLast(t, "3000 refunded", provider.PaymentPartiallyRefunded, 3000)
			e.wantHooks(t, "3000 refunded", "paid SUCCESSFUL 0/0", "refunded PARTIALLY_REFUNDED 3000/3000")

			e.fake.FailRefunds(midtranstest.RefundDeniedByBank, 1)
			out, err = e.svc.Refund(ctx, "midtrans", e.link.ID, provider.RefundParams{Amount: provider.Rupiah(2000)})
			if !errors.Is(err, provider.CodeFailedPrecondition) || !strings.Contains(err.Error(), "Refund denied by the bank") {
				t.Fatalf("declined refund of 2000: %+v, %v; want CodeFailedPrecondition quoting Midtrans", out, err)
			}
			e.wantState(t, "after the declined refund", provider.PaymentPartiallyRefunded, 3000)
			if after := e.history(t); !slices.Equal(after, before) {
				t.Fatalf("after the declined refund: status history %+v; was %+v", after, before)
			}
			e.wantHooks(t, "after the declined refund", "paid SUCCESSFUL 0/0", "refunded PARTIALLY_REFUNDED 3000/3000")
		})
	}
}

// A card captured today cannot be refunded: a refund of part of it is
// CodeFailedPrecondition and changes nothing; a refund of all of it
// cancels it, stored REFUNDED with the whole amount, the refund hook run
// once. The cancel notification that follows changes nothing.
func TestASameDayCardRefundIsACancelOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			e := newLiveE2E(t, b, midtranstest.Options{}, midtrans.ProviderOptions{})
			if _, err := e.fake.Pay(ctx, e.link.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}}); err != nil {
				t.Fatal(err)
			}
			if out := e.deliver(t, e.notes.take(t, e.link.ID, "capture", "")); out.Verdict != provider.VerdictApplied {
				t.Fatalf("capture: verdict %s, want applied", out.Verdict)
			}
			e.wantState(t, "captured", provider.PaymentSuccessful, 0)
			before := e.wantLast(t, "captured", provider.PaymentSuccessful, 0)
			e.wantHooks(t, "captured", "paid SUCCESSFUL 0/0")

			_, err := e.svc.Refund(ctx, "midtrans", e.link.ID, provider.RefundParams{Amount: provider.Rupiah(4000)})
			if !errors.Is(err, provider.CodeFailedPrecondition) || !strings.Contains(err.Error(), "captured but not settled") {
				t.Fatalf("partial refund of a capture: %v; want CodeFailedPrecondition naming the reason", err)
			}
			e.wantState(t, "after the partial refund", provider.PaymentSuccessful, 0)
			if after := e.history(t); !slices.Equal(after, before) {
				t.Fatalf("after the partial refund: status history %+v; was %+v", after, before)
			}
			e.wantHooks(t, "after the partial refund", "paid SUCCESSFUL 0/0")

			out, err := e.svc.Refund(ctx, "midtrans", e.link.ID, provider.RefundParams{})
			if err != nil || out.Payment.Status != provider.PaymentRefunded || out.Payment.RefundedAmount.Amount != 10000 {
				t.Fatalf("full refund of a capture: %+v, %v", out, err)
			}
			e.wantState(t, "cancelled", provider.PaymentRefunded, 10000)
			h := e.wantLast(t, "cancelled", provider.PaymentRefunded, 10000)
			if len(h) != len(before)+1 {
				t.Fatalf("cancelled: status history %+v; want one change after %+v", h, before)
			}
			e.wantHooks(t, "cancelled", "paid SUCCESSFUL 0/0", "refunded REFUNDED 10000/10000")

			// The cancel that followed is the refund as Midtrans reports
			// it: a reversal after a full refund is stale, and changes nothing.
			if out := e.deliver(t, e.notes.take(t, e.link.ID, "cancel", "")); out.Verdict != provider.VerdictStale {
				t.Fatalf("the cancel notification: verdict %s, want stale", out.Verdict)
			}
			e.wantState(t, "after the cancel notification", provider.PaymentRefunded, 10000)
			if after := e.history(t); !slices.Equal(after, h) {
				t.Fatalf("after the cancel notification: status history %+v; was %+v", after, h)
			}
			e.wantHooks(t, "after the cancel notification", "paid SUCCESSFUL 0/0", "refunded REFUNDED 10000/10000")
		})
	}
}

// Midtrans sends numbers where strings are documented: a settlement with
// gross_amount and status_code as JSON numbers, and a partial refund with
// refund_amount as numbers too, are applied (the payment moves, its hook
// runs once), and the same notification as strings is then a duplicate.
func TestANumberWhereAStringWasExpectedIsAppliedOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			e := newLiveE2E(t, b, midtranstest.Options{}, midtrans.ProviderOptions{})
			numbers := func(body []byte, from ...string) []byte {
				t.Helper()
				for i := 0; i < len(from); i += 2 {
					if !bytes.Contains(body, []byte(from[i])) {
						t.Fatalf("notification %s has no %s", body, from[i])
					}
					body = bytes.ReplaceAll(body, []byte(from[i]), []byte(from[i+1]))
				}
				return body
			}
			if _, err := e.fake.Choose(ctx, e.link.ID, midtranstest.Method{PaymentType: "gopay"}); err != nil {
				t.Fatal(err)
			}
			if out := e.deliver(t, e.notes.take(t, e.link.ID, "pending", "")); out.Verdict != provider.VerdictApplied {
				t.Fatalf("pending: verdict %s, want applied", out.Verdict)
			}
			e.wantState(t, "pending", provider.PaymentPending, 0)
			if _, err := e.fake.Settle(ctx, e.link.ID); err != nil {
				t.Fatal(err)
			}
			settlement := e.notes.take(t, e.link.ID, "settlement", "")
			numeric := numbers(settlement, `"gross_amount":"10000.00"`, `"gross_amount":10000`, `"status_code":"200"`, `"status_code":200`)
			if out := e.deliver(t, numeric); out.Verdict != provider.VerdictApplied {
				t.Fatalf("settlement with numbers: verdict %s, want applied", out.Verdict)
			}
			if p := e.wantState(t, "settled", provider.PaymentSuccessful, 0); p.Amount.Amount != 10000 {
				t.Fatalf("settled: amount %d, want 10000", p.Amount.Amount)
			}
			h := e.wantLast(t, "settled", provider.PaymentSuccessful, 0)
			if out := e.deliver(t, settlement); out.Verdict != provider.VerdictDuplicate {
				t.Fatalf("the settlement as strings: verdict %s, want duplicate", out.Verdict)
			}
			if after := e.history(t); !slices.Equal(after, h) {
				t.Fatalf("the settlement as strings changed the history: %+v, was %+v", after, h)
			}
			e.wantHooks(t, "settled", "paid SUCCESSFUL 0/0")

			if _, err := e.fake.Refund(ctx, e.link.ID, 3000); err != nil {
				t.Fatal(err)
			}
			refund := e.notes.take(t, e.link.ID, "partial_refund", `"refund_amount":"3000.00"`)
			numeric = numbers(refund, `"gross_amount":"10000.00"`, `"gross_amount":10000`, `"refund_amount":"3000.00"`, `"refund_amount":3000`)
			if out := e.deliver(t, numeric); out.Verdict != provider.VerdictApplied {
				t.Fatalf("partial refund with numbers: verdict %s, want applied", out.Verdict)
			}
			e.wantState(t, "3000 refunded", provider.PaymentPartiallyRefunded, 3000)
			h = e.wantLast(t, "3000 refunded", provider.PaymentPartiallyRefunded, 3000)
			if out := e.deliver(t, refund); out.Verdict != provider.VerdictDuplicate {
				t.Fatalf("the partial refund as strings: verdict %s, want duplicate", out.Verdict)
			}
			if after := e.history(t); !slices.Equal(after, h) {
				t.Fatalf("the partial refund as strings changed the history: %+v, was %+v", after, h)
			}
			e.wantHooks(t, "3000 refunded", "paid SUCCESSFUL 0/0", "refunded PARTIALLY_REFUNDED 3000/3000")
		})
	}
}

// A deactivated order cannot be paid: after a denied attempt (the payment
// FAILED), the Service deactivates the link, which cancels the Snap
// session too, so the customer's second attempt on the same order is
// refused; the link is stored INACTIVE and the payment stays FAILED.
func TestADeactivatedOrderTakesNoSecondAttemptOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			e := newMidtransE2E(t, b, func(*provider.Service) error { return nil })
			fake, l := e.fake, e.link
			if _, err := fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"}); err != nil {
				t.Fatal(err)
			}
			if _, err := fake.Deny(ctx, l.ID); err != nil {
				t.Fatal(err)
			}
			if out := e.deliver(t, e.notes.take(t, l.ID, "deny", "")); out.Verdict != provider.VerdictApplied || out.Payment.Status != provider.PaymentFailed {
				t.Fatalf("the denied attempt: %+v, want applied, FAILED", out)
			}
			got, err := e.svc.DeactivateLink(ctx, "midtrans", l.ID)
			if err != nil || got.Status != provider.LinkInactive {
				t.Fatalf("DeactivateLink: %+v, %v; want INACTIVE", got, err)
			}
			if _, err := fake.Pay(ctx, l.ID, midtranstest.PayOptions{}); !errors.Is(err, midtranstest.ErrWrongState) {
				t.Fatalf("a second attempt on the deactivated order: %v, want it refused", err)
			}
			stored, err := e.store.GetLink(ctx, "midtrans", l.ID)
			if err != nil || stored.Status != provider.LinkInactive {
				t.Fatalf("stored link %+v, %v; want INACTIVE", stored, err)
			}
			if p, err := e.store.GetPayment(ctx, "midtrans", l.ID); err != nil || p.Status != provider.PaymentFailed {
				t.Fatalf("payment %+v, %v; want FAILED", p, err)
			}
		})
	}
}

// A challenged card the merchant never approves is never paid: the
// capture challenged by the fraud check leaves the payment unpaid, and
// when Midtrans cancels it at the settlement cut-off (16:00 WIB the next
// day, on the fake's clock) the payment ends CANCELLED; SUCCESSFUL is
// never reached and the paid hook never runs.
func TestAChallengedCardLeftToExpireIsNeverPaidOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			var offset atomic.Int64
			now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			e := newLiveE2E(t, b, midtranstest.Options{CancelUnapprovedChallenges: true, Now: now}, midtrans.ProviderOptions{})
			id := e.link.ID
			card := midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"}
			if _, err := e.fake.Pay(ctx, id, card); err != nil {
				t.Fatal(err)
			}
			for _, status := range []string{"pending", "capture"} {
				if out := e.deliver(t, e.notes.take(t, id, status, "")); out.Payment != nil && out.Payment.Status == provider.PaymentSuccessful {
					t.Fatalf("%s: %+v, a challenged card counted as paid", status, out)
				}
			}
			if got, err := e.fake.Tick(ctx); err != nil || len(got) != 0 {
				t.Fatalf("before the cut-off, Tick changed %+v, %v", got, err)
			}
			offset.Store(int64(48 * time.Hour)) // past 16:00 WIB the next day, whenever the test runs
			if got, err := e.fake.Tick(ctx); err != nil || len(got) != 1 || got[0].TransactionStatus != "cancel" {
				t.Fatalf("after the cut-off, Tick = %+v, %v; want the capture cancelled", got, err)
			}
			if out := e.deliver(t, e.notes.take(t, id, "cancel", "")); out.Verdict != provider.VerdictApplied {
				t.Fatalf("the cancel: verdict %s, want applied", out.Verdict)
			}
			e.wantState(t, "left to expire", provider.PaymentCancelled, 0)
			for _, c := range e.history(t) {
				if c.To == provider.PaymentSuccessful {
					t.Fatalf("status history %+v reaches SUCCESSFUL", e.history(t))
				}
			}
			e.wantHooks(t, "never paid")
		})
	}
}
