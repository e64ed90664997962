package gormstore

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/paylinkgo/paylink/provider"
)

// WorkHookJob runs one delivery of the River job for hook run runID
// exactly as a started store's worker would, with the given lease and
// bookkeeping timeout (zero: the defaults). ctx plays the job's context:
// give it a deadline to play River's JobTimeout, cancel it to play a
// stopping client. Tests use it to drive the worker deterministically,
// including a second delivery of a job whose first one is still running.
func WorkHookJob(ctx context.Context, s *Store, d provider.HookDispatcher, policy provider.HookPolicy, lease, bookkeeping time.Duration, runID int64) error {
	policy = policy.WithDefaults()
	if lease <= 0 {
		lease = policy.Timeout + DefaultJobTimeoutGrace
	}
	w := &hookWorker{s: s, d: d, policy: policy, lease: lease, bookkeeping: bookkeeping}
	return w.Work(ctx, &river.Job[hookArgs]{JobRow: &rivertype.JobRow{ID: runID, Attempt: 1}, Args: hookArgs{RunID: runID}})
}
