package providertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

const queueLease = time.Minute

// queueRuns applies a new payment with one run per hook and returns the
// runs' event id.
func queueRuns(t *testing.T, s suiteStore, paymentID string, hooks ...string) string {
	t.Helper()
	p := storePayment(paymentID, "q-"+paymentID)
	p.Status = provider.PaymentSuccessful
	w := storeWrite(p, hooks...)
	storeApply(t, s, w)
	return w.Claim.String()
}

// hookQueue is what the suite reads and writes a store's queue through:
// a store that is a provider.HookQueue must be a provider.Reader too.
type hookQueue interface {
	provider.HookQueue
	provider.Reader
}

func queueClaim(t *testing.T, q hookQueue, limit int, hooks ...string) []provider.ClaimedHookRun {
	t.Helper()
	return queueClaimFor(t, q, queueLease, limit, hooks...)
}

// queueClaimFor claims under a lease of the given length.
func queueClaimFor(t *testing.T, q hookQueue, lease time.Duration, limit int, hooks ...string) []provider.ClaimedHookRun {
	t.Helper()
	got, err := q.ClaimHookRuns(storeCtx(t), hooks, limit, lease)
	if err != nil {
		t.Fatalf("ClaimHookRuns: %v", err)
	}
	return got
}

func queueFinish(t *testing.T, q hookQueue, results ...provider.HookResult) []int64 {
	t.Helper()
	lost, err := q.FinishHookRuns(storeCtx(t), results)
	if err != nil {
		t.Fatalf("FinishHookRuns: %v", err)
	}
	return lost
}

// queueRequeue is an operator's retry of the failed run id.
func queueRequeue(t *testing.T, q hookQueue, id int64) {
	t.Helper()
	if lost, err := q.FinishHookRuns(storeCtx(t), []provider.HookResult{{HookLease: provider.HookLease{ID: id}, Requeue: true}}); err != nil || len(lost) != 0 {
		t.Fatalf("FinishHookRuns of a Requeue: lost %v, %v", lost, err)
	}
}

// queueLeaseOf is the lease a claim holds.
func queueLeaseOf(c provider.ClaimedHookRun) provider.HookLease {
	return provider.HookLease{ID: c.Run.ID, Token: c.Lease}
}

// queueAfter waits d and a little more: the store's clock has then moved
// past d from now (the store's clock and the host's tick at one rate).
func queueAfter(d time.Duration) { time.Sleep(d + 50*time.Millisecond) }

func queueRun(t *testing.T, q hookQueue, id int64) provider.HookRun {
	t.Helper()
	runs, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{ID: id})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	if len(runs) != 1 {
		t.Fatalf("hook run %d not listed", id)
	}
	return runs[0]
}

func queueTestRunsCreated(t *testing.T, s suiteStore, q hookQueue) {
	ev := queueRuns(t, s, "rc", "a", "b")
	// A second write naming an existing (event, hook) leaves that run alone.
	w := &provider.ApplyWrite{HookRuns: []provider.NewHookRun{
		{EventID: ev, Hook: "a", IdempotencyKey: provider.HookIdempotencyKey(ev, "a")},
		{EventID: ev, Hook: "c", IdempotencyKey: provider.HookIdempotencyKey(ev, "c")},
	}}
	storeApply(t, s, w)
	runs, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{EventID: ev})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	if len(runs) != 3 || runs[0].Hook != "a" || runs[1].Hook != "b" || runs[2].Hook != "c" {
		t.Fatalf("runs = %+v, want a, b, c once each, oldest first", runs)
	}
	if only, _ := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{Hook: "b", State: provider.HookRunPending, Limit: 1}); len(only) != 1 || only[0].Hook != "b" {
		t.Errorf("filtered ListHookRuns = %+v, want the run of b", only)
	}
}

