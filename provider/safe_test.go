package provider_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// These tests pin what "safe by default" means for the rules: with the
// zero ServiceOptions, no callback the provider does not confirm moves
// money, runs a hook or records a money fact.

// reversingProvider shows some paid payments CANCELLED, as a gateway
// reports a bank's reversal of a settled payment.
type reversingProvider struct {
	*providertest.MemProvider
	mu       sync.Mutex
	reversed map[string]bool
}

func (r *reversingProvider) reverse(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reversed == nil {
		r.reversed = map[string]bool{}
	}
	r.reversed[id] = true
}

func (r *reversingProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	pays, err := r.MemProvider.ListLinkPayments(ctx, link)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range pays {
		if r.reversed[pays[i].ID] {
			pays[i].Status = provider.PaymentCancelled
		}
	}
	return pays, err
}

// newSafeFixture is a Service with the zero options (verification on)
// over a provider that can reverse payments, with a flagged hook and the
// succeeded and refund hooks counted.
func newSafeFixture(t *testing.T) (*fixture, *reversingProvider, *hookLog) {
	t.Helper()
	f := &fixture{store: providertest.NewMemStore(), mem: providertest.NewMemProvider("mem", "tok")}
	rp := &reversingProvider{MemProvider: f.mem}
	svc, err := provider.NewService(f.store, provider.ServiceOptions{Providers: []provider.Provider{rp},
		Logger:     slog.New(slog.DiscardHandler),
		HookPolicy: provider.HookPolicy{MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Millisecond }, Timeout: 10 * time.Second}})
	must(t, err)
	f.svc = svc
	log := &hookLog{}
	must(t, svc.On("paid", provider.When(provider.PaymentSuccessful), log.hook("paid")))
	must(t, svc.On("refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), log.hook("refund")))
	must(t, svc.On("reversed", provider.When(provider.PaymentReversed), log.hook("reversed")))
	must(t, svc.On("flag", provider.WhenFlagged(), log.hook("flag")))
	must(t, svc.Start(t.Context()))
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	return f, rp, log
}

// settleRuns waits until the hook runs queued so far have all succeeded.
func (f *fixture) settleRuns(t *testing.T) {
	t.Helper()
	waitFor(t, "hook runs to settle", func() bool {
		runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{})
		for _, r := range runs {
			if r.State != provider.HookRunSucceeded {
				return false
			}
		}
		return true
	})
}

func TestForgedRefundsChangeNothingAndRunNoHook(t *testing.T) {
	f, _, log := newSafeFixture(t)
	l := f.link(t, 10000, provider.LinkMultiple)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 10000))

	// The attack: a settlement rewritten to partial refunds of growing
	// amounts, then a full refund. The provider shows none of them.
	for _, ev := range []*provider.Event{
		returned(l.ID, pay.ID, provider.PaymentPartiallyRefunded, 1000),
		returned(l.ID, pay.ID, provider.PaymentPartiallyRefunded, 2000),
		returned(l.ID, pay.ID, provider.PaymentPartiallyRefunded, 3000),
		returned(l.ID, pay.ID, provider.PaymentRefunded, 10000),
	} {
		out, err := f.svc.ApplyEvent(t.Context(), ev)
		if !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
			t.Fatalf("forged %s %d: verdict %s, err %v; want unverified, CodeUnavailable", ev.Payment.Status, ev.Payment.RefundedAmount.Amount, out.Verdict, err)
		}
	}
	if got := f.status(t, pay.ID); got != provider.PaymentSuccessful {
		t.Fatalf("payment is %s after forged refunds, want SUCCESSFUL", got)
	}
	f.settleRuns(t)
	if got := log.snapshot(); len(got) != 1 || got[0] != "paid SUCCESSFUL 0/0" {
		t.Fatalf("hooks ran %v, want only the success", got)
	}

	// A real refund is confirmed and applied, once.
	_, err = f.mem.Refund(t.Context(), pay.ID, provider.RefundParams{Amount: provider.Rupiah(3000)})
	must(t, err)
	if out := f.apply(t, returned(l.ID, pay.ID, provider.PaymentPartiallyRefunded, 3000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("real refund: verdict %s, want applied", out.Verdict)
	}
	waitFor(t, "the refund hook", func() bool { return len(log.snapshot()) == 2 })
}

