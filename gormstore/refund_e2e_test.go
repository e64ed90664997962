package gormstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
	"github.com/paylinkgo/paylink/provider/providertest"
)

const e2eKey = "SB-Mid-server-refund-e2e"

// notifications collects the notifications the fake Midtrans sends, so a
// test delivers them to the Service when and in the order it chooses.
type notifications struct {
	mu   sync.Mutex
	got  [][]byte
	more chan struct{}
}

func (n *notifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	n.mu.Lock()
	n.got = append(n.got, b)
	n.mu.Unlock()
	select {
	case n.more <- struct{}{}:
	default:
	}
}

// take waits for, removes and returns the first notification of order
// with the given transaction status whose body also holds field.
func (n *notifications) take(t *testing.T, order, status, field string) []byte {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		n.mu.Lock()
		for i, b := range n.got {
			if bytes.Contains(b, []byte(`"order_id":"`+order+`"`)) && bytes.Contains(b, []byte(`"transaction_status":"`+status+`"`)) &&
				bytes.Contains(b, []byte(field)) {
				n.got = slices.Delete(n.got, i, i+1)
				n.mu.Unlock()
				return b
			}
		}
		n.mu.Unlock()
		select {
		case <-n.more:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s notification of %s with %s", status, order, field)
		}
	}
}

// hookCalls records the refund, chargeback and success hooks' calls.
type hookCalls struct {
	mu    sync.Mutex
	calls []string
}

func (h *hookCalls) record(name string) func(context.Context, *provider.HookEvent) error {
	return func(_ context.Context, ev *provider.HookEvent) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls = append(h.calls, fmt.Sprintf("%s %s %d/%d", name, ev.Status, ev.RefundedDelta.Amount, ev.Payment.RefundedAmount.Amount))
		return nil
	}
}

func (h *hookCalls) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// midtransE2E is a Service over a fresh store of one database and the fake
// Midtrans, with one order of 10,000 created; the fake's notifications
// are collected for the test to deliver when and in the order it chooses.
type midtransE2E struct {
	fake  *midtranstest.Server
	notes *notifications
	store *gormstore.Store
	svc   *provider.Service
	link  *provider.Link
}

// newMidtransE2E builds it on b, registers hooks through register, and
// starts the Service until the test ends.
func newMidtransE2E(t *testing.T, b backend, register func(*provider.Service) error) *midtransE2E {
	t.Helper()
	return newMidtransE2EWith(t, b, midtranstest.Options{}, midtrans.ProviderOptions{}, register)
}

