package providertest

import (
	"bytes"
	"errors"
	"fmt"
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

func queueClaim(t *testing.T, q provider.HookQueue, now time.Time, limit int, hooks ...string) []provider.ClaimedHookRun {
	t.Helper()
	got, err := q.ClaimHookRuns(storeCtx(t), hooks, limit, now, queueLease)
	if err != nil {
		t.Fatalf("ClaimHookRuns: %v", err)
	}
	return got
}

func queueFinish(t *testing.T, q provider.HookQueue, results ...provider.HookResult) []int64 {
	t.Helper()
	lost, err := q.FinishHookRuns(storeCtx(t), results)
	if err != nil {
		t.Fatalf("FinishHookRuns: %v", err)
	}
	return lost
}

func queueRun(t *testing.T, q provider.HookQueue, id int64) provider.HookRun {
	t.Helper()
	runs, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	for _, r := range runs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("hook run %d not listed", id)
	return provider.HookRun{}
}

func queueTestRunsCreated(t *testing.T, s suiteStore, q provider.HookQueue) {
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

func queueTestClaimFilters(t *testing.T, s suiteStore, q provider.HookQueue) {
	ev := queueRuns(t, s, "cf", "mine", "newer-replica")
	now := time.Now()
	got := queueClaim(t, q, now, 10, "mine")
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
	if again := queueClaim(t, q, now, 10, "mine"); len(again) != 0 {
		t.Errorf("a run under a live lease was claimed again: %+v", again)
	}
	if none := queueClaim(t, q, now, 10, "unknown"); len(none) != 0 {
		t.Errorf("claim of a hook with no runs: %+v", none)
	}
	if none := queueClaim(t, q, now, 0, "newer-replica"); len(none) != 0 {
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

func mustList(t *testing.T, q provider.HookQueue, ev string) []provider.HookRun {
	t.Helper()
	runs, err := q.ListHookRuns(storeCtx(t), provider.HookRunFilter{EventID: ev})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	return runs
}

func queueTestLeaseLapses(t *testing.T, s suiteStore, q provider.HookQueue) {
	queueRuns(t, s, "ll", "h")
	now := time.Now()
	first := queueClaim(t, q, now, 1, "h")
	if len(first) != 1 {
		t.Fatalf("first claim: %d runs, want 1", len(first))
	}
	if early := queueClaim(t, q, now.Add(queueLease-time.Second), 1, "h"); len(early) != 0 {
		t.Fatalf("claimed before the lease lapsed: %+v", early)
	}
	second := queueClaim(t, q, now.Add(queueLease+time.Second), 1, "h")
	if len(second) != 1 || second[0].Run.ID != first[0].Run.ID || second[0].Run.Attempts != 2 || second[0].Lease == first[0].Lease {
		t.Fatalf("claim after the lease lapsed: %+v; want the same run, attempt 2, a new token", second)
	}
}

func queueTestClaimConcurrent(t *testing.T, s suiteStore, q provider.HookQueue) {
	const runs, claimers = 24, 6
	for i := range runs {
		queueRuns(t, s, fmt.Sprintf("cc%d", i), "h")
	}
	now := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int64]int{}
		errs []error
	)
	for range claimers {
		wg.Go(func() {
			for {
				got, err := q.ClaimHookRuns(storeCtx(t), []string{"h"}, 3, now, queueLease)
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

func queueTestFinishFencing(t *testing.T, s suiteStore, q provider.HookQueue) {
	queueRuns(t, s, "ff", "h")
	now := time.Now()
	stale := queueClaim(t, q, now, 1, "h")[0]
	fresh := queueClaim(t, q, now.Add(queueLease+time.Second), 1, "h")[0]
	lost := queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: stale.Run.ID, Token: stale.Lease}, State: provider.HookRunSucceeded})
	if len(lost) != 1 || lost[0] != stale.Run.ID {
		t.Fatalf("finish under a lost lease: lost = %v, want [%d]", lost, stale.Run.ID)
	}
	if r := queueRun(t, q, stale.Run.ID); r.State != provider.HookRunPending {
		t.Fatalf("a stale holder's outcome was recorded: %+v", r)
	}
	lost = queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: fresh.Run.ID, Token: fresh.Lease}, State: provider.HookRunSucceeded})
	if len(lost) != 0 {
		t.Fatalf("finish by the holder: lost %v", lost)
	}
	r := queueRun(t, q, fresh.Run.ID)
	if r.State != provider.HookRunSucceeded || r.Attempts != 2 {
		t.Fatalf("after the holder's finish: %+v, want succeeded after 2 attempts", r)
	}
	if again := queueClaim(t, q, now.Add(10*queueLease), 1, "h"); len(again) != 0 {
		t.Fatalf("a succeeded run was claimed: %+v", again)
	}
	if lost := queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: fresh.Run.ID, Token: fresh.Lease}, State: provider.HookRunFailed}); len(lost) != 1 {
		t.Fatalf("a second finish with a spent token was recorded (lost %v)", lost)
	}
}

