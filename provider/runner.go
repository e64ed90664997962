package provider

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"
)

// Defaults of the hook runner, used for zero [ServiceOptions] fields.
const (
	// DefaultHookWorkers is how many hooks one process runs at once.
	DefaultHookWorkers = 16
	// DefaultHookLease is how long a claimed run belongs to the process
	// that claimed it without a renewal. The runner renews it every third
	// of its length while the hook runs, so a hook may run longer; if the
	// process dies, another one (or the restarted one) takes the run over
	// within about this long plus one poll interval.
	DefaultHookLease = 15 * time.Second
	// DefaultHookPollInterval is how often the runner looks for runs that
	// it was not woken for: runs queued by other replicas, retries coming
	// due, and runs whose process died.
	DefaultHookPollInterval = time.Second
	// hookBatchWindow is the least time between two claims (and two
	// recordings of outcomes) of a runner that is woken again and again:
	// runs queued within it are claimed, and their outcomes recorded,
	// together, one database commit per batch instead of two per hook. It
	// adds at most this much to a hook's start.
	hookBatchWindow = 10 * time.Millisecond
)

// bookkeepingTimeout bounds each of the runner's own queue calls.
const bookkeepingTimeout = 30 * time.Second

var (
	errHookTimeout = errors.New("hook attempt timed out")
	errStopping    = errors.New("hook runner stopping")
)

// hookRunner claims due hook runs from the queue, runs them with the
// service's hooks under the policy, and records their outcomes. It holds
// every hook rule: attempts, backoff with jitter, timeouts, panics, leases,
// and which runs this process can run at all (only those of hooks it has
// registered: a run of a hook only a newer replica knows waits for one).
type hookRunner struct {
	s       *Service
	queue   HookQueue
	reader  Reader // the queue's, nil when it cannot be read
	policy  HookPolicy
	workers int
	lease   time.Duration
	poll    time.Duration
	wakeCh  chan struct{}

	mu       sync.Mutex
	stopping chan struct{}      // closed by stop: claim no more
	hard     context.CancelFunc // cancels running hooks with errStopping
	done     chan struct{}      // closed when every goroutine has ended
	inflight map[int64]string   // run id -> lease token, until recorded
	handed   []ClaimedHookRun   // runs this process inserted leased, for the loop
}

func newHookRunner(s *Service, q HookQueue, opts ServiceOptions) *hookRunner {
	r := &hookRunner{
		s: s, queue: q, policy: opts.HookPolicy.WithDefaults(),
		workers: opts.HookWorkers, lease: opts.HookLease, poll: opts.HookPollInterval,
		wakeCh: make(chan struct{}, 1),
	}
	r.reader, _ = q.(Reader)
	if r.workers <= 0 {
		r.workers = DefaultHookWorkers
	}
	if r.lease <= 0 {
		r.lease = DefaultHookLease
	}
	if r.poll <= 0 {
		r.poll = DefaultHookPollInterval
	}
	return r
}