// newMidtransE2EWith is newMidtransE2E with the fake's options (its
// ServerKey and NotificationURL are the harness's) and the provider's.
func newMidtransE2EWith(t *testing.T, b backend, fo midtranstest.Options, po midtrans.ProviderOptions, register func(*provider.Service) error) *midtransE2E {
	t.Helper()
	e := &midtransE2E{notes: &notifications{more: make(chan struct{}, 1)}}
	app := httptest.NewServer(e.notes)
	t.Cleanup(app.Close)
	fo.ServerKey, fo.NotificationURL = e2eKey, app.URL
	e.fake = midtranstest.NewServer(fo)
	t.Cleanup(e.fake.Close)
	e.store = migrated(t, b.open(t))
	svc, err := provider.NewService(e.store, provider.ServiceOptions{
		Providers:  []provider.Provider{midtrans.NewProvider(e.fake.Client(), po)},
		HookPolicy: provider.HookPolicy{MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Millisecond }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := register(svc); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	e.svc = svc
	if e.link, err = svc.CreateLink(t.Context(), "midtrans", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(10000)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// deliver hands a notification body to the Service as Midtrans would.
func (e *midtransE2E) deliver(t *testing.T, body []byte) provider.Outcome {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/midtrans", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	_, out, err := providertest.Deliver(t.Context(), e.svc, "midtrans", r)
	if err != nil {
		t.Fatalf("HandleCallback: %v", err)
	}
	return out
}

// Refunds and chargebacks end to end: the fake Midtrans, its signed
// notifications delivered through the Service, on each database. Each
// new cumulative amount runs its hook once with what it returned; a
// repeated notification (Midtrans sends each refund twice) runs nothing;
// an older partial notification arriving late, and a late settlement,
// change nothing; a refund asked for through Service.Refund runs its hook
// once, whether its answer or its notification comes first.
func TestRefundsAndChargebacksEndToEndOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range []struct {
				kind             string
				partial, full    string
				partialSt, fullS provider.PaymentStatus
				hook             string
				give             func(ctx context.Context, fake *midtranstest.Server, order string, amount int64) error
			}{
				{"Refund", "partial_refund", "refund", provider.PaymentPartiallyRefunded, provider.PaymentRefunded, "refunded",
					func(ctx context.Context, fake *midtranstest.Server, order string, amount int64) error {
						_, err := fake.Refund(ctx, order, amount)
						return err
					}},
				{"Chargeback", "partial_chargeback", "chargeback", provider.PaymentPartiallyChargedBack, provider.PaymentChargedBack, "charged_back",
					func(ctx context.Context, fake *midtranstest.Server, order string, amount int64) error {
						_, err := fake.Chargeback(ctx, order, amount)
						return err
					}},
			} {
				t.Run(c.kind, func(t *testing.T) {
					ctx := t.Context()
					var hooks hookCalls
					e := newMidtransE2E(t, b, func(svc *provider.Service) error {
						return errors.Join(
							svc.On("paid", provider.When(provider.PaymentSuccessful), hooks.record("paid")),
							svc.On("refunded", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), hooks.record("refunded")),
							svc.On("charged_back", provider.When(provider.PaymentPartiallyChargedBack, provider.PaymentChargedBack), hooks.record("charged_back")))
					})
					fake, notes, store, svc, l := e.fake, e.notes, e.store, e.svc, e.link
					must := func(err error) {
						t.Helper()
						if err != nil {
							t.Fatal(err)
						}
					}
					deliver := func(body []byte) provider.Outcome {
						t.Helper()
						return e.deliver(t, body)
					}
					want := func(what string, out provider.Outcome, v provider.Verdict, st provider.PaymentStatus, refunded int64) {
						t.Helper()
						p, err := store.GetPayment(ctx, "midtrans", l.ID)
						must(err)
						if out.Verdict != v || p.State() != (provider.PaymentState{Status: st, Refunded: refunded}) {
							t.Fatalf("%s: verdict %s, payment %s; want %s, %s %d", what, out.Verdict, p.State(), v, st, refunded)
						}
					}
					amount := func(n int64) string { return fmt.Sprintf(`"refund_amount":"%d.00"`, n) }

					// Each notification is delivered while Midtrans's status
					// API shows its status, as the Service confirms it there.
					_, err := fake.Choose(ctx, l.ID, midtranstest.Method{PaymentType: "gopay"})
					must(err)
					want("pending", deliver(notes.take(t, l.ID, "pending", "")), provider.VerdictApplied, provider.PaymentPending, 0)
					_, err = fake.Settle(ctx, l.ID)
					must(err)
					settlement := notes.take(t, l.ID, "settlement", "")
					want("settlement", deliver(settlement), provider.VerdictApplied, provider.PaymentSuccessful, 0)

					must(c.give(ctx, fake, l.ID, 3000))
					first := notes.take(t, l.ID, c.partial, amount(3000))
					want("3000 returned", deliver(first), provider.VerdictApplied, c.partialSt, 3000)
					want("the same notification again", deliver(first), provider.VerdictDuplicate, c.partialSt, 3000)
					if c.kind == "Refund" {
						confirmed := notes.take(t, l.ID, c.partial, `"bank_confirmed_at"`)
						want("the bank-confirmed notification", deliver(confirmed), provider.VerdictDuplicate, c.partialSt, 3000)
					}

					must(c.give(ctx, fake, l.ID, 2000)) // 5000 in all: held back, delivered late
					held := notes.take(t, l.ID, c.partial, amount(5000))
					must(c.give(ctx, fake, l.ID, 2000)) // 7000 in all
					want("7000 returned", deliver(notes.take(t, l.ID, c.partial, amount(7000))), provider.VerdictApplied, c.partialSt, 7000)
					want("the older 5000 arriving late", deliver(held), provider.VerdictStale, c.partialSt, 7000)

					if c.kind == "Refund" {
						// The rest, asked for through the Service: its answer
						// is applied at once, and Midtrans's notification of
						// the same refund is then a duplicate.
						out, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{Reason: "order cancelled"})
						must(err)
						want("Service.Refund of the rest", out, provider.VerdictApplied, c.fullS, 10000)
						want("its notification", deliver(notes.take(t, l.ID, c.full, amount(10000))), provider.VerdictDuplicate, c.fullS, 10000)
					} else {
						must(c.give(ctx, fake, l.ID, 0)) // the rest
						want("all returned", deliver(notes.take(t, l.ID, c.full, amount(10000))), provider.VerdictApplied, c.fullS, 10000)
					}
					// A late settlement notification: the success was
					// applied, so it is a duplicate, and the payment stays
					// returned in full.
					want("a late settlement", deliver(settlement), provider.VerdictDuplicate, c.fullS, 10000)

					wantCalls := []string{
						"paid SUCCESSFUL 0/0",
						fmt.Sprintf("%s %s 3000/3000", c.hook, c.partialSt),
						fmt.Sprintf("%s %s 4000/7000", c.hook, c.partialSt),
						fmt.Sprintf("%s %s 3000/10000", c.hook, c.fullS),
					}
					deadline := time.Now().Add(30 * time.Second)
					for {
						runs, err := svc.Store().(provider.Reader).ListHookRuns(ctx, provider.HookRunFilter{State: provider.HookRunSucceeded})
						must(err)
						if len(runs) >= len(wantCalls) || time.Now().After(deadline) {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					got := hooks.list()
					slices.Sort(got)
					slices.Sort(wantCalls)
					if !slices.Equal(got, wantCalls) {
						t.Fatalf("hook calls:\n got %q\nwant %q", got, wantCalls)
					}
				})
			}
		})
	}
}

