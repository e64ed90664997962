package provider_test

import (
	"context"
	"errors"
	"fmt"
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

func (c *pruneCountingStore) Prune(ctx context.Context, before time.Time, limit int) (provider.PruneReport, error) {
	c.prunes.Add(1)
	return c.MemStore.Prune(ctx, before, limit)
}

func (c *pruneCountingStore) ListOpenLinks(ctx context.Context, providerName string, since time.Time, limit int) ([]provider.Link, error) {
	c.passes.Add(1)
	return c.MemStore.ListOpenLinks(ctx, providerName, since, limit)
}

// retentionFixture is a service over a counting store whose clock runs
// ahead of the wall clock by ahead: what happened now is ahead old.
type retentionFixture struct {
	svc   *provider.Service
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
	f.svc = svc
	return f
}

// callbacks records n callbacks about new payments of one link.
func (f *retentionFixture) callbacks(t *testing.T, n int) {
	t.Helper()
	l, err := f.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Donations", Type: provider.LinkMultiple})
	must(t, err)
	for i := range n {
		ev := event(l.ID, fmt.Sprintf("%s-p%d", l.ID, i), provider.PaymentPending, 10000)
		if _, err := f.svc.ApplyEvent(t.Context(), ev); err != nil {
			t.Fatalf("ApplyEvent: %v", err)
		}
	}
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
	if rep, err := f.svc.Prune(t.Context(), time.Hour); err != nil || rep.Total() != 0 {
		t.Fatalf("Prune of fresh rows: %+v, %v; want nothing pruned", rep, err)
	}
	f.ahead.Store(int64(2 * time.Hour))
	f.store.prunes.Store(0)
	rep, err := f.svc.Prune(t.Context(), time.Hour)
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
	paid := event(l.ID, "p1", provider.PaymentSuccessful, 45000)
	if out, err := f.svc.ApplyEvent(t.Context(), paid); err != nil || out.Verdict != provider.VerdictApplied {
		t.Fatalf("first callback: %+v, %v", out, err)
	}
	f.ahead.Store(int64(48 * time.Hour))
	_, err = f.svc.Prune(t.Context(), 24*time.Hour)
	must(t, err)
	again := event(l.ID, "p1", provider.PaymentSuccessful, 45000)
	if out, err := f.svc.ApplyEvent(t.Context(), again); err != nil || out.Verdict != provider.VerdictDuplicate {
		t.Fatalf("the same callback after pruning: %+v, %v; want a duplicate", out, err)
	}
	if p, err := f.store.GetPayment(t.Context(), "mem", "p1"); err != nil || p.Status != provider.PaymentSuccessful {
		t.Fatalf("payment after pruning: %+v, %v; want it kept, SUCCESSFUL", p, err)
	}
}

func TestPruneRefusesANonPositiveAge(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{})
	for _, age := range []time.Duration{0, -time.Hour} {
		if _, err := f.svc.Prune(t.Context(), age); provider.CodeOf(err) != provider.CodeInvalidArgument {
			t.Errorf("Prune(%v): %v, want CodeInvalidArgument", age, err)
		}
	}
}

func TestPruneStopsWhenTheContextEnds(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{PruneBatch: 1})
	f.callbacks(t, 3)
	f.ahead.Store(int64(2 * time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.svc.Prune(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Prune with an ended ctx: %v, want context.Canceled", err)
	}
	if n := f.callbackCount(t); n != 3 {
		t.Fatalf("%d callbacks left, want all 3", n)
	}
}

func TestReconcilerPrunesAfterEachPassWithRetention(t *testing.T) {
	f := newRetentionFixture(t, provider.ServiceOptions{Retention: time.Hour})
	f.callbacks(t, 3)
	f.ahead.Store(int64(2 * time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.svc.RunReconciler(ctx, 5*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.callbackCount(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reconciler with Retention set never pruned the old callbacks")
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