func TestAFlaggedAmountIsConfirmedAndItsHookRunsOncePerPayment(t *testing.T) {
	f, _, log := newSafeFixture(t)
	l := f.link(t, 10000, provider.LinkMultiple)
	paid, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)

	// A forged underpayment of a payment the provider shows paid in
	// full: not confirmed, no flagged hook, nothing recorded as a fact.
	if out, err := f.svc.ApplyEvent(t.Context(), event(l.ID, paid.ID, provider.PaymentSuccessful, 4000)); out.Verdict != provider.VerdictUnverified || err == nil {
		t.Fatalf("forged amount: verdict %s, err %v; want unverified with an error", out.Verdict, err)
	}

	// A real underpayment is confirmed and flagged; a sender trying
	// other amounts for it runs no second flagged hook.
	under, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 4000)
	must(t, err)
	if out := f.apply(t, event(l.ID, under.ID, provider.PaymentSuccessful, 4000)); out.Verdict != provider.VerdictAmountMismatch || out.HookRuns != 1 {
		t.Fatalf("real underpayment: %+v, want amount_mismatch with one hook run", out)
	}
	for _, amount := range []int64{4000, 4001, 1, 9999, 4000} {
		out, _ := f.svc.ApplyEvent(t.Context(), event(l.ID, under.ID, provider.PaymentSuccessful, amount))
		if out.HookRuns != 0 {
			t.Fatalf("amount %d: %d more hook runs, want none", amount, out.HookRuns)
		}
	}
	f.settleRuns(t)
	if got := log.snapshot(); len(got) != 1 || !strings.HasPrefix(got[0], "flag ") {
		t.Fatalf("hooks ran %v, want one flagged hook", got)
	}
}

func TestAReversalIsAppliedOnlyWhenTheProviderShowsIt(t *testing.T) {
	f, rp, log := newSafeFixture(t)
	l := f.link(t, 10000, provider.LinkMultiple)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 10000))

	// A forged cancellation of a paid payment: the provider shows it
	// paid, so the news is the success again.
	if out := f.apply(t, event(l.ID, pay.ID, provider.PaymentCancelled, 10000)); out.Verdict != provider.VerdictDuplicate || out.HookRuns != 0 {
		t.Fatalf("forged reversal: %+v, want a duplicate of the success, no hook", out)
	}
	// The bank reverses it: confirmed, applied as REVERSED, one hook run.
	rp.reverse(pay.ID)
	out := f.apply(t, event(l.ID, pay.ID, provider.PaymentCancelled, 10000))
	if out.Verdict != provider.VerdictApplied || out.HookRuns != 1 || out.Payment.Status != provider.PaymentReversed {
		t.Fatalf("real reversal: %+v, want applied REVERSED with one hook run", out)
	}
	for _, st := range []provider.PaymentStatus{provider.PaymentCancelled, provider.PaymentFailed} {
		if out := f.apply(t, event(l.ID, pay.ID, st, 10000)); out.Verdict != provider.VerdictDuplicate || out.HookRuns != 0 {
			t.Fatalf("the reversal reported again as %s: %+v, want a duplicate with no hook", st, out)
		}
	}
	// A refund after the reversal is stale: nothing is left to return.
	if out := f.apply(t, returned(l.ID, pay.ID, provider.PaymentRefunded, 10000)); out.Verdict != provider.VerdictStale || out.HookRuns != 0 {
		t.Fatalf("refund after the reversal: %+v, want stale", out)
	}
	p, err := f.store.GetPayment(t.Context(), "mem", pay.ID)
	must(t, err)
	if p.State() != (provider.PaymentState{Status: provider.PaymentReversed, Refunded: 10000}) {
		t.Fatalf("reversed payment is %s, want REVERSED 10000", p.State())
	}
	f.settleRuns(t)
	got := log.snapshot()
	slices.Sort(got)
	if want := []string{"paid SUCCESSFUL 0/0", "reversed REVERSED 10000/10000"}; !slices.Equal(got, want) {
		t.Fatalf("hooks ran %v, want %v (the success hook once, the reversal hook once, no flagged hook)", got, want)
	}
}

