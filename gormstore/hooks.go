package gormstore

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// hookArgs is the River job for one hook run: only the run's id, so the
// job row holds no payment data and the run row stays the single truth.
type hookArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job kind in River's tables.
func (hookArgs) Kind() string { return "paylink_hook_run" }

// jobParams returns the insert parameters for run id.
func (s *Store) jobParams(runID int64) river.InsertManyParams {
	return river.InsertManyParams{
		Args:       hookArgs{RunID: runID},
		InsertOpts: &river.InsertOpts{Queue: s.opts.Queue, MaxAttempts: riverMaxAttempts},
	}
}

// hookEngine is the running River client of a Store, if any.
type hookEngine struct {
	mu     sync.Mutex
	client *river.Client[*sql.Tx]
	done   chan struct{} // closed once the client stopped and the listener pool closed
}

// bookkeepingTimeout bounds the store's own writes around one attempt.
const bookkeepingTimeout = 30 * time.Second

// StartHooks builds and starts a River client that delivers hook runs to d
// until StopHooks or until ctx is done. Runs enqueued earlier, by this or
// any other process, are delivered too. On PostgreSQL the client listens
// for new jobs (see Options.ListenerDSN); on SQLite it polls River's
// notification table.
//
// For each job the worker loads the run and its event and returns at once
// if the run already succeeded, so a re-delivered job never calls a hook
// twice. It then leases the run, calls d.DispatchHook under policy.Timeout
// (a panic counts as a failed attempt) and records the outcome: succeeded,
// retrying (River retries after policy.Backoff plus up to 10% jitter) or,
// after policy.MaxAttempts, failed.
func (s *Store) StartHooks(ctx context.Context, d provider.HookDispatcher, policy provider.HookPolicy) error {
	const op = "gormstore.StartHooks"
	if d == nil {
		return provider.Errorf(provider.CodeInvalidArgument, op, "nil dispatcher")
	}
	policy = policy.WithDefaults()
	e := s.hooks
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		return provider.Errorf(provider.CodeFailedPrecondition, op, "hooks already started")
	}

	jobTimeout := s.opts.JobTimeout
	if jobTimeout <= 0 {
		jobTimeout = policy.Timeout + DefaultJobTimeoutGrace
	}
	rescueAfter := s.opts.RescueStuckJobsAfter
	if rescueAfter <= 0 {
		rescueAfter = jobTimeout + DefaultRescueGrace
	}
	if rescueAfter <= jobTimeout {
		return provider.Errorf(provider.CodeInvalidArgument, op,
			"RescueStuckJobsAfter (%s) must exceed the job timeout (%s)", rescueAfter, jobTimeout)
	}

	sqlDB, err := s.db.DB()
	if err != nil {
		return provider.Errorf(provider.CodeInternal, op, "gorm has no *sql.DB: %w", err)
	}
	driver := s.dialect.riverDriver(sqlDB)
	var pool *pgxpool.Pool
	if s.dialect == dialectPostgres {
		if dsn := cmp.Or(s.opts.ListenerDSN, postgresDSN(s.db)); dsn != "" {
			pool, err = newListenerPool(ctx, dsn)
			if err != nil {
				return s.wrap("StartHooks", err)
			}
			driver = riverdatabasesql.NewWithPgxListener(sqlDB, pool)
		} else {
			s.opts.Logger.WarnContext(ctx, "gormstore: no PostgreSQL DSN for LISTEN; River polls for hook jobs",
				slog.Duration("poll_interval", s.opts.FetchPollInterval))
		}
	}
	closePool := func() {
		if pool != nil {
			pool.Close()
		}
	}

	workers := river.NewWorkers()
	w := &hookWorker{s: s, d: d, policy: policy, lease: jobTimeout}
	if err := river.AddWorkerSafely(workers, w); err != nil {
		closePool()
		return provider.Errorf(provider.CodeInternal, op, "register worker: %w", err)
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger:               s.opts.Logger,
		Queues:               map[string]river.QueueConfig{s.opts.Queue: {MaxWorkers: s.opts.MaxWorkers}},
		Workers:              workers,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: rescueAfter,
		FetchCooldown:        s.opts.FetchCooldown,
		FetchPollInterval:    s.opts.FetchPollInterval,
		MaxAttempts:          riverMaxAttempts,
	})
	if err != nil {
		closePool()
		return provider.Errorf(provider.CodeInternal, op, "river client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		closePool()
		return s.wrap("StartHooks", err)
	}
	done := make(chan struct{})
	go func() {
		<-client.Stopped()
		closePool()
		close(done)
	}()
	e.client, e.done = client, done
	s.opts.Logger.InfoContext(ctx, "gormstore: hooks started",
		slog.String("queue", s.opts.Queue), slog.Int("max_workers", s.opts.MaxWorkers),
		slog.Bool("listen", pool != nil))
	return nil
}