func queueTestRetryDue(t *testing.T, s suiteStore, q provider.HookQueue) {
	queueRuns(t, s, "rd", "h")
	now := time.Now()
	c := queueClaim(t, q, now, 1, "h")[0]
	next := now.Add(time.Hour)
	queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: c.Run.ID, Token: c.Lease}, State: provider.HookRunRetrying, NextAt: next, Error: "boom"})
	r := queueRun(t, q, c.Run.ID)
	if r.State != provider.HookRunRetrying || r.LastError != "boom" || !r.NextAt.Equal(next.UTC().Round(time.Microsecond)) && !r.NextAt.Equal(next) {
		t.Fatalf("after a failed attempt: %+v, want retrying, error boom, due %v", r, next)
	}
	if early := queueClaim(t, q, now.Add(59*time.Minute), 1, "h"); len(early) != 0 {
		t.Fatalf("claimed before it was due: %+v", early)
	}
	if due := queueClaim(t, q, now.Add(61*time.Minute), 1, "h"); len(due) != 1 || due[0].Run.Attempts != 2 {
		t.Fatalf("claim once due: %+v, want the run at attempt 2", due)
	}
}

func queueTestRelease(t *testing.T, s suiteStore, q provider.HookQueue) {
	queueRuns(t, s, "rl", "h")
	now := time.Now()
	c := queueClaim(t, q, now, 1, "h")[0]
	queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: c.Run.ID, Token: c.Lease}, State: provider.HookRunPending, Release: true, NextAt: now})
	again := queueClaim(t, q, now, 1, "h")
	if len(again) != 1 || again[0].Run.Attempts != 1 {
		t.Fatalf("claim after a release: %+v, want the run again at attempt 1", again)
	}
}

func queueTestExtend(t *testing.T, s suiteStore, q provider.HookQueue) {
	queueRuns(t, s, "ex", "h")
	now := time.Now()
	c := queueClaim(t, q, now, 1, "h")[0]
	until := now.Add(3 * queueLease)
	if err := q.ExtendHookLeases(storeCtx(t), []provider.HookLease{{ID: c.Run.ID, Token: c.Lease}, {ID: c.Run.ID, Token: "not-the-holder"}}, until); err != nil {
		t.Fatalf("ExtendHookLeases: %v", err)
	}
	if got := queueClaim(t, q, now.Add(2*queueLease), 1, "h"); len(got) != 0 {
		t.Fatalf("claimed under an extended lease: %+v", got)
	}
	if got := queueClaim(t, q, until.Add(time.Second), 1, "h"); len(got) != 1 {
		t.Fatalf("claim after the extended lease lapsed: %d runs, want 1", len(got))
	}
}