func TestWhatIsStoredIsTheProvidersAnswer(t *testing.T) {
	f, _, log := newSafeFixture(t)
	l := f.link(t, 10000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	_, err = f.mem.Refund(t.Context(), pay.ID, provider.RefundParams{Amount: provider.Rupiah(2500)})
	must(t, err)

	// The (late) success callback carries fields the token does not
	// sign; the provider shows the payment paid and refunded since.
	ev := event(l.ID, pay.ID, provider.PaymentSuccessful, 10000)
	ev.Payment.Sender = provider.Customer{Name: "Forged Name"}
	ev.Payment.VANumber = "999"
	out := f.apply(t, ev)
	if out.Verdict != provider.VerdictApplied || out.Payment.Status != provider.PaymentPartiallyRefunded {
		t.Fatalf("outcome %+v, want applied at the provider's PARTIALLY_REFUNDED", out)
	}
	stored, err := f.store.GetPayment(t.Context(), "mem", pay.ID)
	must(t, err)
	if stored.Sender.Name == "Forged Name" || stored.VANumber == "999" || stored.RefundedAmount.Amount != 2500 {
		t.Fatalf("stored %+v: want the provider's fields, not the callback's", stored)
	}
	// Paid for the first time, past SUCCESSFUL: the success hook runs
	// once, with the refund hook, on the same event.
	f.settleRuns(t)
	got := log.snapshot()
	if len(got) != 2 || !slicesHave(got, "paid PARTIALLY_REFUNDED 2500/2500") || !slicesHave(got, "refund PARTIALLY_REFUNDED 2500/2500") {
		t.Fatalf("hooks ran %v, want the success and the refund hook once each", got)
	}
}

func slicesHave(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestASkippedRungStillRunsTheSuccessHooksOnce(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var log hookLog
	must(t, f.svc.On("paid", provider.When(provider.PaymentSuccessful), log.hook("paid")))
	must(t, f.svc.On("refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), log.hook("refund")))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkMultiple)
	f.apply(t, event(l.ID, "PAY", provider.PaymentPending, 10000))
	// The settlement notification is lost; the refund's arrives.
	f.apply(t, returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, 3000))
	// The settlement arrives late, then a second refund.
	if out := f.apply(t, event(l.ID, "PAY", provider.PaymentSuccessful, 10000)); out.Verdict != provider.VerdictStale {
		t.Fatalf("late settlement: %s, want stale", out.Verdict)
	}
	f.apply(t, returned(l.ID, "PAY", provider.PaymentPartiallyRefunded, 5000))
	want := []string{"paid PARTIALLY_REFUNDED 3000/3000", "refund PARTIALLY_REFUNDED 3000/3000", "refund PARTIALLY_REFUNDED 2000/5000"}
	waitFor(t, "three hook runs", func() bool { return len(log.snapshot()) >= len(want) })
	f.settleRuns(t)
	got := log.snapshot()
	if len(got) != len(want) {
		t.Fatalf("hooks ran %v, want %v", got, want)
	}
	for _, w := range want {
		if !slicesHave(got, w) {
			t.Fatalf("hooks ran %v, want %v", got, want)
		}
	}
}

func TestAPaymentNeverMovesToAnotherLink(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var paid counter
	must(t, f.svc.On("paid", provider.When(provider.PaymentSuccessful), paid.hook))
	must(t, f.svc.Start(t.Context()))
	a := f.link(t, 10000, provider.LinkSingle)
	b := f.link(t, 10000, provider.LinkSingle)
	f.apply(t, event(a.ID, "PAY", provider.PaymentPending, 10000))
	out := f.apply(t, event(b.ID, "PAY", provider.PaymentSuccessful, 10000))
	if out.Verdict != provider.VerdictLinkMismatch || !out.Verdict.Flagged() {
		t.Fatalf("payment of link %s reported under link %s: %s, want link_mismatch", a.ID, b.ID, out.Verdict)
	}
	stored, err := f.store.GetPayment(t.Context(), "mem", "PAY")
	must(t, err)
	if stored.LinkID != a.ID || stored.Status != provider.PaymentPending {
		t.Fatalf("stored payment %+v moved; want link %s, PENDING", stored, a.ID)
	}
	if lb, _ := f.store.GetLink(t.Context(), "mem", b.ID); lb.Status != provider.LinkActive {
		t.Fatalf("the other link is %s, want ACTIVE", lb.Status)
	}
	time.Sleep(20 * time.Millisecond)
	if n := paid.total(); n != 0 {
		t.Fatalf("success hook ran %d times for a payment of another link", n)
	}
}

func TestASecondPaymentOnASingleLinkIsRecordedAndFlagged(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var paid, flagged counter
	must(t, f.svc.On("paid", provider.When(provider.PaymentSuccessful), paid.hook))
	must(t, f.svc.On("flag", provider.WhenFlagged(), flagged.hook))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkSingle)
	f.apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 10000))
	for range 2 {
		out := f.apply(t, event(l.ID, "P2", provider.PaymentSuccessful, 10000))
		if out.Verdict != provider.VerdictSecondPayment || !out.Verdict.Flagged() {
			t.Fatalf("second payment: %s, want second_payment", out.Verdict)
		}
	}
	cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{PaymentID: "P2"})
	must(t, err)
	if len(cbs) != 2 || cbs[0].Verdict != provider.VerdictSecondPayment || cbs[0].Amount.Amount != 10000 {
		t.Fatalf("recorded %+v, want both callbacks of P2 with their amount, flagged", cbs)
	}
	waitFor(t, "the flagged hook", func() bool { return flagged.total() == 1 })
	waitFor(t, "the success hook", func() bool { return paid.total() == 1 })
	time.Sleep(20 * time.Millisecond)
	if paid.total() != 1 || flagged.total() != 1 {
		t.Fatalf("success hook ran %d times, flagged %d; want 1 and 1", paid.total(), flagged.total())
	}
}