// newListenerPool opens the small pgx pool River takes its LISTEN
// connection from.
func newListenerPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN; keep it out of the message.
		return nil, provider.Errorf(provider.CodeInvalidArgument, "gormstore.StartHooks", "invalid PostgreSQL DSN for the listener")
	}
	cfg.MaxConns = 2
	return pgxpool.NewWithConfig(ctx, cfg)
}

// StopHooks stops delivery: no new job starts, and running hooks may finish
// until ctx is done, when their contexts are cancelled (the runs are then
// picked up again by the next client). Calling it when hooks are not
// running does nothing.
func (s *Store) StopHooks(ctx context.Context) error {
	e := s.hooks
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client == nil {
		return nil
	}
	client, done := e.client, e.done
	err := client.Stop(ctx)
	if err != nil {
		// Out of patience: cancel running hooks and wait for them briefly.
		hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
		defer cancel()
		if hardErr := client.StopAndCancel(hardCtx); hardErr != nil {
			return s.wrap("StopHooks", hardErr)
		}
	}
	<-done
	e.client, e.done = nil, nil
	if err != nil {
		return s.wrap("StopHooks", err)
	}
	return nil
}

// ListHookRuns returns hook runs, oldest first.
func (s *Store) ListHookRuns(ctx context.Context, f provider.HookRunFilter) ([]provider.HookRun, error) {
	q := s.conn(ctx).Order("id")
	if f.EventID != "" {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.Hook != "" {
		q = q.Where("hook = ?", f.Hook)
	}
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var recs []HookRunRecord
	if err := q.Find(&recs).Error; err != nil {
		return nil, s.wrap("ListHookRuns", err)
	}
	out := make([]provider.HookRun, len(recs))
	for i := range recs {
		out[i] = hookRunFromRecord(&recs[i])
	}
	return out, nil
}

// RetryHookRun puts a FAILED run back in the queue: state pending, attempts
// 0, and a new River job inserted in the same transaction. A run in any
// other state is CodeFailedPrecondition; an unknown id is CodeNotFound.
func (s *Store) RetryHookRun(ctx context.Context, id int64) error {
	const op = "RetryHookRun"
	return s.InTx(ctx, func(ctx context.Context, ptx provider.Tx) error {
		tx := ptx.(*storeTx)
		db := tx.conn(ctx)
		res := db.Model(&HookRunRecord{}).
			Where("id = ? AND state = ?", id, string(provider.HookRunFailed)).
			Updates(map[string]any{
				"state": string(provider.HookRunPending), "attempts": 0, "last_error": "",
				"lease_until": nil, "updated_at": now(),
			})
		if res.Error != nil {
			return s.wrap(op, res.Error)
		}
		if res.RowsAffected == 0 {
			var rec HookRunRecord
			found := db.Where("id = ?", id).Limit(1).Find(&rec)
			switch {
			case found.Error != nil:
				return s.wrap(op, found.Error)
			case found.RowsAffected == 0:
				return notFound(op, "hook run")
			}
			return provider.Errorf(provider.CodeFailedPrecondition, "gormstore."+op,
				"hook run %d is %s; only failed runs can be retried", id, rec.State)
		}
		sqlTx, ok := sqlTxOf(tx.db)
		if !ok {
			return provider.Errorf(provider.CodeInternal, "gormstore."+op, "no *sql.Tx inside the GORM transaction")
		}
		if _, err := s.inserter.InsertManyTx(ctx, sqlTx, []river.InsertManyParams{s.jobParams(id)}); err != nil {
			return s.wrap(op, err)
		}
		if err := s.notifyInsert(ctx, sqlTx); err != nil {
			return s.wrap(op, err)
		}
		return nil
	})
}

// hookWorker is the River worker that runs hook runs.
type hookWorker struct {
	river.WorkerDefaults[hookArgs]
	s      *Store
	d      provider.HookDispatcher
	policy provider.HookPolicy
	lease  time.Duration // how long a started attempt owns its run
	// bookkeeping bounds each of the store's own writes around an attempt;
	// zero means bookkeepingTimeout.
	bookkeeping time.Duration
}

// bookkeepingCtx returns a context for the store's own writes about a job:
// it outlives ctx (a hook that times out or a client that stops must still
// get its attempt recorded) and is bounded by the bookkeeping timeout.
func (w *hookWorker) bookkeepingCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(w.bookkeeping, bookkeepingTimeout))
}