// wake tells the runner that runs were queued. It never blocks; a nil
// runner (no queue) ignores it.
func (r *hookRunner) wake() {
	if r == nil {
		return
	}
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

// start begins running hooks until stop or until ctx is done.
func (r *hookRunner) start(ctx context.Context) error {
	const op = "provider.Service.Start"
	if r == nil {
		return Errorf(CodeFailedPrecondition, op, "the store is not a HookQueue and no HookQueue was given")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil {
		return Errorf(CodeFailedPrecondition, op, "hooks already started")
	}
	hookCtx, hard := context.WithCancelCause(context.WithoutCancel(ctx))
	r.stopping, r.hard, r.done = make(chan struct{}), func() { hard(errStopping) }, make(chan struct{})
	r.inflight = make(map[int64]string)
	go r.loop(ctx, hookCtx, r.stopping, r.done)
	r.wake()
	return nil
}

// stop stops claiming, waits for running hooks until ctx is done, then
// cancels them (their runs are given back, the attempt not counted) and
// waits for their outcomes to be recorded.
func (r *hookRunner) stop(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	stopping, hard, done := r.stopping, r.hard, r.done
	if done == nil {
		r.mu.Unlock()
		return nil
	}
	select {
	case <-stopping:
	default:
		close(stopping)
	}
	r.mu.Unlock()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		hard()
		<-done
	}
	hard()
	r.mu.Lock()
	r.stopping, r.hard, r.done = nil, nil, nil
	r.mu.Unlock()
	return err
}

// loop claims runs while workers are free and hands them to attempts.
func (r *hookRunner) loop(ctx, hookCtx context.Context, stopping, done chan struct{}) {
	defer close(done)
	var wg sync.WaitGroup
	// Outcomes queue for the recorder without holding a worker: room for
	// many batches, so a slow recording never stalls the hooks.
	results := make(chan HookResult, 64*r.workers)
	finished := make(chan struct{})
	go func() {
		r.record(results)
		close(finished)
	}()
	renewStop := make(chan struct{})
	renewDone := make(chan struct{})
	go r.renew(renewStop, renewDone)

	free := make(chan struct{}, r.workers)
	busy, more := 0, true
	var queue []ClaimedHookRun
	var lastClaim time.Time
	pause := time.NewTimer(time.Hour)
	defer pause.Stop()
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	for {
		// Runs this process applied come leased already: no claim.
		r.mu.Lock()
		queue = append(queue, r.handed...)
		r.handed = r.handed[:0]
		r.mu.Unlock()
		// Start what was claimed on free workers; claim again, a batch of
		// up to four workers' worth, once the batch is used up and at
		// least half the workers are free: a queue under load costs one
		// claim per batch, not one per run. Claimed runs waiting here are
		// under lease and renewed like running ones. Once Stop has begun
		// nothing starts: the stopping case gives the queue back.
		for busy < r.workers && len(queue) > 0 && !closed(stopping) {
			c := queue[0]
			queue = queue[1:]
			busy++
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- r.attempt(hookCtx, stopping, c)
				free <- struct{}{}
			}()
		}
		if more && len(queue) == 0 && busy <= r.workers/2 && !closed(stopping) {
			if wait := hookBatchWindow - time.Since(lastClaim); wait > 0 {
				// Woken again within the window: let the batch grow.
				if !pause.Stop() {
					select {
					case <-pause.C:
					default:
					}
				}
				pause.Reset(wait)
			} else {
				want := 4 * r.workers
				lastClaim = time.Now()
				queue = r.claim(hookCtx, want)
				more = len(queue) == want
				if len(queue) > 0 {
					continue
				}
			}
		}
		select {
		case <-free:
			busy--
		case <-r.wakeCh:
			more = true
		case <-tick.C:
			more = true
		case <-pause.C:
		case <-ctx.Done():
			// Start's ctx is done: stop at once, giving running runs back.
			r.closeOnce(stopping)
			r.mu.Lock()
			if r.hard != nil {
				r.hard()
			}
			r.mu.Unlock()
		case <-stopping:
			wg.Wait()
			// Runs claimed (or handed) but not started go back at once,
			// uncounted, instead of waiting for their leases to lapse.
			r.mu.Lock()
			queue = append(queue, r.handed...)
			r.handed = nil
			r.mu.Unlock()
			for _, c := range queue {
				results <- HookResult{HookLease: HookLease{ID: c.Run.ID, Token: c.Lease}, State: c.Run.State, Release: true}
			}
			close(results)
			<-finished
			close(renewStop)
			<-renewDone
			return
		}
	}
}

// closed reports whether ch is closed.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (r *hookRunner) closeOnce(ch chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// hookNames returns the names of the registered hooks.
func (r *hookRunner) hookNames() []string {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	names := make([]string, len(r.s.hooks))
	for i, h := range r.s.hooks {
		names[i] = h.name
	}
	return names
}

// claim leases up to n due runs of the registered hooks.
func (r *hookRunner) claim(ctx context.Context, n int) []ClaimedHookRun {
	names := r.hookNames()
	if len(names) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, bookkeepingTimeout)
	defer cancel()
	claimed, err := r.queue.ClaimHookRuns(cctx, names, n, r.lease)
	if err != nil {
		if ctx.Err() == nil {
			r.s.log.ErrorContext(ctx, "paylink: claiming hook runs failed", "err", err)
		}
		return nil
	}
	r.mu.Lock()
	for _, c := range claimed {
		r.inflight[c.Run.ID] = c.Lease
	}
	r.mu.Unlock()
	return claimed
}

// renew extends the leases of the runs in flight every third of a lease.
func (r *hookRunner) renew(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(r.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		leases := make([]HookLease, 0, len(r.inflight))
		for id, tok := range r.inflight {
			leases = append(leases, HookLease{ID: id, Token: tok})
		}
		r.mu.Unlock()
		if len(leases) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), bookkeepingTimeout)
		if err := r.queue.ExtendHookLeases(ctx, leases, r.lease); err != nil {
			r.s.log.ErrorContext(ctx, "paylink: renewing hook leases failed", "runs", len(leases), "err", err)
		}
		cancel()
	}
}