func TestFlaggedHooksRunOncePerPaymentAndKindWhateverTheStatus(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var flagged counter
	must(t, f.svc.On("flag", provider.WhenFlagged(), flagged.hook))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 10000, provider.LinkMultiple)
	for _, raw := range []string{"REVERSED", "VOIDED", "HELD", "X1", "X2"} {
		ev := event(l.ID, "P1", "", 10000)
		ev.Payment.RawStatus = raw
		f.apply(t, ev)
	}
	waitFor(t, "the flagged hook", func() bool { return flagged.total() >= 1 })
	time.Sleep(20 * time.Millisecond)
	if n := flagged.total(); n != 1 {
		t.Fatalf("five unknown statuses of one payment ran the flagged hook %d times, want 1", n)
	}
}

// gatedProvider holds every payment lookup until released, counting them.
type gatedProvider struct {
	*providertest.MemProvider
	calls   atomic.Int64
	release chan struct{}
}

func (g *gatedProvider) GetPayment(ctx context.Context, link *provider.Link, paymentID string) (*provider.Payment, error) {
	g.calls.Add(1)
	<-g.release
	return provider.GetPayment(ctx, g.MemProvider, link, paymentID)
}

// loadCounter counts LoadApply calls, to know when callers are waiting.
type loadCounter struct {
	*providertest.MemStore
	loads atomic.Int64
}

func (c *loadCounter) LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*provider.ApplyState, error) {
	c.loads.Add(1)
	return c.MemStore.LoadApply(ctx, providerName, linkID, paymentID)
}