func queueTestRetryHookRun(t *testing.T, s suiteStore, q provider.HookQueue) {
	ctx := storeCtx(t)
	queueRuns(t, s, "rt", "h")
	now := time.Now()
	c := queueClaim(t, q, now, 1, "h")[0]
	storeWantCode(t, "RetryHookRun of a running run", q.RetryHookRun(ctx, c.Run.ID), provider.CodeFailedPrecondition)
	queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: c.Run.ID, Token: c.Lease}, State: provider.HookRunFailed, Error: "gave up"})
	if err := q.RetryHookRun(ctx, c.Run.ID); err != nil {
		t.Fatalf("RetryHookRun of a failed run: %v", err)
	}
	r := queueRun(t, q, c.Run.ID)
	if r.State != provider.HookRunPending || r.Attempts != 0 || r.LastError != "" {
		t.Fatalf("after RetryHookRun: %+v, want pending, 0 attempts, no error", r)
	}
	if got := queueClaim(t, q, time.Now(), 1, "h"); len(got) != 1 || got[0].Run.Attempts != 1 {
		t.Fatalf("claim after RetryHookRun: %+v, want the run at attempt 1", got)
	}
	storeWantCode(t, "RetryHookRun of an unknown id", q.RetryHookRun(ctx, 1<<40), provider.CodeNotFound)
}

func queueTestNoEvent(t *testing.T, s suiteStore, q provider.HookQueue) {
	storeApply(t, s, &provider.ApplyWrite{HookRuns: []provider.NewHookRun{{EventID: "test:ghost:SUCCESSFUL", Hook: "h", IdempotencyKey: "k"}}})
	got := queueClaim(t, q, time.Now(), 1, "h")
	if len(got) != 1 || len(got[0].Event) != 0 {
		t.Fatalf("claim of a run whose event was never stored: %+v, want the run without an event", got)
	}
}

func queueTestBacklog(t *testing.T, s suiteStore, q provider.HookQueue) {
	backlog := func(now time.Time) provider.HookBacklog {
		t.Helper()
		b, err := q.HookBacklog(storeCtx(t), now)
		if err != nil {
			t.Fatalf("HookBacklog: %v", err)
		}
		return b
	}
	if b := backlog(time.Now()); b != (provider.HookBacklog{}) {
		t.Fatalf("backlog of an empty queue = %+v, want none", b)
	}
	before := time.Now()
	queueRuns(t, s, "bl1", "a", "b")
	queueRuns(t, s, "bl2", "a", "c")
	now := time.Now().Add(time.Second)
	if b := backlog(before.Add(-time.Hour)); b.Runs != 0 || !b.OldestDue.IsZero() {
		t.Errorf("backlog before the runs were due = %+v, want none", b)
	}
	b := backlog(now)
	if b.Runs != 4 || b.OldestDue.Before(before.Add(-time.Millisecond)) || b.OldestDue.After(now) {
		t.Fatalf("backlog = %+v, want 4 runs, the oldest due between %v and %v", b, before, now)
	}
	// A running run still counts; a succeeded one and a retry not yet due do not.
	claimed := queueClaim(t, q, now, 3, "a", "b")
	if len(claimed) != 3 {
		t.Fatalf("claimed %d runs, want 3", len(claimed))
	}
	lease := func(i int) provider.HookLease {
		return provider.HookLease{ID: claimed[i].Run.ID, Token: claimed[i].Lease}
	}
	queueFinish(t, q,
		provider.HookResult{HookLease: lease(0), State: provider.HookRunSucceeded},
		provider.HookResult{HookLease: lease(1), State: provider.HookRunRetrying, NextAt: now.Add(time.Hour), Error: "boom"})
	if b := backlog(now); b.Runs != 2 {
		t.Errorf("backlog after a success and a retry = %+v, want 2 runs (one running, one pending)", b)
	}
	if b := backlog(now.Add(2 * time.Hour)); b.Runs != 3 || !b.OldestDue.Before(now) {
		t.Errorf("backlog once the retry is due = %+v, want 3 runs, the oldest due before %v", b, now)
	}
}