func queueTestClaimFilters(t *testing.T, s suiteStore, q hookQueue) {
	ev := queueRuns(t, s, "cf", "mine", "newer-replica")
	got := queueClaim(t, q, 10, "mine")
	if len(got) != 1 || got[0].Run.Hook != "mine" {
		t.Fatalf("claim of hook mine: got %d runs %+v, want only mine's", len(got), got)
	}
	c := got[0]
	if c.Run.EventID != ev || c.Run.Attempts != 1 || c.Lease == "" || c.Run.IdempotencyKey != provider.HookIdempotencyKey(ev, "mine") {
		t.Errorf("claimed run = %+v, lease %q; want attempt 1, a lease token and the idempotency key", c.Run, c.Lease)
	}
	if want := `{"id":"` + ev + `"}`; !bytes.Equal(c.Event, []byte(want)) {
		t.Errorf("claimed event = %s, want %s", c.Event, want)
	}
	if again := queueClaim(t, q, 10, "mine"); len(again) != 0 {
		t.Errorf("a run under a live lease was claimed again: %+v", again)
	}
	if none := queueClaim(t, q, 10, "unknown"); len(none) != 0 {
		t.Errorf("claim of a hook with no runs: %+v", none)
	}
	if none := queueClaim(t, q, 0, "newer-replica"); len(none) != 0 {
		t.Errorf("claim with limit 0: %+v", none)
	}
	if r := queueRun(t, q, got[0].Run.ID+0); r.Attempts != 1 {
		t.Errorf("listed attempts after a claim: %d, want 1", r.Attempts)
	}
	for _, r := range mustList(t, q, ev) {
		if r.Hook == "newer-replica" && r.Attempts != 0 {
			t.Errorf("a run of a hook nobody claimed burnt %d attempts", r.Attempts)
		}
	}
}

func mustList(t *testing.T, q hookQueue, ev string) []provider.HookRun {
	t.Helper()
	runs, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{EventID: ev})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	return runs
}

func queueTestLeaseLapses(t *testing.T, s suiteStore, q hookQueue) {
	queueRuns(t, s, "ll", "h")
	const lease = 300 * time.Millisecond
	first := queueClaimFor(t, q, lease, 1, "h")
	if len(first) != 1 {
		t.Fatalf("first claim: %d runs, want 1", len(first))
	}
	if early := queueClaim(t, q, 1, "h"); len(early) != 0 {
		t.Fatalf("claimed before the lease lapsed: %+v", early)
	}
	queueAfter(lease)
	second := queueClaim(t, q, 1, "h")
	if len(second) != 1 || second[0].Run.ID != first[0].Run.ID || second[0].Run.Attempts != 2 || second[0].Lease == first[0].Lease {
		t.Fatalf("claim after the lease lapsed: %+v; want the same run, attempt 2, a new token", second)
	}
}

// Claims take no time from the caller: the store's clock decides whether
// a lease is live. So a claim "from a process whose clock runs 15 s
// ahead" is a claim like any other, and gets nothing while the lease
// holds, however long after the first claim it comes within the lease.
func queueTestLeaseOnTheStoresClock(t *testing.T, s suiteStore, q hookQueue) {
	queueRuns(t, s, "sc", "h")
	const lease = 20 * time.Second // longer than any skew the test pretends
	held := queueClaimFor(t, q, lease, 1, "h")
	if len(held) != 1 {
		t.Fatalf("first claim: %d runs, want 1", len(held))
	}
	for i := range 3 {
		if stolen := queueClaimFor(t, q, time.Millisecond, 1, "h"); len(stolen) != 0 {
			t.Fatalf("claim #%d from another process took a live lease: %+v", i+2, stolen)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The holder's outcome is recorded: nobody took the run over.
	if lost := queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(held[0]), State: provider.HookRunSucceeded}); len(lost) != 0 {
		t.Fatalf("the holder lost its lease: %v", lost)
	}
}