func TestConcurrentConfirmationsOfOnePaymentShareOneProviderCall(t *testing.T) {
	mem := providertest.NewMemProvider("mem", "tok")
	gp := &gatedProvider{MemProvider: mem, release: make(chan struct{})}
	store := &loadCounter{MemStore: providertest.NewMemStore()}
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{gp}, Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(10000), Type: provider.LinkMultiple})
	must(t, err)
	pay, err := mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)

	const n = 20
	verdicts := make(chan provider.Verdict, n)
	for range n {
		go func() {
			out, err := svc.ApplyEvent(t.Context(), event(l.ID, pay.ID, provider.PaymentSuccessful, 10000))
			if err != nil {
				t.Error(err)
			}
			verdicts <- out.Verdict
		}()
	}
	waitFor(t, "every delivery to read the store", func() bool { return store.loads.Load() >= n })
	time.Sleep(50 * time.Millisecond) // let them reach the lookup
	close(gp.release)
	applied := 0
	for range n {
		if <-verdicts == provider.VerdictApplied {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("%d deliveries applied, want 1", applied)
	}
	if c := gp.calls.Load(); c != 1 {
		t.Fatalf("%d concurrent deliveries made %d provider calls, want 1", n, c)
	}
}

func TestARepeatOrAnUnconfirmedCallbackKeepsNoSecondFullBody(t *testing.T) {
	f, _ := newVerifyFixture(t)
	l := f.link(t, 10000, provider.LinkMultiple)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	padded := func(ev *provider.Event) *provider.Event {
		ev.Raw = append([]byte(`{"pad":"`), append(bytes.Repeat([]byte("x"), 60<<10), `"}`...)...)
		return ev
	}
	f.apply(t, padded(event(l.ID, pay.ID, provider.PaymentSuccessful, 10000)))
	for range 3 {
		f.apply(t, padded(event(l.ID, pay.ID, provider.PaymentSuccessful, 10000)))
	}
	_, _ = f.svc.ApplyEvent(t.Context(), padded(event(l.ID, "FORGED", provider.PaymentSuccessful, 10000)))
	cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{})
	must(t, err)
	total, full := 0, 0
	for _, c := range cbs {
		total += len(c.Body)
		if len(c.Body) > provider.MaxUnverifiedBodyBytes {
			full++
		}
	}
	if len(cbs) != 5 || full != 1 || total > 60<<10+provider.MaxUnverifiedBodyBytes+64 {
		t.Fatalf("%d callbacks hold %d body bytes (%d full copies); want 5 records, one full copy", len(cbs), total, full)
	}
}

