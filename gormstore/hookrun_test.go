package gormstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

// These tests drive one hook worker directly (gormstore.WorkHookJob), so
// that lease, timeout and re-delivery cases happen exactly when the test
// says instead of when River's scheduler gets to them.

// enqueueRun commits one SUCCESSFUL event of payment with a single hook
// "h" and returns its run.
func enqueueRun(t *testing.T, s *gormstore.Store, payment string) provider.HookRun {
	t.Helper()
	ctx := context.Background()
	key := provider.EventKey{Provider: "test", PaymentID: payment, Status: provider.PaymentSuccessful}
	ev := provider.HookEvent{
		ID: key.String(), Status: provider.PaymentSuccessful, Source: provider.SourceCallback,
		Payment: provider.Payment{ID: payment, Provider: "test", LinkID: "L-" + payment, Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000)},
	}
	err := s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error {
		if _, err := tx.ClaimEvent(ctx, key); err != nil {
			return err
		}
		return tx.EnqueueHooks(ctx, ev, []string{"h"})
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return onlyRun(t, s, ev.ID)
}

// onlyRun returns the single hook run of an event.
func onlyRun(t *testing.T, s *gormstore.Store, eventID string) provider.HookRun {
	t.Helper()
	runs, err := s.ListHookRuns(context.Background(), provider.HookRunFilter{EventID: eventID})
	if err != nil || len(runs) != 1 {
		t.Fatalf("ListHookRuns(%s): %d runs, %v; want 1", eventID, len(runs), err)
	}
	return runs[0]
}

// slowPolicy gives a hook all the time it needs: only the test's own
// deadlines end an attempt.
func slowPolicy(maxAttempts int) provider.HookPolicy {
	return provider.HookPolicy{MaxAttempts: maxAttempts, Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Timeout: time.Minute}
}

// A hook that runs longer than the store's bookkeeping timeout (30 s by
// default, well inside the default 1 min hook timeout) still gets its
// success recorded: otherwise the run stays pending and the hook is run
// again and again, each time successfully.
func TestSlowHookSuccessIsRecorded(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := migrated(t, b.open(t))
			run := enqueueRun(t, s, "slow")
			const bookkeeping = 100 * time.Millisecond
			calls := 0
			slow := dispatcherFunc(func(ctx context.Context, _ provider.HookRun, _ provider.HookEvent) error {
				calls++
				time.Sleep(3 * bookkeeping) // longer than the bookkeeping timeout, however slow the machine
				return nil
			})
			err := gormstore.WorkHookJob(context.Background(), s, slow, slowPolicy(3), time.Minute, bookkeeping, run.ID)
			if err != nil {
				t.Fatalf("job: %v, want nil (the hook succeeded)", err)
			}
			got := onlyRun(t, s, run.EventID)
			if got.State != provider.HookRunSucceeded || got.Attempts != 1 || calls != 1 {
				t.Fatalf("run %+v after %d call(s); want succeeded after 1 attempt", got, calls)
			}
		})
	}
}

// A hook that outlives its lease (it ignores its context, say) keeps the
// lease while it runs: a second delivery of its job (River rescues a job
// running longer than RescueStuckJobsAfter) waits instead of running the
// hook a second time next to the first.
func TestHookOutlivingItsLeaseIsNotRunTwice(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := migrated(t, b.open(t))
			run := enqueueRun(t, s, "hung")
			const lease = 1500 * time.Millisecond
			var (
				mu      sync.Mutex
				calls   int
				started = make(chan struct{})
				release = make(chan struct{})
			)
			hung := dispatcherFunc(func(context.Context, provider.HookRun, provider.HookEvent) error {
				mu.Lock()
				calls++
				first := calls == 1
				mu.Unlock()
				if first {
					close(started)
					<-release // ignores ctx, as a hung SMTP call would
				}
				return nil
			})
			ctx := context.Background()
			firstDone := make(chan error, 1)
			go func() { firstDone <- gormstore.WorkHookJob(ctx, s, hung, slowPolicy(3), lease, 0, run.ID) }()
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatal("the first delivery never called the hook")
			}
			expired := time.Now().Add(2 * lease) // the claim's lease is long gone by then
			for time.Now().Before(expired) {
				time.Sleep(50 * time.Millisecond)
			}

			err := gormstore.WorkHookJob(ctx, s, hung, slowPolicy(3), lease, 0, run.ID)
			var snooze *rivertype.JobSnoozeError
			if !errors.As(err, &snooze) {
				t.Errorf("second delivery while the first still runs: %v, want a snooze", err)
			}
			mu.Lock()
			n := calls
			mu.Unlock()
			if n != 1 {
				t.Errorf("hook called %d times while the first call was still running, want 1", n)
			}

			close(release)
			if err := <-firstDone; err != nil {
				t.Fatalf("first delivery: %v", err)
			}
			if got := onlyRun(t, s, run.EventID); got.State != provider.HookRunSucceeded || got.Attempts != 1 {
				t.Fatalf("run %+v, want succeeded after 1 attempt", got)
			}
			// The snoozed delivery comes back and finds nothing to do.
			if err := gormstore.WorkHookJob(ctx, s, hung, slowPolicy(3), lease, 0, run.ID); err != nil {
				t.Errorf("delivery after success: %v, want nil", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != 1 {
				t.Errorf("hook called %d times in all, want 1", calls)
			}
		})
	}
}

