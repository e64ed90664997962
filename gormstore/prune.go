package gormstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// The statements Prune runs, one bounded batch each. Each picks at most
// limit rows through an index on its time column, oldest first, and then
// deletes or updates exactly those rows by primary key, so it never scans
// or locks more than the batch. On PostgreSQL the picked rows are locked
// with SKIP LOCKED: two replicas pruning at once take different rows, and
// neither waits for the other or for a callback's transaction.
//
// Callbacks are two statements: those whose verdict is not kept, through
// paylink_callbacks_received_at, and those whose verdict is (all of them
// flagged), through the partial index paylink_callbacks_flagged. The kept
// verdicts are written into the statement as literals (a handful of short
// constants), not bound, so that the planner can prove that the second
// statement only asks for flagged rows and use the partial index also
// with a generic plan.
const (
	pruneCallbacksSQL = `DELETE FROM paylink_callbacks WHERE id IN (SELECT id FROM paylink_callbacks
 WHERE received_at < $1%s ORDER BY received_at LIMIT $2%s)`
	pruneHookRunsSQL = `DELETE FROM paylink_hook_runs WHERE id IN (SELECT id FROM paylink_hook_runs
 WHERE state = 'succeeded' AND updated_at < $1 ORDER BY updated_at LIMIT $2%s)`
	// An event's payload goes once none of its runs may still need it:
	// pending, retrying and failed runs (a failed one may be retried) keep it.
	pruneEventsSQL = `UPDATE paylink_events SET payload = NULL WHERE id IN (SELECT e.id FROM paylink_events e
 WHERE e.payload IS NOT NULL AND e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM paylink_hook_runs r
 WHERE r.event_id = e.event_id AND r.state <> 'succeeded') ORDER BY e.created_at LIMIT $2%s)`
)

// Prune removes, in one bounded batch of each kind, the callbacks received
// before q.Before (before q.KeptBefore for a verdict in q.Keep, and none
// of those when it is zero), the succeeded hook runs last updated before
// q.Before, and the payloads of finished events stored before it (see
// provider.Store). The statements run one after another, each its own
// short transaction; on error the
// report counts what the statements before it removed.
func (s *Store) Prune(ctx context.Context, q provider.PruneQuery) (provider.PruneReport, error) {
	const op = "Prune"
	var rep provider.PruneReport
	if q.Limit < 1 {
		return rep, provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "limit must be at least 1")
	}
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	db := s.querier(ctx)
	run := func(n *int, query string, before time.Time, limit int) error {
		query, args := rebind(s.dialect, query, []any{utc(before), limit})
		res, err := db.ExecContext(ctx, query, args...)
		if err != nil {
			return s.wrap(op, err)
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return s.wrap(op, err)
		}
		*n += int(affected)
		return nil
	}
	if err := run(&rep.HookRuns, fmt.Sprintf(pruneHookRunsSQL, lock), q.Before, q.Limit); err != nil {
		return rep, err
	}
	if err := run(&rep.EventPayloads, fmt.Sprintf(pruneEventsSQL, lock), q.Before, q.Limit); err != nil {
		return rep, err
	}
	if len(q.Keep) == 0 {
		return rep, run(&rep.Callbacks, fmt.Sprintf(pruneCallbacksSQL, "", lock), q.Before, q.Limit)
	}
	kept := verdictList(q.Keep)
	if err := run(&rep.Callbacks, fmt.Sprintf(pruneCallbacksSQL, " AND verdict NOT IN ("+kept+")", lock), q.Before, q.Limit); err != nil {
		return rep, err
	}
	if q.KeptBefore.IsZero() || rep.Callbacks >= q.Limit {
		return rep, nil
	}
	return rep, run(&rep.Callbacks, fmt.Sprintf(pruneCallbacksSQL, " AND verdict IN ("+kept+")", lock), q.KeptBefore, q.Limit-rep.Callbacks)
}

// verdictList returns vs as a list of SQL string literals.
func verdictList(vs []provider.Verdict) string {
	lits := make([]string, len(vs))
	for i, v := range vs {
		lits[i] = "'" + strings.ReplaceAll(string(v), "'", "''") + "'"
	}
	return strings.Join(lits, ", ")
}