func TestDefaultRefundKeysAreScopedToThePayment(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	keys := &keyRecorder{MemProvider: f.mem}
	svc, err := provider.NewService(f.store, provider.ServiceOptions{Providers: []provider.Provider{keys}, Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	l := f.link(t, 10000, provider.LinkMultiple)
	for range 2 {
		pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
		must(t, err)
		f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 10000))
		if _, err := svc.Refund(t.Context(), "", pay.ID, provider.RefundParams{Amount: provider.Rupiah(3000)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys.keys) != 2 || keys.keys[0] == keys.keys[1] || len(keys.keys[0]) > 100 {
		t.Fatalf("refund keys %q: want two different keys of at most 100 characters", keys.keys)
	}
}

type keyRecorder struct {
	*providertest.MemProvider
	keys []string
}

func (k *keyRecorder) Refund(ctx context.Context, paymentID string, params provider.RefundParams) (*provider.Payment, error) {
	k.keys = append(k.keys, params.Key)
	return k.MemProvider.Refund(ctx, paymentID, params)
}

func TestTheServiceLogsToTheDefaultLoggerUnlessToldOtherwise(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	f, _ := newVerifyFixture(t)
	l := f.link(t, 10000, provider.LinkMultiple)
	_, _ = f.svc.ApplyEvent(t.Context(), event(l.ID, "FORGED", provider.PaymentSuccessful, 10000))
	if !strings.Contains(buf.String(), "verdict=unverified") {
		t.Fatalf("default logger got %q, want the unverified callback logged", buf.String())
	}
}

// interleavingStore changes the link once, from "another writer", just
// before the first write that was decided on an earlier read.
type interleavingStore struct {
	*providertest.MemStore
	once sync.Once
}

func (s *interleavingStore) SaveLink(ctx context.Context, w *provider.LinkWrite) error {
	if !w.PreviousUpdatedAt.IsZero() {
		s.once.Do(func() {
			cur, err := s.MemStore.GetLink(ctx, w.Provider, w.ID)
			if err == nil {
				other := *cur
				other.Title = "Renamed meanwhile"
				_ = s.MemStore.SaveLink(ctx, &provider.LinkWrite{Provider: w.Provider, ID: w.ID, Link: &other})
			}
		})
	}
	return s.MemStore.SaveLink(ctx, w)
}

// The write decided on the first read is refused (the link changed);
// the Service reads again and deactivates the link as it now is.
func TestDeactivatingALinkThatChangedMeanwhileDecidesAgain(t *testing.T) {
	store := &interleavingStore{MemStore: providertest.NewMemStore()}
	mem := providertest.NewMemProvider("mem", "tok")
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(10000)})
	must(t, err)
	got, err := svc.DeactivateLink(t.Context(), "mem", l.ID)
	must(t, err)
	stored, err := store.GetLink(t.Context(), "mem", l.ID)
	must(t, err)
	if stored.Status != provider.LinkInactive || got.Status != provider.LinkInactive {
		t.Fatalf("stored %s, returned %s; want INACTIVE", stored.Status, got.Status)
	}
}

// A SINGLE link deactivated before its payment arrived is still paid by
// it: only a second payment of a paid link is flagged.
func TestAPaymentOnADeactivatedSingleLinkIsApplied(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 10000, provider.LinkSingle)
	if _, err := f.svc.DeactivateLink(t.Context(), "mem", l.ID); err != nil {
		t.Fatal(err)
	}
	if out := f.apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 10000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("payment of a deactivated SINGLE link: %s, want applied", out.Verdict)
	}
}

// noCurrencyProvider answers confirmations without a currency, as a
// gateway that speaks only rupiah may.
type noCurrencyProvider struct{ *providertest.MemProvider }

func (n noCurrencyProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	pays, err := n.MemProvider.ListLinkPayments(ctx, link)
	for i := range pays {
		pays[i].Amount.Currency = ""
	}
	return pays, err
}

// The provider's answer gets the defaults a callback gets: an answer
// without a currency is rupiah, and pays a rupiah link.
func TestAConfirmationWithoutACurrencyIsRupiah(t *testing.T) {
	mem := providertest.NewMemProvider("mem", "tok")
	store := providertest.NewMemStore()
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{noCurrencyProvider{mem}}, Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(10000)})
	must(t, err)
	pay, err := mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	out, err := svc.ApplyEvent(t.Context(), event(l.ID, pay.ID, provider.PaymentSuccessful, 10000))
	if err != nil || out.Verdict != provider.VerdictApplied || out.Payment.Amount != provider.Rupiah(10000) {
		t.Fatalf("outcome %+v, %v; want applied, IDR 10000", out, err)
	}
}

func TestNamedPicksAProviderByName(t *testing.T) {
	a, b := providertest.NewMemProvider("a", "t"), providertest.NewMemProvider("b", "t")
	if p, err := provider.Named([]provider.Provider{a, b}, "b"); err != nil || p != provider.Provider(b) {
		t.Fatalf("Named(b) = %v, %v", p, err)
	}
	if p, err := provider.Named([]provider.Provider{a}, ""); err != nil || p != provider.Provider(a) {
		t.Fatalf("Named(\"\") of one = %v, %v; want it", p, err)
	}
	if _, err := provider.Named([]provider.Provider{a, b}, ""); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("Named(\"\") of two: %v, want CodeInvalidArgument", err)
	}
	if _, err := provider.Named([]provider.Provider{a, b}, "c"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("Named(c): %v, want CodeNotFound", err)
	}
}