// A worker whose run was finished by another worker in the meantime (its
// lease had lapsed) must not record its own, older outcome over it: a
// succeeded run turned back into "retrying" would run its hook again.
func TestStaleWorkerCannotOverwriteAFinishedRun(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := migrated(t, b.open(t))
			run := enqueueRun(t, s, "stale")
			started, release := make(chan struct{}), make(chan struct{})
			failing := dispatcherFunc(func(context.Context, provider.HookRun, provider.HookEvent) error {
				close(started)
				<-release
				return errors.New("smtp: connection reset")
			})
			done := make(chan error, 1)
			go func() {
				done <- gormstore.WorkHookJob(context.Background(), s, failing, slowPolicy(3), time.Minute, 0, run.ID)
			}()
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatal("the worker never called the hook")
			}
			// Meanwhile another worker ran the hook and recorded its success.
			err := s.DB().Model(&gormstore.HookRunRecord{}).Where("id = ?", run.ID).
				Updates(map[string]any{"state": string(provider.HookRunSucceeded), "attempts": 1, "lease_until": nil}).Error
			if err != nil {
				t.Fatalf("record the other worker's success: %v", err)
			}
			close(release)
			if err := <-done; err != nil {
				t.Errorf("stale worker's job: %v, want nil (nothing left to retry)", err)
			}
			if got := onlyRun(t, s, run.EventID); got.State != provider.HookRunSucceeded || got.Attempts != 1 || got.LastError != "" {
				t.Fatalf("run %+v; want it left succeeded after 1 attempt", got)
			}
		})
	}
}

// An attempt cut short by River's job timeout counts as a failed attempt,
// so a run whose hook always outlasts the job timeout ends FAILED instead
// of being retried forever; an attempt interrupted because the client is
// stopping does not count, and the run is free for the next client.
func TestInterruptedAttempts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// jobCtx plays River's context for the job.
		jobCtx       func() (context.Context, context.CancelFunc)
		wantState    provider.HookRunState
		wantAttempts int
		wantCancel   bool // the job is cancelled for good (river.JobCancel)
	}{
		{"job timeout counts", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, provider.HookRunFailed, 1, true},
		{"client stop does not count", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, provider.HookRunPending, 0, false},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := migrated(t, b.open(t))
			for _, tt := range tests {
				run := enqueueRun(t, s, tt.name)
				waits := dispatcherFunc(func(ctx context.Context, _ provider.HookRun, _ provider.HookEvent) error {
					<-ctx.Done()
					return ctx.Err()
				})
				ctx, cancel := tt.jobCtx()
				err := gormstore.WorkHookJob(ctx, s, waits, slowPolicy(1), time.Minute, 0, run.ID)
				cancel()
				var jobCancel *rivertype.JobCancelError
				if got := errors.As(err, &jobCancel); got != tt.wantCancel {
					t.Errorf("%s: job returned %v; cancelled for good = %v, want %v", tt.name, err, got, tt.wantCancel)
				}
				got := onlyRun(t, s, run.EventID)
				if got.State != tt.wantState || got.Attempts != tt.wantAttempts {
					t.Errorf("%s: run %+v; want %s after %d attempt(s)", tt.name, got, tt.wantState, tt.wantAttempts)
				}
				if tt.wantState == provider.HookRunPending {
					// Released: the next delivery runs it at once.
					ok := dispatcherFunc(func(context.Context, provider.HookRun, provider.HookEvent) error { return nil })
					if err := gormstore.WorkHookJob(context.Background(), s, ok, slowPolicy(1), time.Minute, 0, run.ID); err != nil {
						t.Errorf("%s: next delivery: %v", tt.name, err)
					}
					if got := onlyRun(t, s, run.EventID); got.State != provider.HookRunSucceeded {
						t.Errorf("%s: run after the next delivery: %+v, want succeeded", tt.name, got)
					}
				}
			}
		})
	}
}

// The same through a running River client: with a JobTimeout shorter than
// the hook takes, the run still reaches FAILED after MaxAttempts.
func TestJobTimeoutEndsInFailedRun(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			if err := gormstore.Migrate(context.Background(), db); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			opts := testOptions()
			opts.JobTimeout = 300 * time.Millisecond
			s, err := gormstore.New(db, opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			waits := dispatcherFunc(func(ctx context.Context, _ provider.HookRun, _ provider.HookEvent) error {
				<-ctx.Done()
				return ctx.Err()
			})
			if err := s.StartHooks(context.Background(), waits, slowPolicy(2)); err != nil {
				t.Fatalf("StartHooks: %v", err)
			}
			t.Cleanup(func() { stopHooks(t, s) })
			run := enqueueRun(t, s, "timeout")
			got := waitRuns(t, s, run.EventID, 1, provider.HookRunFailed)[0]
			if got.Attempts != 2 {
				t.Errorf("run %+v, want failed after 2 attempts", got)
			}
		})
	}
}