// NextRetry waits policy.Backoff(attempt) plus up to 10% jitter.
func (w *hookWorker) NextRetry(job *river.Job[hookArgs]) time.Time {
	wait := max(w.policy.Backoff(max(job.Attempt, 1)), 0)
	if wait > 0 {
		wait += rand.N(wait/10 + 1)
	}
	return time.Now().Add(wait)
}

// Work runs one attempt of one hook run.
func (w *hookWorker) Work(ctx context.Context, job *river.Job[hookArgs]) error {
	s := w.s
	log := s.opts.Logger.With(slog.Int64("hook_run", job.Args.RunID), slog.Int64("job", job.ID))
	bctx, cancel := w.bookkeepingCtx(ctx)
	defer cancel()

	run, ev, token, claimed, err := w.claim(bctx, job.Args.RunID)
	if err != nil {
		return err // River retries: the database may be back by then
	}
	if !claimed {
		return w.notClaimed(bctx, log, job.Args.RunID)
	}

	ev.Hook, ev.IdempotencyKey, ev.Attempt = run.Hook, run.IdempotencyKey, run.Attempts+1
	stopRenewing := w.keepLease(log, run.ID, token)
	hookErr := w.dispatch(ctx, run, ev)
	stopRenewing()

	// The attempt may have taken longer than one bookkeeping timeout:
	// record its outcome under a fresh one.
	bctx, cancel = w.bookkeepingCtx(ctx)
	defer cancel()
	if hookErr != nil && errors.Is(ctx.Err(), context.Canceled) && !errors.Is(hookErr, errHookTimeout) {
		// The client is stopping: give the run back without counting the
		// attempt. (River's job timeout is a deadline, not a cancellation:
		// that attempt counts, or a hook slower than JobTimeout would be
		// retried forever without ever being marked failed.)
		if err := w.release(bctx, run.ID, token); err != nil {
			log.ErrorContext(bctx, "gormstore: releasing interrupted hook run", slog.String("error", err.Error()))
		}
		return ctx.Err()
	}
	final, owned, err := w.record(bctx, run, token, hookErr)
	if err != nil {
		log.ErrorContext(bctx, "gormstore: recording hook result", slog.String("hook", run.Hook), slog.String("error", err.Error()))
		return err
	}
	switch {
	case !owned:
		// The lease lapsed (the database was unreachable for longer than it)
		// and another job took the run over: its outcome is the one that
		// counts, and this job has nothing left to do.
		log.WarnContext(bctx, "gormstore: hook run was taken over by another job; this attempt's outcome is dropped",
			slog.String("hook", run.Hook), slog.Bool("hook_succeeded", hookErr == nil))
		return nil
	case hookErr == nil:
		return nil
	case final:
		log.WarnContext(bctx, "gormstore: hook run failed for good",
			slog.String("hook", run.Hook), slog.Int("attempts", run.Attempts+1), slog.String("error", hookErr.Error()))
		return river.JobCancel(hookErr)
	}
	return hookErr
}

// errHookTimeout marks an attempt that ran out of policy.Timeout.
var errHookTimeout = errors.New("hook attempt timed out")

// dispatch calls the dispatcher under policy.Timeout, turning a panic into
// an error.
func (w *hookWorker) dispatch(ctx context.Context, run provider.HookRun, ev provider.HookEvent) (err error) {
	actx, cancel := context.WithTimeoutCause(ctx, w.policy.Timeout, errHookTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			w.s.opts.Logger.ErrorContext(ctx, "gormstore: hook panicked",
				slog.String("hook", run.Hook), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("hook %s panicked: %v", run.Hook, p)
		}
	}()
	err = w.d.DispatchHook(actx, run, ev)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errHookTimeout) {
		err = fmt.Errorf("%w after %s: %w", errHookTimeout, w.policy.Timeout, err)
	}
	return err
}

// activeStates are the run states a worker may lease.
var activeStates = []string{string(provider.HookRunPending), string(provider.HookRunRetrying)}

