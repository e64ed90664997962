package provider_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// fixture is a Service over the in-memory store and provider.
type fixture struct {
	svc   *provider.Service
	store *providertest.MemStore
	mem   *providertest.MemProvider
}

func newFixture(t *testing.T, opts provider.ServiceOptions) *fixture {
	t.Helper()
	f := &fixture{store: providertest.NewMemStore(), mem: providertest.NewMemProvider("mem", "tok")}
	opts.Providers = append(opts.Providers, f.mem)
	// Rule tests feed events the MemProvider never saw; confirmation with
	// the provider has its own tests (newVerifyFixture, the default).
	opts.InsecureSkipVerify = true
	if opts.HookPolicy.Backoff == nil {
		opts.HookPolicy = provider.HookPolicy{MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Millisecond }, Timeout: 10 * time.Second}
	}
	svc, err := provider.NewService(f.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	return f
}

func (f *fixture) link(t *testing.T, amount int64, typ provider.LinkType) *provider.Link {
	t.Helper()
	l, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(amount), Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func event(linkID, paymentID string, st provider.PaymentStatus, amount int64) *provider.Event {
	return &provider.Event{Provider: "mem", Source: provider.SourceCallback, Raw: []byte(`{"raw":true}`), Payment: provider.Payment{
		ID: paymentID, LinkID: linkID, Status: st, Amount: provider.Rupiah(amount),
	}}
}

func (f *fixture) apply(t *testing.T, ev *provider.Event) provider.Outcome {
	t.Helper()
	out, err := f.svc.ApplyEvent(t.Context(), ev)
	if err != nil {
		t.Fatalf("ApplyEvent(%s %s): %v", ev.Payment.ID, ev.Payment.Status, err)
	}
	return out
}

func (f *fixture) status(t *testing.T, paymentID string) provider.PaymentStatus {
	t.Helper()
	p, err := f.store.GetPayment(t.Context(), "mem", paymentID)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

// counter is a hook that counts calls per event.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
	keys  map[string]bool
}

func (c *counter) hook(ctx context.Context, ev *provider.HookEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls, c.keys = map[string]int{}, map[string]bool{}
	}
	c.calls[ev.ID]++
	c.keys[ev.IdempotencyKey] = true
	return nil
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestApplyEventMovesAPaymentForwardOnly(t *testing.T) {
	type step struct {
		status provider.PaymentStatus
		want   provider.Verdict
		after  provider.PaymentStatus
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"pending then success", []step{
			{provider.PaymentPending, provider.VerdictApplied, provider.PaymentPending},
			{provider.PaymentSuccessful, provider.VerdictApplied, provider.PaymentSuccessful},
		}},
		{"a CANCELLED after SUCCESSFUL is a reversal", []step{
			{provider.PaymentSuccessful, provider.VerdictApplied, provider.PaymentSuccessful},
			{provider.PaymentCancelled, provider.VerdictApplied, provider.PaymentReversed},
			{provider.PaymentFailed, provider.VerdictDuplicate, provider.PaymentReversed},
			{provider.PaymentRefunded, provider.VerdictStale, provider.PaymentReversed},
		}},
		{"a FAILED after SUCCESSFUL is a reversal", []step{
			{provider.PaymentSuccessful, provider.VerdictApplied, provider.PaymentSuccessful},
			{provider.PaymentFailed, provider.VerdictApplied, provider.PaymentReversed},
			{provider.PaymentSuccessful, provider.VerdictDuplicate, provider.PaymentReversed}, // its key is claimed
		}},
		{"a CANCELLED after a full refund changes nothing", []step{
			{provider.PaymentSuccessful, provider.VerdictApplied, provider.PaymentSuccessful},
			{provider.PaymentRefunded, provider.VerdictApplied, provider.PaymentRefunded},
			{provider.PaymentCancelled, provider.VerdictStale, provider.PaymentRefunded},
		}},
		{"a late PENDING changes nothing", []step{
			{provider.PaymentCancelled, provider.VerdictApplied, provider.PaymentCancelled},
			{provider.PaymentPending, provider.VerdictStale, provider.PaymentCancelled},
		}},
		{"a success after a cancellation wins", []step{
			{provider.PaymentCancelled, provider.VerdictApplied, provider.PaymentCancelled},
			{provider.PaymentSuccessful, provider.VerdictApplied, provider.PaymentSuccessful},
		}},
		{"a repeat is a duplicate", []step{
			{provider.PaymentSuccessful, provider.VerdictApplied, provider.PaymentSuccessful},
			{provider.PaymentSuccessful, provider.VerdictDuplicate, provider.PaymentSuccessful},
		}},
		{"CANCELLED and FAILED never replace each other", []step{
			{provider.PaymentFailed, provider.VerdictApplied, provider.PaymentFailed},
			{provider.PaymentCancelled, provider.VerdictStale, provider.PaymentFailed},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, provider.ServiceOptions{})
			l := f.link(t, 45000, provider.LinkMultiple)
			for i, s := range c.steps {
				out := f.apply(t, event(l.ID, "PAY1", s.status, 45000))
				if out.Verdict != s.want {
					t.Errorf("step %d (%s): verdict %s, want %s", i, s.status, out.Verdict, s.want)
				}
				if got := f.status(t, "PAY1"); got != s.after {
					t.Errorf("step %d (%s): payment is %s, want %s", i, s.status, got, s.after)
				}
			}
			hist, err := f.store.ListStatusChanges(t.Context(), "mem", "PAY1")
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(hist); i++ {
				if !hist[i-1].To.CanTransition(hist[i].To) || hist[i].From != hist[i-1].To {
					t.Errorf("history goes backwards: %+v", hist)
				}
			}
		})
	}
}