// A refund notification signed with the right key but for a refund
// Midtrans never made (the status API shows the order settled) changes
// nothing: the Service confirms every Midtrans notification with the
// status API, so it is recorded as unverified and answered with an error
// Midtrans retries on.
func TestAForgedRefundNotificationChangesNothing(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			fake := midtranstest.NewServer(midtranstest.Options{ServerKey: e2eKey, NotificationURL: "http://127.0.0.1:1/unused"})
			t.Cleanup(fake.Close)
			store := migrated(t, b.open(t))
			svc, err := provider.NewService(store, provider.ServiceOptions{
				Providers: []provider.Provider{midtrans.NewProvider(fake.Client(), midtrans.ProviderOptions{})},
			})
			if err != nil {
				t.Fatal(err)
			}
			l, err := svc.CreateLink(ctx, "midtrans", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(10000)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := svc.RefreshLink(ctx, "midtrans", l.ID); err != nil {
				t.Fatal(err)
			}
			for _, forged := range []midtrans.Transaction{
				{TransactionStatus: midtrans.StatusRefund, RefundAmount: "10000.00"},
				{TransactionStatus: midtrans.StatusPartialChargeback, RefundAmount: "2500.00"},
			} {
				forged.OrderID, forged.StatusCode, forged.GrossAmount = l.ID, "200", "10000.00"
				r, err := midtrans.NewNotificationRequest(ctx, "http://app.invalid/midtrans", e2eKey, forged)
				if err != nil {
					t.Fatal(err)
				}
				_, out, err := providertest.Deliver(ctx, svc, "midtrans", r)
				if !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
					t.Fatalf("forged %s: verdict %s, err %v; want unverified, CodeUnavailable", forged.TransactionStatus, out.Verdict, err)
				}
			}
			p, err := store.GetPayment(ctx, "midtrans", l.ID)
			if err != nil || p.State() != (provider.PaymentState{Status: provider.PaymentSuccessful}) {
				t.Fatalf("after forged refunds: %+v, %v; want SUCCESSFUL, nothing refunded", p, err)
			}
		})
	}
}