// record writes outcomes as they come, in batches: every outcome that
// arrived while the previous batch was being written goes in the next.
func (r *hookRunner) record(results <-chan HookResult) {
	var last time.Time
	for res := range results {
		if wait := hookBatchWindow - time.Since(last); wait > 0 {
			time.Sleep(wait) // let the batch grow
		}
		last = time.Now()
		batch := []HookResult{res}
	drain:
		for len(batch) < 1024 {
			select {
			case more, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		r.finish(batch)
	}
}

// finish records a batch, retrying a failing store a few times. Outcomes
// that cannot be recorded are lost with their leases: the runs are taken
// over when the leases lapse and run again (at least once).
func (r *hookRunner) finish(batch []HookResult) {
	var lost []int64
	var err error
	for try := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), bookkeepingTimeout)
		lost, err = r.queue.FinishHookRuns(ctx, batch)
		cancel()
		if err == nil {
			break
		}
		r.s.log.Error("paylink: recording hook outcomes failed", "runs", len(batch), "try", try+1, "err", err)
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	for _, id := range lost {
		r.s.log.Warn("paylink: a hook run was taken over by another process; this attempt's outcome is dropped", "hook_run", id)
	}
	r.mu.Lock()
	for _, res := range batch {
		if r.inflight[res.ID] == res.Token {
			delete(r.inflight, res.ID)
		}
	}
	r.mu.Unlock()
}

// attempt runs one claimed run and decides its outcome, observed by the
// service's Observer, if any. A run whose attempt would begin after
// stopping is closed is given back unstarted.
func (r *hookRunner) attempt(ctx context.Context, stopping chan struct{}, c ClaimedHookRun) HookResult {
	if r.s.obs == nil {
		return r.try(ctx, stopping, c, nil)
	}
	o := &hookObservation{HookRunObservation: HookRunObservation{
		Hook: c.Run.Hook, Attempt: c.Run.Attempts, Lag: max(r.s.now().Sub(c.Run.NextAt), 0),
	}}
	res := r.try(ctx, stopping, c, o)
	if o.ctx == nil { // failed before the hook could be called
		o.ctx = r.s.obs.StartHookRun(ctx, o.HookRunObservation)
	}
	switch {
	case res.Release:
		o.Outcome = HookOutcomeReleased
	case res.State == HookRunSucceeded:
		o.Outcome = HookOutcomeSucceeded
	case res.State == HookRunRetrying:
		o.Outcome = HookOutcomeRetrying
	default:
		o.Outcome = HookOutcomeFailed
	}
	r.s.obs.EndHookRun(o.ctx, o.HookRunObservation)
	return res
}

// hookObservation is an attempt as the Observer is told about it, and the
// context StartHookRun returned (nil until it is called).
type hookObservation struct {
	HookRunObservation
	ctx context.Context
}

// try runs one claimed run and decides its outcome; o, when not nil, is
// started just before the hook is called, and told how it went.
func (r *hookRunner) try(ctx context.Context, stopping chan struct{}, c ClaimedHookRun, o *hookObservation) HookResult {
	run := c.Run
	res := HookResult{HookLease: HookLease{ID: run.ID, Token: c.Lease}}
	// The run's logger is made only when there is something to log.
	logger := func() *slog.Logger {
		return r.s.log.With("hook", run.Hook, "hook_run", run.ID, "event", run.EventID, "attempt", run.Attempts)
	}
	fail := func(msg string) HookResult {
		log := logger()
		log.ErrorContext(ctx, "paylink: hook run failed for good", "err", msg)
		res.State, res.Error = HookRunFailed, msg
		return res
	}
	if closed(stopping) {
		// Stop began since the claim: give the run back, uncounted.
		res.State, res.Release = run.State, true
		return res
	}
	if run.Attempts > r.policy.MaxAttempts {
		return fail(fmt.Sprintf("attempt %d of %d did not finish: the process running it stopped", run.Attempts-1, r.policy.MaxAttempts))
	}
	if len(c.Event) == 0 {
		return fail("the run's event is missing from the store")
	}
	var ev HookEvent
	if err := json.Unmarshal(c.Event, &ev); err != nil {
		return fail("the run's event cannot be decoded: " + err.Error())
	}
	if ev.ID != run.EventID {
		return fail(fmt.Sprintf("the run's event is %q, not %q", ev.ID, run.EventID))
	}
	call := r.s.hookCall(run.Hook)
	if call == nil {
		// Unregistered since the claim: give the run back, uncounted.
		res.State, res.Release = run.State, true
		return res
	}
	ev.Hook, ev.IdempotencyKey, ev.Attempt = run.Hook, run.IdempotencyKey, run.Attempts
	if o != nil {
		o.Trace = ev.Trace
		ctx = r.s.obs.StartHookRun(ctx, o.HookRunObservation)
		o.ctx = ctx
	}
	err := r.call(ctx, call, &ev, logger, o)
	switch {
	case err == nil:
		res.State = HookRunSucceeded
	case errors.Is(context.Cause(ctx), errStopping):
		res.State, res.Release, res.Error = run.State, true, err.Error()
	case run.Attempts >= r.policy.MaxAttempts:
		return fail(err.Error())
	default:
		wait := max(r.policy.Backoff(run.Attempts), 0)
		if wait > 0 {
			wait += rand.N(wait/10 + 1)
		}
		res.State, res.Delay, res.Error = HookRunRetrying, wait, err.Error()
		logger().WarnContext(ctx, "paylink: hook failed; will retry", "err", err, "retry_in", wait)
	}
	return res
}