func TestEveryCallbackIsRecordedWithItsVerdict(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 45000, provider.LinkSingle)
	f.apply(t, event(l.ID, "PAY1", provider.PaymentSuccessful, 45000))
	f.apply(t, event(l.ID, "PAY1", provider.PaymentSuccessful, 45000))
	cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{PaymentID: "PAY1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cbs) != 2 || cbs[0].Verdict != provider.VerdictDuplicate || cbs[1].Verdict != provider.VerdictApplied {
		t.Fatalf("callbacks = %+v, want [duplicate applied] (newest first)", cbs)
	}
	if string(cbs[1].Body) != `{"raw":true}` {
		t.Errorf("raw body = %q", cbs[1].Body)
	}
}

func TestFlaggedEventsAreRecordedButNeverPaid(t *testing.T) {
	for _, c := range []struct {
		name   string
		linkID func(l *provider.Link) string
		amount int64
		want   provider.Verdict
	}{
		{"amount differs from the link", func(l *provider.Link) string { return l.ID }, 10000, provider.VerdictAmountMismatch},
		{"unknown link", func(*provider.Link) string { return "no-such-link" }, 45000, provider.VerdictUnknownLink},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, provider.ServiceOptions{})
			var hooks counter
			if err := f.svc.On("count", provider.When(provider.PaymentSuccessful), hooks.hook); err != nil {
				t.Fatal(err)
			}
			l := f.link(t, 45000, provider.LinkSingle)
			out := f.apply(t, event(c.linkID(l), "PAY1", provider.PaymentSuccessful, c.amount))
			if out.Verdict != c.want || out.Payment != nil || out.HookRuns != 0 {
				t.Fatalf("outcome = %+v, want verdict %s, no payment, no hooks", out, c.want)
			}
			if _, err := f.store.GetPayment(t.Context(), "mem", "PAY1"); !errors.Is(err, provider.CodeNotFound) {
				t.Errorf("a flagged payment was stored (err %v)", err)
			}
			flagged, _ := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{Flagged: true})
			if len(flagged) != 1 || flagged[0].Verdict != c.want {
				t.Errorf("flagged callbacks = %+v", flagged)
			}
			runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{})
			if len(runs) != 0 {
				t.Errorf("hook runs = %+v, want none", runs)
			}
		})
	}
}