// Midtrans reports a bank's reversal of a settled payment as deny. The
// ladder never goes back, so the payment stays SUCCESSFUL, but the deny
// is flagged failed_after_paid and the flagged hook runs once, however
// often Midtrans repeats it: a person looks at money that may have gone
// back, instead of it passing as a stale callback.
func TestASettlementReversalIsAppliedOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			var hooks hookCalls
			e := newMidtransE2E(t, b, func(svc *provider.Service) error {
				if err := svc.On("reversed", provider.When(provider.PaymentReversed), hooks.record("reversed")); err != nil {
					return err
				}
				if err := svc.On("paid", provider.When(provider.PaymentSuccessful), hooks.record("paid")); err != nil {
					return err
				}
				return svc.On("look", provider.WhenFlagged(), hooks.record("look"))
			})
			fake, notes, store, l := e.fake, e.notes, e.store, e.link
			deliver := func(body []byte) provider.Verdict {
				t.Helper()
				return e.deliver(t, body).Verdict
			}
			// Each notification is delivered while Midtrans's status API
			// shows its status, as the Service confirms it there.
			if _, err := fake.Choose(ctx, l.ID, midtranstest.Method{PaymentType: "gopay"}); err != nil {
				t.Fatal(err)
			}
			if v := deliver(notes.take(t, l.ID, "pending", "")); v != provider.VerdictApplied {
				t.Fatalf("pending: verdict %s, want applied", v)
			}
			if _, err := fake.Settle(ctx, l.ID); err != nil {
				t.Fatal(err)
			}
			if v := deliver(notes.take(t, l.ID, "settlement", "")); v != provider.VerdictApplied {
				t.Fatalf("settlement: verdict %s, want applied", v)
			}
			if _, err := fake.Deny(ctx, l.ID); err != nil {
				t.Fatalf("the reversal: %v", err)
			}
			deny := notes.take(t, l.ID, "deny", "")
			for i, want := range []provider.Verdict{provider.VerdictApplied, provider.VerdictDuplicate} {
				if v := deliver(deny); v != want {
					t.Fatalf("deny after settlement, delivery %d: verdict %s, want %s", i+1, v, want)
				}
			}
			p, err := store.GetPayment(ctx, "midtrans", l.ID)
			if err != nil || p.Status != provider.PaymentReversed || p.RefundedAmount.Amount != p.Amount.Amount || p.Amount.Amount == 0 {
				t.Fatalf("payment after the reversal: %+v, %v; want it REVERSED with all of it returned", p, err)
			}
			all := fmt.Sprintf("%d/%d", p.Amount.Amount, p.Amount.Amount)
			want := []string{"paid SUCCESSFUL 0/0", "reversed REVERSED " + all}
			deadline := time.Now().Add(10 * time.Second)
			for len(hooks.list()) < len(want) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // a second run, if one were queued, would be due by now
			got := hooks.list()
			slices.Sort(got) // runs are independent: a busy machine may finish them in any order
			if !slices.Equal(got, want) {
				t.Fatalf("hook calls = %v, want %v: the reversal hook once, no flagged hook", got, want)
			}
			flagged, err := store.ListCallbacks(ctx, provider.CallbackFilter{Flagged: true})
			if err != nil || len(flagged) != 0 {
				t.Fatalf("flagged callbacks = %+v, %v; want none", flagged, err)
			}
			hist, err := store.ListStatusChanges(ctx, "midtrans", l.ID)
			if err != nil || len(hist) == 0 || hist[len(hist)-1].From != provider.PaymentSuccessful || hist[len(hist)-1].To != provider.PaymentReversed {
				t.Fatalf("history = %+v, %v; want SUCCESSFUL -> REVERSED last", hist, err)
			}
		})
	}
}
