package gormstore

import (
	"context"
	"fmt"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// The statements Prune runs, one bounded batch each. Each picks at most
// limit rows through an index on its time column, oldest first, and then
// deletes or updates exactly those rows by primary key, so it never scans
// or locks more than the batch. On PostgreSQL the picked rows are locked
// with SKIP LOCKED: two replicas pruning at once take different rows, and
// neither waits for the other or for a callback's transaction.
const (
	pruneCallbacksSQL = `DELETE FROM paylink_callbacks WHERE id IN (SELECT id FROM paylink_callbacks
 WHERE received_at < $1 ORDER BY received_at LIMIT $2%s)`
	pruneHookRunsSQL = `DELETE FROM paylink_hook_runs WHERE id IN (SELECT id FROM paylink_hook_runs
 WHERE state = 'succeeded' AND updated_at < $1 ORDER BY updated_at LIMIT $2%s)`
	// An event's payload goes once none of its runs may still need it:
	// pending, retrying and failed runs (a failed one may be retried) keep it.
	pruneEventsSQL = `UPDATE paylink_events SET payload = NULL WHERE id IN (SELECT e.id FROM paylink_events e
 WHERE e.payload IS NOT NULL AND e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM paylink_hook_runs r
 WHERE r.event_id = e.event_id AND r.state <> 'succeeded') ORDER BY e.created_at LIMIT $2%s)`
)

// Prune removes, in one bounded batch of each kind, the callbacks received
// before before, the succeeded hook runs last updated before it, and the
// payloads of finished events stored before it (see provider.Store). The
// three statements run one after another, each its own short transaction
// (or in the caller's, see ContextWithTx); on error the report counts what
// the statements before it removed.
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (provider.PruneReport, error) {
	const op = "Prune"
	var rep provider.PruneReport
	if limit < 1 {
		return rep, provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "limit must be at least 1")
	}
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	before = utc(before)
	db := s.querier(ctx)
	for _, step := range []struct {
		query string
		n     *int
	}{
		{pruneHookRunsSQL, &rep.HookRuns},
		{pruneEventsSQL, &rep.EventPayloads},
		{pruneCallbacksSQL, &rep.Callbacks},
	} {
		query, args := rebind(s.dialect, fmt.Sprintf(step.query, lock), []any{before, limit})
		res, err := db.ExecContext(ctx, query, args...)
		if err != nil {
			return rep, s.wrap(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return rep, s.wrap(op, err)
		}
		*step.n = int(n)
	}
	return rep, nil
}