func TestAnOpenAmountLinkAcceptsAnyPositiveAmount(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 0, provider.LinkSingle)
	if out := f.apply(t, event(l.ID, "PAY1", provider.PaymentSuccessful, 77000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("verdict = %s", out.Verdict)
	}
}

func TestAMultipleLinkCollectsManyPaymentsAndASingleLinkCloses(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	multi := f.link(t, 20000, provider.LinkMultiple)
	single := f.link(t, 20000, provider.LinkSingle)
	for i := range 3 {
		f.apply(t, event(multi.ID, fmt.Sprintf("M%d", i), provider.PaymentSuccessful, 20000))
	}
	f.apply(t, event(single.ID, "S1", provider.PaymentSuccessful, 20000))
	pays, _ := f.store.ListLinkPayments(t.Context(), "mem", multi.ID)
	if len(pays) != 3 {
		t.Errorf("MULTIPLE link has %d payments, want 3", len(pays))
	}
	if l, _ := f.store.GetLink(t.Context(), "mem", multi.ID); l.Status != provider.LinkActive {
		t.Errorf("MULTIPLE link is %s after payments, want ACTIVE", l.Status)
	}
	if l, _ := f.store.GetLink(t.Context(), "mem", single.ID); l.Status != provider.LinkInactive {
		t.Errorf("SINGLE link is %s after its payment, want INACTIVE", l.Status)
	}
}

func TestHooksRunOncePerEventEvenUnderConcurrentDuplicates(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var succeeded, all counter
	must(t, f.svc.On("receipt", provider.When(provider.PaymentSuccessful), succeeded.hook))
	must(t, f.svc.On("audit", provider.When(), all.hook))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 45000, provider.LinkSingle)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := f.svc.ApplyEvent(context.Background(), event(l.ID, "PAY1", provider.PaymentSuccessful, 45000)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitFor(t, "both hooks to run", func() bool { return succeeded.total() >= 1 && all.total() >= 1 })
	waitFor(t, "runs to settle", func() bool {
		runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		return len(runs) == 2
	})
	if succeeded.total() != 1 || all.total() != 1 {
		t.Fatalf("hooks ran %d and %d times, want once each", succeeded.total(), all.total())
	}
	if len(succeeded.keys) != 1 || len(all.keys) != 1 {
		t.Errorf("idempotency keys: %v / %v", succeeded.keys, all.keys)
	}
}

func TestAFailingHookIsRetriedThenFailedThenRetriedByHand(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var calls atomic.Int32
	var heal atomic.Bool
	must(t, f.svc.On("flaky", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		n := calls.Add(1)
		if heal.Load() {
			return nil
		}
		if n == 2 {
			panic("hook bug")
		}
		return errors.New("mail server down")
	}))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 45000, provider.LinkSingle)
	f.apply(t, event(l.ID, "PAY1", provider.PaymentSuccessful, 45000))
	var failed []provider.HookRun
	waitFor(t, "the run to fail", func() bool {
		failed, _ = f.store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunFailed})
		return len(failed) == 1
	})
	if calls.Load() != 3 || failed[0].Attempts != 3 || failed[0].LastError == "" {
		t.Fatalf("calls = %d, run = %+v; want 3 attempts (one panicked) and an error recorded", calls.Load(), failed[0])
	}
	heal.Store(true)
	must(t, retryRun(t.Context(), f.svc, failed[0].ID))
	waitFor(t, "the retried run to succeed", func() bool {
		ok, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		return len(ok) == 1
	})
	if err := retryRun(t.Context(), f.svc, failed[0].ID); !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Errorf("retrying a succeeded run: %v, want CodeFailedPrecondition", err)
	}
}

func TestCreateLinkWithAnIdempotencyKeyCreatesOneLink(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	p := provider.CreateLinkParams{Title: "Order 7", Amount: provider.Rupiah(45000), IdempotencyKey: "order-7"}
	a, err := f.svc.CreateLink(t.Context(), "mem", p)
	must(t, err)
	b, err := f.svc.CreateLink(t.Context(), "mem", p)
	must(t, err)
	if a.ID != b.ID {
		t.Fatalf("retry made a second link: %s and %s", a.ID, b.ID)
	}
	if _, err := f.mem.GetLink(t.Context(), &provider.Link{ID: "2"}); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("the provider holds a second bill (err %v)", err)
	}
}

