package provider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// replica is one process's Service over a store shared with others.
func replica(t *testing.T, store provider.Store, mem *providertest.MemProvider, opts provider.ServiceOptions) *provider.Service {
	t.Helper()
	opts.Providers = []provider.Provider{mem}
	if opts.HookPolicy.Backoff == nil {
		opts.HookPolicy = provider.HookPolicy{MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Millisecond }, Timeout: 10 * time.Second}
	}
	if opts.HookPollInterval == 0 {
		opts.HookPollInterval = 20 * time.Millisecond
	}
	opts.InsecureSkipVerify = true // the runner's tests feed events the MemProvider never saw
	svc, err := provider.NewService(store, opts)
	must(t, err)
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	return svc
}

func runsOf(t *testing.T, svc *provider.Service, f provider.HookRunFilter) []provider.HookRun {
	t.Helper()
	runs, err := svc.Store().(provider.Reader).ListHookRuns(t.Context(), f)
	must(t, err)
	return runs
}

// During a rolling deploy an older replica runs beside a newer one that
// has one more hook. The older one never takes that hook's runs (it would
// burn their attempts and fail them); they wait for a replica that has it.
func TestARunOfAHookThisProcessLacksWaitsForOneThatHasIt(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	var receipts, crm counter
	older := replica(t, store, mem, provider.ServiceOptions{})
	must(t, older.On("receipt", provider.When(provider.PaymentSuccessful), receipts.hook))
	newer := replica(t, store, mem, provider.ServiceOptions{})
	must(t, newer.On("receipt", provider.When(provider.PaymentSuccessful), receipts.hook))
	must(t, newer.On("crm", provider.When(provider.PaymentSuccessful), crm.hook))

	l, err := newer.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	if _, err := newer.ApplyEvent(t.Context(), event(l.ID, "P1", provider.PaymentSuccessful, 45000)); err != nil {
		t.Fatal(err)
	}
	must(t, older.Start(t.Context()))
	waitFor(t, "the receipt", func() bool { return receipts.total() == 1 })
	time.Sleep(200 * time.Millisecond) // ten polls of the older replica
	runs := runsOf(t, older, provider.HookRunFilter{Hook: "crm"})
	if len(runs) != 1 || runs[0].State != provider.HookRunPending || runs[0].Attempts != 0 {
		t.Fatalf("the crm run under the older replica = %+v, want pending with no attempt", runs)
	}
	must(t, newer.Start(t.Context()))
	waitFor(t, "the crm hook on the newer replica", func() bool { return crm.total() == 1 })
	waitFor(t, "the crm run to be recorded", func() bool {
		runs := runsOf(t, newer, provider.HookRunFilter{Hook: "crm", State: provider.HookRunSucceeded})
		return len(runs) == 1 && runs[0].Attempts == 1
	})
	if receipts.total() != 1 {
		t.Fatalf("receipt ran %d times, want once", receipts.total())
	}
}

// A run whose event is missing or unreadable fails loudly, never calls the
// hook with an empty event.
func TestARunWithoutAReadableEventFailsWithoutCallingTheHook(t *testing.T) {
	for _, c := range []struct {
		name  string
		event []byte
		want  string
	}{
		{"missing", nil, "missing"},
		{"not JSON", []byte("{not json"), "cannot be decoded"},
		{"another event", []byte(`{"id":"mem:OTHER:SUCCESSFUL"}`), "not"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
			svc := replica(t, store, mem, provider.ServiceOptions{})
			var calls atomic.Int64
			must(t, svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
				calls.Add(1)
				return nil
			}))
			key := provider.EventKey{Provider: "mem", PaymentID: "P1", Status: provider.PaymentSuccessful}
			id := key.String()
			must(t, store.Apply(t.Context(), &provider.ApplyWrite{Claim: &key, Event: c.event, HookRuns: []provider.NewHookRun{
				{EventID: id, Hook: "receipt", IdempotencyKey: provider.HookIdempotencyKey(id, "receipt")}}}))
			must(t, svc.Start(t.Context()))
			var run provider.HookRun
			waitFor(t, "the run to fail", func() bool {
				runs := runsOf(t, svc, provider.HookRunFilter{State: provider.HookRunFailed})
				if len(runs) == 1 {
					run = runs[0]
				}
				return len(runs) == 1
			})
			if calls.Load() != 0 {
				t.Fatalf("the hook was called %d times", calls.Load())
			}
			if !strings.Contains(run.LastError, c.want) {
				t.Fatalf("last error %q, want it to say %q", run.LastError, c.want)
			}
		})
	}
}