// call runs one hook under the policy's timeout; a panic becomes an error.
// o, when not nil, is told the hook's duration and whether it panicked.
func (r *hookRunner) call(ctx context.Context, call func(context.Context, *HookEvent) error, ev *HookEvent, logger func() *slog.Logger, o *hookObservation) (err error) {
	actx, cancel := context.WithTimeoutCause(ctx, r.policy.Timeout, errHookTimeout)
	defer cancel()
	if o != nil {
		start := r.s.now()
		defer func() { o.Duration = r.s.now().Sub(start) }()
	}
	defer func() {
		if p := recover(); p != nil {
			if o != nil {
				o.Panicked = true
			}
			logger().ErrorContext(ctx, "paylink: hook panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = Errorf(CodeInternal, "provider.hook", "hook %q panicked: %v", ev.Hook, p)
		}
	}()
	err = call(actx, ev)
	if err != nil && errors.Is(context.Cause(actx), errHookTimeout) {
		err = fmt.Errorf("%w after %s: %w", errHookTimeout, r.policy.Timeout, err)
	}
	return err
}

// offer returns a fresh lease token and its duration when this process
// can run the hook runs of an event it is about to apply at once: the
// runner is started, not stopping, and not already holding four batches
// of handed runs. Apply then inserts the runs leased to it ([ApplyWrite]
// HookLease), and [hookRunner.adopt] takes them without a claim. It
// returns "" otherwise: the runs are queued unleased, for any process to
// claim.
func (r *hookRunner) offer() (string, time.Duration) {
	if r == nil {
		return "", 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil || closed(r.stopping) || len(r.handed) >= 4*r.workers {
		return "", 0
	}
	return crand.Text(), r.lease
}

// adopt takes the runs w inserted leased to this process and hands them
// to the loop, under lease and renewed like claimed ones. Should Stop have
// begun meanwhile, they are given back at once, their attempt uncounted.
func (r *hookRunner) adopt(w *ApplyWrite, now time.Time) {
	var runs []ClaimedHookRun
	for _, nr := range w.HookRuns {
		if nr.ID == 0 {
			continue // the run existed: its own lease holds it
		}
		runs = append(runs, ClaimedHookRun{Lease: w.HookLease, Event: w.Event, Run: HookRun{
			ID: nr.ID, EventID: nr.EventID, Provider: nr.Provider, PaymentID: nr.PaymentID, Hook: nr.Hook,
			State: HookRunPending, Attempts: 1, IdempotencyKey: nr.IdempotencyKey, NextAt: now, CreatedAt: now, UpdatedAt: now,
		}})
	}
	if len(runs) == 0 {
		return
	}
	r.mu.Lock()
	if r.done == nil || closed(r.stopping) {
		r.mu.Unlock()
		back := make([]HookResult, len(runs))
		for i, c := range runs {
			back[i] = HookResult{HookLease: HookLease{ID: c.Run.ID, Token: c.Lease}, State: HookRunPending, Release: true}
		}
		ctx, cancel := context.WithTimeout(context.Background(), bookkeepingTimeout)
		defer cancel()
		if _, err := r.queue.FinishHookRuns(ctx, back); err != nil {
			r.s.log.ErrorContext(ctx, "paylink: giving back hook runs failed; their leases lapse", "runs", len(back), "err", err)
		}
		return
	}
	for _, c := range runs {
		r.inflight[c.Run.ID] = c.Lease
	}
	r.handed = append(r.handed, runs...)
	r.mu.Unlock()
	r.wake()
}