func TestCreateLinkRefusesBadInputWithFieldErrors(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	_, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Amount: provider.Rupiah(-1), Type: "DOUBLE"})
	if !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("err = %v", err)
	}
	fields := map[string]bool{}
	for _, fe := range provider.FieldErrorsOf(err) {
		fields[fe.Field] = true
	}
	for _, want := range []string{"title", "amount", "type"} {
		if !fields[want] {
			t.Errorf("no field error for %s in %v", want, err)
		}
	}
	if _, err := f.svc.CreateLink(t.Context(), "nope", provider.CreateLinkParams{Title: "x"}); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("unknown provider: %v", err)
	}
}

func TestReconcileAppliesAPaymentWhoseCallbackWasLost(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var hooks counter
	must(t, f.svc.On("receipt", provider.When(provider.PaymentSuccessful), hooks.hook))
	must(t, f.svc.Start(t.Context()))
	l := f.link(t, 45000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0) // no callback is ever delivered
	must(t, err)
	rep, err := f.svc.Reconcile(t.Context())
	must(t, err)
	if rep.Links != 1 || rep.Applied != 1 {
		t.Fatalf("report = %+v, want 1 link, 1 applied", rep)
	}
	if f.status(t, pay.ID) != provider.PaymentSuccessful {
		t.Fatal("payment not applied")
	}
	waitFor(t, "the hook", func() bool { return hooks.total() == 1 })
	rep, err = f.svc.Reconcile(t.Context())
	must(t, err)
	if rep.Links != 0 || rep.Applied != 0 {
		t.Errorf("second pass = %+v; the paid SINGLE link should no longer be open", rep)
	}
}

func TestRefreshLinkAppliesWhatTheProviderKnows(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 45000, provider.LinkSingle)
	_, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	link, pays, err := f.svc.RefreshLink(t.Context(), "", l.ID)
	must(t, err)
	if link.Status != provider.LinkInactive || len(pays) != 1 || pays[0].Status != provider.PaymentSuccessful {
		t.Fatalf("after refresh: link %s, payments %+v", link.Status, pays)
	}
}

func TestHookNamesAreUniqueAndRequired(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var c counter
	must(t, f.svc.On("a", provider.When(provider.PaymentSuccessful), c.hook))
	if err := f.svc.On("a", provider.When(provider.PaymentFailed), c.hook); !errors.Is(err, provider.CodeConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	if err := f.svc.On("", provider.When(provider.PaymentCancelled), c.hook); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("empty name: %v", err)
	}
	if err := f.svc.On("nil", provider.When(), nil); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("nil hook: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// downProvider fails every payment listing with the given code.
type downProvider struct {
	*providertest.MemProvider
	code provider.ErrorCode
}

func (d downProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	return nil, provider.Errorf(d.code, "down.ListLinkPayments", "the provider cannot answer")
}

func TestVerificationLetsTheProviderRetryWhenItCannotConfirm(t *testing.T) {
	for _, code := range []provider.ErrorCode{provider.CodeUnavailable, provider.CodeUnauthenticated, provider.CodeUnknown} {
		t.Run(code.String(), func(t *testing.T) {
			store := providertest.NewMemStore()
			mem := providertest.NewMemProvider("mem", "tok")
			svc, err := provider.NewService(store, provider.ServiceOptions{
				Providers: []provider.Provider{downProvider{mem, code}}})
			must(t, err)
			l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
			must(t, err)
			_, err = svc.ApplyEvent(t.Context(), event(l.ID, "PAY1", provider.PaymentSuccessful, 45000))
			if !errors.Is(err, provider.CodeUnavailable) {
				t.Fatalf("err = %v, want CodeUnavailable so the callback is retried", err)
			}
			cbs, _ := store.ListCallbacks(t.Context(), provider.CallbackFilter{})
			if len(cbs) != 0 {
				t.Fatalf("a callback that could not be confirmed was recorded: %+v", cbs)
			}
		})
	}
}

// A link the provider keeps refusing (a bill from another account, say)
// must not hold the head of the reconciliation queue: the links behind it
// are visited too, or their lost callbacks are never applied.
func TestReconcileMovesPastALinkThatKeepsFailing(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{ReconcileBatch: 1})
	ghost := provider.Link{ID: "ghost", Provider: "mem", Type: provider.LinkSingle, Status: provider.LinkActive,
		Amount: provider.Rupiah(45000), CreatedAt: time.Now().Add(-time.Hour)} // stored, unknown to the provider, oldest
	must(t, f.store.SaveLink(t.Context(), &provider.LinkWrite{Provider: "mem", ID: ghost.ID, Link: &ghost}))
	l := f.link(t, 45000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0) // its callback is lost
	must(t, err)

	var visited []error
	for pass := 1; pass <= 2; pass++ {
		rep, err := f.svc.Reconcile(t.Context())
		visited = append(visited, err)
		if rep.Applied == 1 {
			break
		}
	}
	if !errors.Is(visited[0], provider.CodeNotFound) {
		t.Errorf("first pass: %v, want the ghost link's CodeNotFound", visited[0])
	}
	if got, err := f.store.GetPayment(t.Context(), "mem", pay.ID); err != nil || got.Status != provider.PaymentSuccessful {
		t.Fatalf("after %d passes of one link each the lost payment is still not applied: the failing link starves the queue", len(visited))
	}
	if _, err := f.svc.Reconcile(t.Context()); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("next pass: %v, want the ghost link tried again", err)
	}
}