func queueTestClaimConcurrent(t *testing.T, s suiteStore, q hookQueue) {
	const runs, claimers = 24, 6
	for i := range runs {
		queueRuns(t, s, fmt.Sprintf("cc%d", i), "h")
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int64]int{}
		errs []error
	)
	for range claimers {
		wg.Go(func() {
			for {
				got, err := q.ClaimHookRuns(storeCtx(t), []string{"h"}, 3, queueLease)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, c := range got {
					seen[c.Run.ID]++
				}
				mu.Unlock()
				if err != nil || len(got) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent claims failed: %v", errors.Join(errs...))
	}
	if len(seen) != runs {
		t.Fatalf("claimed %d distinct runs, want %d", len(seen), runs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("run %d claimed %d times", id, n)
		}
	}
}

func queueTestFinishFencing(t *testing.T, s suiteStore, q hookQueue) {
	queueRuns(t, s, "ff", "h")
	const lease = 200 * time.Millisecond
	stale := queueClaimFor(t, q, lease, 1, "h")[0]
	queueAfter(lease)
	fresh := queueClaim(t, q, 1, "h")[0]
	lost := queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(stale), State: provider.HookRunSucceeded})
	if len(lost) != 1 || lost[0] != stale.Run.ID {
		t.Fatalf("finish under a lost lease: lost = %v, want [%d]", lost, stale.Run.ID)
	}
	if r := queueRun(t, q, stale.Run.ID); r.State != provider.HookRunPending {
		t.Fatalf("a stale holder's outcome was recorded: %+v", r)
	}
	lost = queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(fresh), State: provider.HookRunSucceeded})
	if len(lost) != 0 {
		t.Fatalf("finish by the holder: lost %v", lost)
	}
	r := queueRun(t, q, fresh.Run.ID)
	if r.State != provider.HookRunSucceeded || r.Attempts != 2 {
		t.Fatalf("after the holder's finish: %+v, want succeeded after 2 attempts", r)
	}
	if again := queueClaim(t, q, 1, "h"); len(again) != 0 {
		t.Fatalf("a succeeded run was claimed: %+v", again)
	}
	if lost := queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(fresh), State: provider.HookRunFailed}); len(lost) != 1 {
		t.Fatalf("a second finish with a spent token was recorded (lost %v)", lost)
	}
}

func queueTestRetryDue(t *testing.T, s suiteStore, q hookQueue) {
	queueRuns(t, s, "rd", "h")
	c := queueClaim(t, q, 1, "h")[0]
	const delay = 300 * time.Millisecond
	before := time.Now()
	queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(c), State: provider.HookRunRetrying, Delay: delay, Error: "boom"})
	r := queueRun(t, q, c.Run.ID)
	// The store's clock may be another host's: allow it a second's skew.
	if r.State != provider.HookRunRetrying || r.LastError != "boom" ||
		r.NextAt.Before(before.Add(delay-time.Second)) || r.NextAt.After(time.Now().Add(delay+time.Second)) {
		t.Fatalf("after a failed attempt: %+v, want retrying, error boom, due about %v from now", r, delay)
	}
	if early := queueClaim(t, q, 1, "h"); len(early) != 0 {
		t.Fatalf("claimed before it was due: %+v", early)
	}
	queueAfter(delay)
	if due := queueClaim(t, q, 1, "h"); len(due) != 1 || due[0].Run.Attempts != 2 {
		t.Fatalf("claim once due: %+v, want the run at attempt 2", due)
	}
}

func queueTestRelease(t *testing.T, s suiteStore, q hookQueue) {
	queueRuns(t, s, "rl", "h")
	c := queueClaim(t, q, 1, "h")[0]
	queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(c), State: provider.HookRunPending, Release: true})
	again := queueClaim(t, q, 1, "h")
	if len(again) != 1 || again[0].Run.Attempts != 1 {
		t.Fatalf("claim after a release: %+v, want the run again at attempt 1", again)
	}
}

func queueTestExtend(t *testing.T, s suiteStore, q hookQueue) {
	queueRuns(t, s, "ex", "h")
	const lease = 200 * time.Millisecond
	c := queueClaimFor(t, q, lease, 1, "h")[0]
	extend := func(l provider.HookLease, lease time.Duration) {
		t.Helper()
		if err := q.ExtendHookLeases(storeCtx(t), []provider.HookLease{l}, lease); err != nil {
			t.Fatalf("ExtendHookLeases: %v", err)
		}
	}
	extend(queueLeaseOf(c), queueLease)
	extend(provider.HookLease{ID: c.Run.ID, Token: "not-the-holder"}, 0)
	queueAfter(lease)
	if got := queueClaim(t, q, 1, "h"); len(got) != 0 {
		t.Fatalf("claimed under an extended lease: %+v", got)
	}
	// Extended by nothing, the lease ends now.
	extend(queueLeaseOf(c), 0)
	queueAfter(0)
	if got := queueClaim(t, q, 1, "h"); len(got) != 1 {
		t.Fatalf("claim after the extended lease lapsed: %d runs, want 1", len(got))
	}
}