// claim leases the run if it is pending or retrying and not leased by a
// live attempt, and loads its event. The lease is identified by a fresh
// random token: only its holder may renew it or record the attempt.
func (w *hookWorker) claim(ctx context.Context, runID int64) (run provider.HookRun, ev provider.HookEvent, token string, claimed bool, err error) {
	s := w.s
	stamp := now()
	until := stamp.Add(w.lease)
	token = crand.Text()
	res := s.db.WithContext(ctx).Model(&HookRunRecord{}).
		Where("id = ? AND state IN ? AND (lease_until IS NULL OR lease_until < ?)", runID, activeStates, stamp).
		Updates(map[string]any{"lease_until": until, "lease_token": token, "updated_at": stamp})
	if res.Error != nil {
		return run, ev, "", false, s.wrap("hook.claim", res.Error)
	}
	if res.RowsAffected == 0 {
		return run, ev, "", false, nil
	}
	var rec HookRunRecord
	if err := s.db.WithContext(ctx).Where("id = ?", runID).Take(&rec).Error; err != nil {
		return run, ev, "", false, s.wrap("hook.claim", err)
	}
	var evRec EventRecord
	found := s.db.WithContext(ctx).Where("event_id = ?", rec.EventID).Limit(1).Find(&evRec)
	if found.Error != nil {
		_ = w.release(ctx, runID, token)
		return run, ev, "", false, s.wrap("hook.claim", found.Error)
	}
	run = hookRunFromRecord(&rec)
	if found.RowsAffected == 0 || len(evRec.Payload) == 0 {
		return run, ev, token, true, nil // the hook still runs, with what the run knows
	}
	if err := json.Unmarshal(evRec.Payload, &ev); err != nil {
		return run, provider.HookEvent{}, token, true, nil
	}
	if ev.ID == "" {
		ev.ID = rec.EventID
	}
	return run, ev, token, true, nil
}

// keepLease renews the lease every third of its length until the returned
// function is called (which waits for a renewal in flight). A hook that
// outlives the lease, one that ignores its context say, thus keeps its run:
// a second job for it (River rescues jobs running longer than
// RescueStuckJobsAfter) snoozes instead of running the hook beside it. If
// this process dies the renewals stop and the lease lapses as before.
func (w *hookWorker) keepLease(log *slog.Logger, runID int64, token string) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(max(w.lease/3, time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			ctx, cancel := w.bookkeepingCtx(context.Background())
			err := w.s.db.WithContext(ctx).Model(&HookRunRecord{}).
				Where("id = ? AND lease_token = ?", runID, token).
				Update("lease_until", now().Add(w.lease)).Error
			cancel()
			if err != nil {
				log.WarnContext(ctx, "gormstore: renewing a hook run's lease", slog.String("error", err.Error()))
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// notClaimed decides what to do with a job whose run could not be leased.
func (w *hookWorker) notClaimed(ctx context.Context, log *slog.Logger, runID int64) error {
	var rec HookRunRecord
	res := w.s.db.WithContext(ctx).Where("id = ?", runID).Limit(1).Find(&rec)
	switch {
	case res.Error != nil:
		return w.s.wrap("hook.claim", res.Error)
	case res.RowsAffected == 0:
		log.WarnContext(ctx, "gormstore: job for a hook run that does not exist")
		return river.JobCancel(notFound("hook.claim", "hook run"))
	}
	switch provider.HookRunState(rec.State) {
	case provider.HookRunSucceeded, provider.HookRunFailed:
		// Already done (a re-delivered job) or given up (RetryHookRun will
		// insert a new job): nothing to run.
		return nil
	}
	// Another worker holds the lease: look again once it has expired.
	wait := time.Second
	if rec.LeaseUntil != nil {
		wait = max(time.Until(*rec.LeaseUntil)+time.Second, time.Second)
	}
	return river.JobSnooze(wait)
}

// release drops the lease the worker holds with token without counting an
// attempt.
func (w *hookWorker) release(ctx context.Context, runID int64, token string) error {
	return w.s.db.WithContext(ctx).Model(&HookRunRecord{}).Where("id = ? AND lease_token = ?", runID, token).
		Updates(map[string]any{"lease_until": gorm.Expr("NULL"), "lease_token": "", "updated_at": now()}).Error
}

// record stores the outcome of one attempt and reports whether the run is
// now final-failed. It writes only while the run is still active and
// leased with token; owned is false when it was not (another job took the
// run over after the lease lapsed), and then nothing is written.
func (w *hookWorker) record(ctx context.Context, run provider.HookRun, token string, hookErr error) (final, owned bool, err error) {
	attempts := run.Attempts + 1
	state, lastErr := provider.HookRunSucceeded, ""
	if hookErr != nil {
		state, lastErr = provider.HookRunRetrying, truncate(hookErr.Error(), 2000)
		if attempts >= w.policy.MaxAttempts {
			state, final = provider.HookRunFailed, true
		}
	}
	res := w.s.db.WithContext(ctx).Model(&HookRunRecord{}).
		Where("id = ? AND lease_token = ? AND state IN ?", run.ID, token, activeStates).
		Updates(map[string]any{
			"state": string(state), "attempts": attempts, "last_error": lastErr,
			"lease_until": gorm.Expr("NULL"), "lease_token": "", "updated_at": now(),
		})
	if res.Error != nil {
		return false, false, w.s.wrap("hook.record", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, false, nil
	}
	return final, true, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