func TestApplyEventRefusesAPaymentOfAnotherProvider(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 45000, provider.LinkSingle)
	ev := event(l.ID, "PAY1", provider.PaymentSuccessful, 45000)
	ev.Payment.Provider = "someone-else"
	if _, err := f.svc.ApplyEvent(t.Context(), ev); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("err = %v, want CodeInvalidArgument", err)
	}
}

func TestDeactivateLinkStopsItAtTheProviderAndInTheStore(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000), IdempotencyKey: "order-1"})
	must(t, err)
	got, err := f.svc.DeactivateLink(t.Context(), "", l.ID)
	must(t, err)
	if got.Status != provider.LinkInactive || got.IdempotencyKey != "order-1" {
		t.Fatalf("deactivated link = %+v", got)
	}
	if at, _ := f.mem.GetLink(t.Context(), l); at.Status != provider.LinkInactive {
		t.Errorf("the provider's link is %s", at.Status)
	}
	stored, _ := f.store.GetLink(t.Context(), "mem", l.ID)
	if stored.Status != provider.LinkInactive || !stored.CreatedAt.Equal(l.CreatedAt) {
		t.Errorf("stored link = %+v", stored)
	}
	rep, err := f.svc.Reconcile(t.Context())
	must(t, err)
	if rep.Links != 0 {
		t.Errorf("the reconciler still visits a deactivated link: %+v", rep)
	}
	if _, err := f.svc.DeactivateLink(t.Context(), "", "no-such-link"); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("unknown link: %v", err)
	}
}

func TestEditLinkStoresTheProvidersAnswer(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	l := f.link(t, 45000, provider.LinkSingle)
	title, amount := "Renamed", provider.Rupiah(50000)
	got, err := f.svc.EditLink(t.Context(), "", l.ID, provider.EditLinkParams{Title: &title, Amount: &amount})
	must(t, err)
	stored, _ := f.store.GetLink(t.Context(), "mem", l.ID)
	for _, x := range []*provider.Link{got, stored} {
		if x.Title != title || !x.Amount.Equal(amount) || x.Status != provider.LinkActive {
			t.Errorf("link after edit = %+v", x)
		}
	}
	// The new amount is the one callbacks are checked against.
	if out := f.apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 45000)); out.Verdict != provider.VerdictAmountMismatch {
		t.Errorf("the old amount: %s, want amount_mismatch", out.Verdict)
	}
}

// noEditProvider hides the in-memory provider's capabilities.
type noEditProvider struct{ provider.Provider }