func queueTestRequeue(t *testing.T, s suiteStore, q hookQueue) {
	ctx := storeCtx(t)
	queueRuns(t, s, "rt", "h", "other")
	c := queueClaim(t, q, 1, "h")[0]
	requeue := provider.HookResult{HookLease: provider.HookLease{ID: c.Run.ID}, Requeue: true}
	_, err := q.FinishHookRuns(ctx, []provider.HookResult{requeue})
	storeWantCode(t, "Requeue of a running run", err, provider.CodeFailedPrecondition)
	queueFinish(t, q, provider.HookResult{HookLease: queueLeaseOf(c), State: provider.HookRunFailed, Error: "gave up"})

	// A Requeue that fails records nothing else of its batch.
	other := queueClaim(t, q, 1, "other")[0]
	_, err = q.FinishHookRuns(ctx, []provider.HookResult{
		{HookLease: queueLeaseOf(other), State: provider.HookRunSucceeded},
		{HookLease: provider.HookLease{ID: other.Run.ID}, Requeue: true},
	})
	storeWantCode(t, "Requeue of a running run beside an outcome", err, provider.CodeFailedPrecondition)
	if r := queueRun(t, q, other.Run.ID); r.State != provider.HookRunPending {
		t.Fatalf("an outcome batched with a failed Requeue was recorded: %+v", r)
	}

	queueRequeue(t, q, c.Run.ID)
	r := queueRun(t, q, c.Run.ID)
	if r.State != provider.HookRunPending || r.Attempts != 0 || r.LastError != "" {
		t.Fatalf("after a Requeue: %+v, want pending, 0 attempts, no error", r)
	}
	if got := queueClaim(t, q, 1, "h"); len(got) != 1 || got[0].Run.Attempts != 1 {
		t.Fatalf("claim after a Requeue: %+v, want the run at attempt 1", got)
	}
	_, err = q.FinishHookRuns(ctx, []provider.HookResult{{HookLease: provider.HookLease{ID: 1 << 40}, Requeue: true}})
	storeWantCode(t, "Requeue of an unknown id", err, provider.CodeNotFound)
}

func queueTestNoEvent(t *testing.T, s suiteStore, q hookQueue) {
	storeApply(t, s, &provider.ApplyWrite{HookRuns: []provider.NewHookRun{{EventID: "test:ghost:SUCCESSFUL", Hook: "h", IdempotencyKey: "k"}}})
	got := queueClaim(t, q, 1, "h")
	if len(got) != 1 || len(got[0].Event) != 0 {
		t.Fatalf("claim of a run whose event was never stored: %+v, want the run without an event", got)
	}
}

func queueTestBacklog(t *testing.T, s suiteStore, q hookQueue) {
	backlog := func() provider.HookBacklog {
		t.Helper()
		b, err := q.HookBacklog(storeCtx(t))
		if err != nil {
			t.Fatalf("HookBacklog: %v", err)
		}
		return b
	}
	if b := backlog(); b != (provider.HookBacklog{}) {
		t.Fatalf("backlog of an empty queue = %+v, want none", b)
	}
	before := time.Now()
	queueRuns(t, s, "bl1", "a", "b")
	queueRuns(t, s, "bl2", "a", "c")
	b := backlog()
	// The store's clock may be another host's: allow it a second's skew.
	if b.Runs != 4 || b.OldestDue.Before(before.Add(-time.Second)) || b.OldestDue.After(time.Now().Add(time.Second)) {
		t.Fatalf("backlog = %+v, want 4 runs, the oldest due about %v", b, before)
	}
	// A running run still counts; a succeeded one and a retry not yet due do not.
	claimed := queueClaim(t, q, 3, "a", "b")
	if len(claimed) != 3 {
		t.Fatalf("claimed %d runs, want 3", len(claimed))
	}
	queueFinish(t, q,
		provider.HookResult{HookLease: queueLeaseOf(claimed[0]), State: provider.HookRunSucceeded},
		provider.HookResult{HookLease: queueLeaseOf(claimed[1]), State: provider.HookRunRetrying, Delay: time.Hour, Error: "boom"})
	if b := backlog(); b.Runs != 2 {
		t.Errorf("backlog after a success and a retry = %+v, want 2 runs (one running, one pending)", b)
	}
}

