package provider_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// pruneCountingStore counts the store calls retention makes.
type pruneCountingStore struct {
	*providertest.MemStore
	prunes, passes atomic.Int64
}

func (c *pruneCountingStore) Prune(ctx context.Context, q provider.PruneQuery) (provider.PruneReport, error) {
	c.prunes.Add(1)
	return c.MemStore.Prune(ctx, q)
}

func (c *pruneCountingStore) ListLinks(ctx context.Context, f provider.LinkFilter) ([]provider.Link, error) {
	if f.Active {
		c.passes.Add(1) // each reconcile pass lists the open links once
	}
	return c.MemStore.ListLinks(ctx, f)
}

// retentionFixture is a service over a counting store whose clock runs
// ahead of the wall clock by ahead: what happened now is ahead old.
type retentionFixture struct {
	svc   *provider.Service
	opts  provider.ServiceOptions
	store *pruneCountingStore
	mem   *providertest.MemProvider
	ahead atomic.Int64
}

func newRetentionFixture(t *testing.T, opts provider.ServiceOptions) *retentionFixture {
	t.Helper()
	f := &retentionFixture{store: &pruneCountingStore{MemStore: providertest.NewMemStore()}, mem: providertest.NewMemProvider("mem", "tok")}
	opts.Providers = []provider.Provider{f.mem}
	opts.Now = func() time.Time { return time.Now().Add(time.Duration(f.ahead.Load())) }
	svc, err := provider.NewService(f.store, opts)
	must(t, err)
	f.svc, f.opts = svc, opts
	return f
}

// prune runs one Reconcile pass of a service like f's with Retention
// olderThan, and returns what it pruned.
func (f *retentionFixture) prune(ctx context.Context, olderThan time.Duration) (provider.PruneReport, error) {
	opts := f.opts
	opts.Retention = olderThan
	svc, err := provider.NewService(f.store, opts)
	if err != nil {
		return provider.PruneReport{}, err
	}
	rep, err := svc.Reconcile(ctx)
	return rep.Pruned, err
}

// callbacks records n applied callbacks about new payments of one link,
// each paid at the fake first so that the service confirms it.
func (f *retentionFixture) callbacks(t *testing.T, n int) {
	t.Helper()
	l, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Donations", Type: provider.LinkMultiple})
	must(t, err)
	for range n {
		if out, err := f.svc.ApplyEvent(t.Context(), f.paid(t, l.ID, 10000)); err != nil || out.Verdict != provider.VerdictApplied {
			t.Fatalf("ApplyEvent: %+v, %v; want applied", out, err)
		}
	}
}

// paid pays amount (0: the link's) into the link at the fake and returns
// the callback the fake would send.
func (f *retentionFixture) paid(t *testing.T, linkID string, amount int64) *provider.Event {
	t.Helper()
	p, err := f.mem.Settle(linkID, provider.PaymentSuccessful, amount)
	must(t, err)
	return &provider.Event{Provider: "mem", Source: provider.SourceCallback, Raw: []byte(`{"raw":true}`), Payment: p}
}

// flaggedAndUnverified records three callbacks about a link of 45000: one
// of 1000 (amount_mismatch), one about a link the store does not have
// (unknown_link), and one about a payment the fake does not show
// (unverified); it returns their verdicts.
func (f *retentionFixture) flaggedAndUnverified(t *testing.T) []provider.Verdict {
	t.Helper()
	l, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	var got []provider.Verdict
	for _, ev := range []*provider.Event{
		f.paid(t, l.ID, 1000), // a real underpayment: the provider confirms it
		event("nope", "stray", provider.PaymentSuccessful, 45000),
		event(l.ID, "ghost", provider.PaymentSuccessful, 45000),
	} {
		out, err := f.svc.ApplyEvent(t.Context(), ev)
		if err != nil && out.Verdict != provider.VerdictUnverified {
			t.Fatalf("ApplyEvent(%s): %v", ev.Payment.ID, err)
		}
		got = append(got, out.Verdict)
	}
	want := []provider.Verdict{provider.VerdictAmountMismatch, provider.VerdictUnknownLink, provider.VerdictUnverified}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("verdicts %v, want %v", got, want)
	}
	return got
}

// verdictsLeft lists the verdicts of the callbacks left, sorted.
func (f *retentionFixture) verdictsLeft(t *testing.T) []provider.Verdict {
	t.Helper()
	cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{})
	must(t, err)
	var out []provider.Verdict
	for _, c := range cbs {
		out = append(out, c.Verdict)
	}
	slices.Sort(out)
	return out
}

func (f *retentionFixture) callbackCount(t *testing.T) int {
	t.Helper()
	cbs, err := f.store.ListCallbacks(t.Context(), provider.CallbackFilter{})
	must(t, err)
	return len(cbs)
}

func TestPruneLoopsBatchesUntilOneComesBackShort(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{PruneBatch: 2})
	f.callbacks(t, 5)
	if rep, err := f.prune(t.Context(), time.Hour); err != nil || rep.Total() != 0 {
		t.Fatalf("Prune of fresh rows: %+v, %v; want nothing pruned", rep, err)
	}
	f.ahead.Store(int64(2 * time.Hour))
	f.store.prunes.Store(0)
	rep, err := f.prune(t.Context(), time.Hour)
	must(t, err)
	if want := (provider.PruneReport{Callbacks: 5}); rep != want {
		t.Fatalf("Prune: %+v, want %+v (no hooks: no runs, no event payloads stored)", rep, want)
	}
	if n := f.store.prunes.Load(); n != 3 {
		t.Fatalf("Prune made %d batches of 2, want 3 (2, 2, then 1: short, so done)", n)
	}
	if n := f.callbackCount(t); n != 0 {
		t.Fatalf("%d callbacks left, want 0", n)
	}
}