func TestEditLinkWithoutTheCapabilityIsUnsupported(t *testing.T) {
	mem := providertest.NewMemProvider("mem", "tok")
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{noEditProvider{mem}}})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	title := "x"
	if _, err := svc.EditLink(t.Context(), "", l.ID, provider.EditLinkParams{Title: &title}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("EditLink: %v, want errors.ErrUnsupported", err)
	}
	if _, err := svc.DeactivateLink(t.Context(), "", l.ID); !errors.Is(err, provider.CodeUnimplemented) {
		t.Errorf("DeactivateLink: %v, want CodeUnimplemented", err)
	}
}

func TestOnlyASuccessIsCheckedAgainstTheLinksAmount(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	open := f.link(t, 0, provider.LinkSingle)
	fixed := f.link(t, 45000, provider.LinkSingle)
	for _, c := range []struct {
		link   *provider.Link
		pay    string
		status provider.PaymentStatus
		amount int64
		want   provider.Verdict
	}{
		{open, "O1", provider.PaymentCancelled, 0, provider.VerdictApplied}, // an expired open link: nothing was paid
		{open, "O2", provider.PaymentSuccessful, 0, provider.VerdictAmountMismatch},
		{fixed, "F1", provider.PaymentPending, 45000, provider.VerdictApplied},
		{fixed, "F1", provider.PaymentFailed, 0, provider.VerdictApplied},
		{fixed, "F2", provider.PaymentSuccessful, 44999, provider.VerdictAmountMismatch},
	} {
		if out := f.apply(t, event(c.link.ID, c.pay, c.status, c.amount)); out.Verdict != c.want {
			t.Errorf("%s %s of %d: verdict %s, want %s", c.pay, c.status, c.amount, out.Verdict, c.want)
		}
	}
	if p, _ := f.store.GetPayment(t.Context(), "mem", "F1"); p.Amount.Amount != 45000 {
		t.Errorf("a FAILED report of 0 overwrote the payment's amount: %v", p.Amount)
	}
}

func TestFlaggedHooksRunOncePerFlaggedEventAndNeverBlockTheRealOne(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var flagged, paid counter
	var verdicts []provider.Verdict
	var mu sync.Mutex
	must(t, f.svc.On("alert", provider.WhenFlagged(), func(ctx context.Context, ev *provider.HookEvent) error {
		mu.Lock()
		verdicts = append(verdicts, ev.Verdict)
		mu.Unlock()
		return flagged.hook(ctx, ev)
	}))
	must(t, f.svc.On("receipt", provider.When(provider.PaymentSuccessful), paid.hook))
	must(t, f.svc.Start(t.Context()))

	l := f.link(t, 45000, provider.LinkSingle)
	for range 3 { // an underpayment, repeated by the provider
		if out := f.apply(t, event(l.ID, "UNDER", provider.PaymentSuccessful, 40000)); out.Verdict != provider.VerdictAmountMismatch {
			t.Fatalf("verdict %s", out.Verdict)
		}
	}
	// A payment for a link the store does not have yet...
	f.apply(t, event("LATE", "P2", provider.PaymentSuccessful, 45000))
	// ...which then appears (say, restored from a backup): the same news now applies.
	must(t, f.store.SaveLink(t.Context(), &provider.LinkWrite{Provider: "mem", ID: "LATE", Link: &provider.Link{ID: "LATE", Provider: "mem", Title: "late", Type: provider.LinkSingle,
		Amount: provider.Rupiah(45000), Status: provider.LinkActive, CreatedAt: time.Now()}}))
	if out := f.apply(t, event("LATE", "P2", provider.PaymentSuccessful, 45000)); out.Verdict != provider.VerdictApplied {
		t.Fatalf("the same news once the link exists: %s, want applied", out.Verdict)
	}

	waitFor(t, "the hooks", func() bool { return flagged.total() == 2 && paid.total() == 1 })
	runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{Hook: "alert"})
	if len(runs) != 2 {
		t.Fatalf("%d flagged runs, want 2 (one per payment, status and verdict)", len(runs))
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[provider.Verdict]bool{provider.VerdictAmountMismatch: true, provider.VerdictUnknownLink: true}
	for _, v := range verdicts {
		if !want[v] {
			t.Errorf("flagged hook saw verdict %q", v)
		}
	}
}