// Two replicas whose process clocks differ by 15 s (ServiceOptions.Now),
// over one store, with a lease far shorter than the skew: the one ahead
// never takes over a run the other is running, because leases are on the
// store's clock. Every hook runs once, never two at a time.
func queueTestSkewedReplicas(t *testing.T, s suiteStore, q hookQueue) {
	const runs = 4
	var (
		mu      sync.Mutex
		running = map[string]bool{}
		calls   = map[string]int{}
		overlap []string
	)
	slow := provider.HookFunc(func(ctx context.Context, ev *provider.HookEvent) error {
		mu.Lock()
		if running[ev.ID] {
			overlap = append(overlap, ev.ID)
		}
		running[ev.ID] = true
		calls[ev.ID]++
		mu.Unlock()
		time.Sleep(1200 * time.Millisecond) // four leases: renewed, never lapsed
		mu.Lock()
		running[ev.ID] = false
		mu.Unlock()
		return nil
	})
	replica := func(skew time.Duration) {
		svc, err := provider.NewService(s, provider.ServiceOptions{
			Providers: []provider.Provider{NewMemProvider("mem", "token")}, Logger: slog.New(slog.DiscardHandler),
			Now:        func() time.Time { return time.Now().Add(skew) },
			HookPolicy: provider.HookPolicy{MaxAttempts: 3, Timeout: 10 * time.Second},
			HookLease:  300 * time.Millisecond, HookPollInterval: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatalf("NewService: %v", err)
		}
		if err := svc.On("slow", provider.When(provider.PaymentSuccessful), slow); err != nil {
			t.Fatalf("On: %v", err)
		}
		if err := svc.Start(context.Background()); err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	}
	replica(0)
	replica(15 * time.Second)
	for i := range runs {
		queueRuns(t, s, fmt.Sprintf("sk%d", i), "slow")
	}
	deadline := time.Now().Add(storeDeadline)
	for {
		done, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{Hook: "slow", State: provider.HookRunSucceeded})
		if err != nil {
			t.Fatalf("ListHookRuns: %v", err)
		}
		if len(done) == runs {
			for _, r := range done {
				if r.Attempts != 1 {
					t.Errorf("run %s took %d attempts, want 1: its lease was taken over", r.EventID, r.Attempts)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs succeeded in %v", len(done), runs, storeDeadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(overlap) > 0 {
		t.Errorf("hooks ran twice at once for %v", overlap)
	}
	for ev, n := range calls {
		if n != 1 {
			t.Errorf("the hook ran %d times for %s, want once", n, ev)
		}
	}
}

// Runs inserted leased (ApplyWrite.HookLease) come back with their ids,
// count their first attempt, are not claimed by anyone while the lease
// holds, and take their outcome under the write's token; a run that
// existed keeps its own lease and gets no id.
func queueTestRunsInsertedLeased(t *testing.T, s suiteStore, q hookQueue) {
	p := storePayment("leased", "q-leased")
	p.Status = provider.PaymentSuccessful
	w := storeWrite(p, "a", "b")
	w.HookLease, w.HookLeaseFor = "token-of-this-process", 20*time.Second
	storeApply(t, s, w)
	for _, r := range w.HookRuns {
		if r.ID == 0 {
			t.Fatalf("run of %s inserted leased came back without an id: %+v", r.Hook, w.HookRuns)
		}
		if got := queueRun(t, q, r.ID); got.Attempts != 1 || got.State != provider.HookRunPending || got.Hook != r.Hook {
			t.Fatalf("run %d as stored: %+v; want pending, one attempt, hook %s", r.ID, got, r.Hook)
		}
	}
	if stolen := queueClaim(t, q, 10, "a", "b"); len(stolen) != 0 {
		t.Fatalf("a claim took runs leased at insert: %+v", stolen)
	}
	lost := queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: w.HookRuns[0].ID, Token: w.HookLease}, State: provider.HookRunSucceeded})
	if len(lost) != 0 {
		t.Fatalf("the lease holder's outcome was refused: lost %v", lost)
	}
	if got := queueRun(t, q, w.HookRuns[0].ID); got.State != provider.HookRunSucceeded {
		t.Fatalf("after its outcome the run is %s, want succeeded", got.State)
	}

	// The same event's runs again (a second write of one claim cannot
	// happen; a run that exists is left alone): no id, no new lease.
	again := provider.ApplyWrite{HookRuns: w.HookRuns, HookLease: "another-token", HookLeaseFor: time.Second, Event: w.Event}
	again.HookRuns = append([]provider.NewHookRun(nil), w.HookRuns...)
	storeApply(t, s, &again)
	for _, r := range again.HookRuns {
		if r.ID != 0 {
			t.Fatalf("a run that existed came back with id %d under another token", r.ID)
		}
	}
}