func TestPruneKeepsThePaymentsAndTheirClaims(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{})
	l, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	paid := f.paid(t, l.ID, 0)
	again := *paid
	if out, err := f.svc.ApplyEvent(t.Context(), paid); err != nil || out.Verdict != provider.VerdictApplied {
		t.Fatalf("first callback: %+v, %v", out, err)
	}
	f.ahead.Store(int64(48 * time.Hour))
	_, err = f.prune(t.Context(), 24*time.Hour)
	must(t, err)
	if out, err := f.svc.ApplyEvent(t.Context(), &again); err != nil || out.Verdict != provider.VerdictDuplicate {
		t.Fatalf("the same callback after pruning: %+v, %v; want a duplicate", out, err)
	}
	if p, err := f.store.GetPayment(t.Context(), "mem", paid.Payment.ID); err != nil || p.Status != provider.PaymentSuccessful {
		t.Fatalf("payment after pruning: %+v, %v; want it kept, SUCCESSFUL", p, err)
	}
}

// Flagged callbacks are the operators' inbox: with FlaggedRetention zero,
// pruning keeps them however old; unverified ones follow Retention.
func TestPruneKeepsFlaggedCallbacksByDefault(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{})
	f.callbacks(t, 2)
	f.flaggedAndUnverified(t)
	f.ahead.Store(int64(10 * 365 * 24 * time.Hour))
	rep, err := f.prune(t.Context(), time.Hour)
	must(t, err)
	if want := (provider.PruneReport{Callbacks: 3}); rep != want {
		t.Fatalf("Prune: %+v, want %+v (two applied, one unverified)", rep, want)
	}
	if got, want := f.verdictsLeft(t), []provider.Verdict{provider.VerdictAmountMismatch, provider.VerdictUnknownLink}; !slices.Equal(got, want) {
		t.Fatalf("callbacks left %v, want %v", got, want)
	}
}

// With FlaggedRetention positive, flagged callbacks go once older than it,
// whatever Retention is.
func TestPruneDropsFlaggedCallbacksAfterFlaggedRetention(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{FlaggedRetention: 3 * time.Hour})
	f.callbacks(t, 1)
	f.flaggedAndUnverified(t)
	f.ahead.Store(int64(2 * time.Hour))
	rep, err := f.prune(t.Context(), time.Hour)
	must(t, err)
	if want := (provider.PruneReport{Callbacks: 2}); rep != want {
		t.Fatalf("Prune at 2h: %+v, want %+v (the applied and the unverified one)", rep, want)
	}
	f.ahead.Store(int64(4 * time.Hour))
	rep, err = f.prune(t.Context(), 5*time.Hour)
	must(t, err)
	if want := (provider.PruneReport{Callbacks: 2}); rep != want {
		t.Fatalf("Prune at 4h: %+v, want %+v (the flagged ones, older than FlaggedRetention)", rep, want)
	}
	if got := f.verdictsLeft(t); len(got) != 0 {
		t.Fatalf("callbacks left %v, want none", got)
	}
}

// In batches, the kept callbacks are skipped, not counted: a batch full of
// prunable rows is followed by another, and the loop ends with the kept
// ones still there.
func TestPruneBatchesStepOverKeptCallbacks(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{PruneBatch: 1})
	f.flaggedAndUnverified(t)
	f.callbacks(t, 2)
	f.ahead.Store(int64(2 * time.Hour))
	rep, err := f.prune(t.Context(), time.Hour)
	must(t, err)
	if want := (provider.PruneReport{Callbacks: 3}); rep != want {
		t.Fatalf("Prune: %+v, want %+v", rep, want)
	}
	if got, want := f.verdictsLeft(t), []provider.Verdict{provider.VerdictAmountMismatch, provider.VerdictUnknownLink}; !slices.Equal(got, want) {
		t.Fatalf("callbacks left %v, want %v", got, want)
	}
}

func TestKeptForOperatorsIsEveryFlaggedVerdictButUnverified(t *testing.T) {
	for _, v := range provider.Verdicts() {
		if want := v.Flagged() && v != provider.VerdictUnverified; v.KeptForOperators() != want {
			t.Errorf("%s.KeptForOperators() = %v, want %v", v, !want, want)
		}
	}
}

func TestPruneStopsWhenTheContextEnds(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{PruneBatch: 1})
	f.callbacks(t, 3)
	f.ahead.Store(int64(2 * time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.prune(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune with an ended ctx: %v, want context.Canceled", err)
	}
	if n := f.callbackCount(t); n != 3 {
		t.Fatalf("%d callbacks left, want all 3", n)
	}
}

func TestReconcilerPrunesAfterEachPassWithRetention(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{Retention: time.Hour, FlaggedRetention: 90 * time.Minute})
	f.callbacks(t, 3)
	f.flaggedAndUnverified(t)
	f.ahead.Store(int64(2 * time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.svc.RunReconciler(ctx, 5*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.callbackCount(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the reconciler with Retention and FlaggedRetention set never pruned the old callbacks: %v left", f.verdictsLeft(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunReconciler: %v, want context.Canceled", err)
	}
}

func TestReconcilerWithoutRetentionNeverPrunes(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{})
	f.callbacks(t, 3)
	f.ahead.Store(int64(365 * 24 * time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.svc.RunReconciler(ctx, 5*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.store.passes.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the reconciler made fewer than 3 passes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := f.store.prunes.Load(); n != 0 {
		t.Fatalf("the reconciler pruned %d times with Retention zero, want never", n)
	}
	if n := f.callbackCount(t); n != 3 {
		t.Fatalf("%d callbacks left, want all 3", n)
	}
}