// amountlessEditor answers every edit without an amount, as a provider
// may when the amount did not change.
type amountlessEditor struct{ *providertest.MemProvider }

func (a amountlessEditor) EditLink(ctx context.Context, link *provider.Link, p provider.EditLinkParams) (*provider.Link, error) {
	l, err := a.MemProvider.EditLink(ctx, link, p)
	if err != nil {
		return nil, err
	}
	l.Amount.Amount = 0
	return l, nil
}

func TestAnEditAnsweredWithoutAnAmountNeverOpensAFixedLink(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{amountlessEditor{mem}}})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	title := "Renamed"
	edited, err := svc.EditLink(t.Context(), "", l.ID, provider.EditLinkParams{Title: &title})
	must(t, err)
	if edited.Amount.Amount != 45000 || edited.Title != "Renamed" {
		t.Fatalf("after a title edit answered without an amount: %+v, want 45000 kept and the new title", edited)
	}
	open := provider.Rupiah(0)
	edited, err = svc.EditLink(t.Context(), "", l.ID, provider.EditLinkParams{Amount: &open})
	must(t, err)
	if edited.Amount.Amount != 0 {
		t.Fatalf("an edit that asks for an open amount: amount %d, want 0", edited.Amount.Amount)
	}
}

// countingStore counts the ledger calls applying news makes.
type countingStore struct {
	*providertest.MemStore
	loads, applies atomic.Int64
}

func (c *countingStore) LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*provider.ApplyState, error) {
	c.loads.Add(1)
	return c.MemStore.LoadApply(ctx, providerName, linkID, paymentID)
}

func (c *countingStore) Apply(ctx context.Context, w *provider.ApplyWrite) error {
	c.applies.Add(1)
	return c.MemStore.Apply(ctx, w)
}

// A reconciliation pass costs what changed: a link with 500 payments the
// store already holds as the provider reports them reads them once and
// applies nothing; one that changed is applied.
func TestReconcileCostsWhatChanged(t *testing.T) {
	store := &countingStore{MemStore: providertest.NewMemStore()}
	mem := providertest.NewMemProvider("mem", "tok")
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Donations", Type: provider.LinkMultiple})
	must(t, err)
	for range 500 {
		_, err := mem.Settle(l.ID, provider.PaymentSuccessful, 10000)
		must(t, err)
	}
	rep, err := svc.Reconcile(t.Context())
	must(t, err)
	if rep.Applied != 500 {
		t.Fatalf("first pass applied %d, want 500", rep.Applied)
	}
	store.loads.Store(0)
	store.applies.Store(0)
	rep, err = svc.Reconcile(t.Context())
	must(t, err)
	if rep.Payments != 500 || rep.Applied != 0 || store.loads.Load() != 0 || store.applies.Load() != 0 {
		t.Fatalf("unchanged pass: %+v, %d reads and %d writes of news; want 500 seen, none read or written", rep, store.loads.Load(), store.applies.Load())
	}
	pending, err := mem.Settle(l.ID, provider.PaymentPending, 10000)
	must(t, err)
	rep, err = svc.Reconcile(t.Context())
	must(t, err)
	if rep.Applied != 1 || store.loads.Load() != 1 || store.applies.Load() != 1 {
		t.Fatalf("one new payment: %+v, %d reads, %d writes; want 1 applied with one of each", rep, store.loads.Load(), store.applies.Load())
	}
	if f := (&fixture{store: store.MemStore}); f.status(t, pending.ID) != provider.PaymentPending {
		t.Fatal("the new payment is not stored")
	}
}

// retryRun asks svc, as an operator would, to run a failed hook run again.
func retryRun(ctx context.Context, svc *provider.Service, id int64) error {
	_, err := svc.Act(ctx, provider.Action{Kind: provider.ActionRetryHookRun, Actor: "test", HookRunID: id})
	return err
}