// A process that dies in the middle of a hook leaves its run leased; the
// lease lapses and another process (or the restarted one) runs it again,
// with the same idempotency key, within a lease and a poll.
func TestARunLeftByADeadProcessIsTakenOverWithinALease(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	const lease = 300 * time.Millisecond
	svc := replica(t, store, mem, provider.ServiceOptions{HookLease: lease})
	var keys []string
	done := make(chan struct{})
	must(t, svc.On("receipt", provider.When(provider.PaymentSuccessful), func(_ context.Context, ev *provider.HookEvent) error {
		keys = append(keys, ev.IdempotencyKey)
		if ev.Attempt != 2 {
			t.Errorf("attempt %d, want 2 (the dead process's claim counts)", ev.Attempt)
		}
		close(done)
		return nil
	}))
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	f := &fixture{svc: svc, store: store, mem: mem}
	f.apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 45000))
	// The dead process: it claimed the run and was killed.
	dead, err := store.ClaimHookRuns(t.Context(), []string{"receipt"}, 1, lease)
	must(t, err)
	if len(dead) != 1 {
		t.Fatalf("dead process claimed %d runs", len(dead))
	}
	start := time.Now()
	must(t, svc.Start(t.Context()))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run was not taken over within 30 s")
	}
	if took := time.Since(start); took < lease/2 {
		t.Errorf("taken over after %v, before the dead process's lease of %v lapsed", took, lease)
	}
	if keys[0] != dead[0].Run.IdempotencyKey {
		t.Errorf("idempotency key changed across processes: %q, then %q", dead[0].Run.IdempotencyKey, keys[0])
	}
}

// A hook that kills its process on every attempt still ends FAILED: a
// claim is an attempt, so the budget runs out.
func TestARunWhoseAttemptsAllDiedEndsFailed(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	svc := replica(t, store, mem, provider.ServiceOptions{HookLease: time.Millisecond})
	var calls atomic.Int64
	must(t, svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
		calls.Add(1)
		return nil
	}))
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	(&fixture{svc: svc, store: store, mem: mem}).apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 45000))
	for i := range 3 { // MaxAttempts: three processes die in turn
		time.Sleep(5 * time.Millisecond) // the previous one's lease lapses
		got, err := store.ClaimHookRuns(t.Context(), []string{"receipt"}, 1, time.Millisecond)
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("dead process %d claimed %d runs", i, len(got))
		}
	}
	must(t, svc.Start(t.Context()))
	waitFor(t, "the run to fail", func() bool {
		return len(runsOf(t, svc, provider.HookRunFilter{State: provider.HookRunFailed})) == 1
	})
	if calls.Load() != 0 {
		t.Fatalf("the hook ran after its attempts were spent")
	}
}

// A hook slower than the policy's timeout is a failed attempt, and a
// stopping process gives its running attempts back without counting them.
func TestTimeoutsCountAndStopsDoNot(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	svc := replica(t, store, mem, provider.ServiceOptions{HookPolicy: provider.HookPolicy{
		MaxAttempts: 2, Backoff: func(int) time.Duration { return time.Millisecond }, Timeout: 50 * time.Millisecond}})
	started := make(chan struct{}, 10)
	must(t, svc.On("slow", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}))
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	(&fixture{svc: svc, store: store, mem: mem}).apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 45000))
	must(t, svc.Start(t.Context()))
	waitFor(t, "two timed-out attempts", func() bool {
		runs := runsOf(t, svc, provider.HookRunFilter{State: provider.HookRunFailed})
		return len(runs) == 1 && runs[0].Attempts == 2 && strings.Contains(runs[0].LastError, "timed out")
	})
	must(t, svc.Stop(t.Context()))

	// Now a stop in the middle of an attempt.
	svc2 := replica(t, store, mem, provider.ServiceOptions{HookPolicy: provider.HookPolicy{
		MaxAttempts: 2, Backoff: func(int) time.Duration { return time.Millisecond }, Timeout: time.Minute}})
	must(t, svc2.On("slow", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}))
	failed := runsOf(t, svc2, provider.HookRunFilter{State: provider.HookRunFailed})
	must(t, retryRun(t.Context(), svc2, failed[0].ID))
	for len(started) > 0 {
		<-started
	}
	must(t, svc2.Start(t.Context()))
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := svc2.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a running hook: %v, want the deadline", err)
	}
	runs := runsOf(t, svc2, provider.HookRunFilter{})
	if len(runs) != 1 || runs[0].State != provider.HookRunPending || runs[0].Attempts != 0 {
		t.Fatalf("after a stop mid-attempt: %+v, want pending with the attempt given back", runs)
	}
}

