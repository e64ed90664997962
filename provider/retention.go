package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultPruneBatch is how many rows of each kind one [Store.Prune] call
// removes unless ServiceOptions.PruneBatch says otherwise.
const DefaultPruneBatch = 5000

// prune removes the raw callbacks, succeeded hook runs and event payloads
// older than olderThan (see [Pruner]), in batches of
// ServiceOptions.PruneBatch rows of each kind, each its own short write,
// until a batch comes back short or ctx ends. The ledger, the event claims
// and failed hook runs are kept, and so are the callbacks operators work
// from ([Verdict.KeptForOperators]): forever, or for
// ServiceOptions.FlaggedRetention when that is set. Safe to run beside
// callbacks and on several replicas at once. On error, the report counts
// what the batches before it removed. [Service.Reconcile] calls it after
// each pass when ServiceOptions.Retention is set.
func (s *Service) prune(ctx context.Context, olderThan time.Duration) (PruneReport, error) {
	if olderThan <= 0 {
		return PruneReport{}, Errorf(CodeInvalidArgument, "provider.Service.Reconcile", "olderThan must be positive")
	}
	now := s.now()
	q := PruneQuery{Before: now.Add(-olderThan), Keep: keptVerdicts(), Limit: s.pruneMax}
	if s.keptFor > 0 {
		q.KeptBefore = now.Add(-s.keptFor)
	}
	pr, ok := s.store.(Pruner)
	if !ok {
		return PruneReport{}, &Error{Code: CodeUnimplemented, Op: "provider.Service.Reconcile", Message: "the store is not a provider.Pruner", Err: errors.ErrUnsupported}
	}
	var total PruneReport
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("pruning: %w", err)
		}
		rep, err := pr.Prune(ctx, q)
		total = total.Add(rep)
		if err != nil {
			return total, fmt.Errorf("pruning: %w", err)
		}
		if !rep.full(s.pruneMax) {
			return total, nil
		}
	}
}