// A stopping process gives back every run it holds, started or merely
// claimed, so another process takes them at once instead of after the
// leases lapse.
func TestStopGivesBackEveryRunItHolds(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	svc := replica(t, store, mem, provider.ServiceOptions{HookWorkers: 1})
	started := make(chan struct{}, 10)
	must(t, svc.On("slow", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}))
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Donations", Type: provider.LinkMultiple})
	must(t, err)
	f := &fixture{svc: svc, store: store, mem: mem}
	for _, id := range []string{"P1", "P2", "P3"} {
		f.apply(t, event(l.ID, id, provider.PaymentSuccessful, 10000))
	}
	must(t, svc.Start(t.Context()))
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_ = svc.Stop(ctx)
	runs := runsOf(t, svc, provider.HookRunFilter{})
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	for _, r := range runs {
		if r.State != provider.HookRunPending || r.Attempts != 0 {
			t.Errorf("after Stop: %+v, want pending with no attempt", r)
		}
	}
	claimed, err := store.ClaimHookRuns(t.Context(), []string{"slow"}, 10, time.Minute)
	must(t, err)
	if len(claimed) != 3 {
		t.Fatalf("another process could claim %d runs at once, want all 3", len(claimed))
	}
}

// stopOnClaim is a hook queue that calls stop the moment a claim hands
// out runs, before the claim returns: Stop begins while the runs are in
// the runner's hands, not yet started.
type stopOnClaim struct {
	*providertest.MemStore
	stop func()
	once sync.Once
}

func (q *stopOnClaim) ClaimHookRuns(ctx context.Context, hooks []string, limit int, lease time.Duration) ([]provider.ClaimedHookRun, error) {
	got, err := q.MemStore.ClaimHookRuns(ctx, hooks, limit, lease)
	if len(got) > 0 {
		q.once.Do(q.stop)
	}
	return got, err
}

// A run claimed in the moment Stop is called is never started: it goes
// back unstarted, released at once, its attempt not counted.
func TestARunClaimedAsStopBeginsIsNotStarted(t *testing.T) {
	store, mem := providertest.NewMemStore(), providertest.NewMemProvider("mem", "tok")
	var svc *provider.Service
	stopped := make(chan error, 1)
	q := &stopOnClaim{MemStore: store, stop: func() {
		go func() { stopped <- svc.Stop(context.Background()) }()
		time.Sleep(100 * time.Millisecond) // Stop has begun: it waits for the runner
	}}
	svc = replica(t, q, mem, provider.ServiceOptions{}) // the store is the queue: q stops the service as it claims
	var calls atomic.Int64
	must(t, svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
		calls.Add(1)
		return nil
	}))
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	(&fixture{svc: svc, store: store, mem: mem}).apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 45000))
	must(t, svc.Start(t.Context()))
	select {
	case err := <-stopped:
		must(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not return")
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the hook ran %d times after Stop began", n)
	}
	runs := runsOf(t, svc, provider.HookRunFilter{})
	if len(runs) != 1 || runs[0].State != provider.HookRunPending || runs[0].Attempts != 0 {
		t.Fatalf("after Stop: %+v, want the run pending with no attempt", runs)
	}
	if again, err := store.ClaimHookRuns(t.Context(), []string{"receipt"}, 1, time.Minute); err != nil || len(again) != 1 {
		t.Fatalf("another process's claim: %d runs, %v; want the run at once (released, not leased)", len(again), err)
	}
}

// claimCounter counts the runs ClaimHookRuns hands out.
type claimCounter struct {
	*providertest.MemStore
	claimed atomic.Int64
}

func (c *claimCounter) ClaimHookRuns(ctx context.Context, hooks []string, limit int, lease time.Duration) ([]provider.ClaimedHookRun, error) {
	got, err := c.MemStore.ClaimHookRuns(ctx, hooks, limit, lease)
	c.claimed.Add(int64(len(got)))
	return got, err
}

// The process that applies an event runs its hook runs at once: they are
// inserted leased to it, and no claim hands them out.
func TestARunOfAnEventThisProcessAppliedIsNeverClaimed(t *testing.T) {
	store := &claimCounter{MemStore: providertest.NewMemStore()}
	mem := providertest.NewMemProvider("mem", "tok")
	svc := replica(t, store, mem, provider.ServiceOptions{})
	var calls atomic.Int64
	must(t, svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
		calls.Add(1)
		return nil
	}))
	must(t, svc.Start(t.Context()))
	l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
	must(t, err)
	(&fixture{svc: svc, store: store.MemStore, mem: mem}).apply(t, event(l.ID, "P1", provider.PaymentSuccessful, 45000))
	waitFor(t, "the hook", func() bool { return calls.Load() == 1 })
	waitFor(t, "the run to be recorded", func() bool {
		runs, _ := store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		return len(runs) == 1 && runs[0].Attempts == 1
	})
	if n := store.claimed.Load(); n != 0 {
		t.Fatalf("claims handed out %d runs, want 0: the applying process holds its runs from the insert", n)
	}
}
