package gormstore

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// The hook queue lives in paylink_hook_runs, beside the ledger, so a run
// is queued in the same atomic write as the event that causes it. The
// rules (attempts, backoff, timeouts, which hooks exist) are the
// Service's; these methods only store and hand out runs.

const hookRunColumns = "id, event_id, hook, state, attempts, last_error, idempotency_key, next_at, created_at, updated_at"

// ClaimHookRuns leases up to limit due runs of the named hooks (see
// provider.HookQueue). Its state condition is spelled exactly as the
// partial index paylink_hook_runs_due's, so SQLite uses that index too.
// On PostgreSQL concurrent claims skip each other's rows (FOR UPDATE SKIP
// LOCKED); on SQLite, with one writer, a claim shares the transaction of
// concurrent callbacks' writes.
func (s *Store) ClaimHookRuns(ctx context.Context, hooks []string, limit int, now time.Time, lease time.Duration) ([]provider.ClaimedHookRun, error) {
	if limit <= 0 || len(hooks) == 0 {
		return nil, nil
	}
	now = utc(now)
	token := crand.Text()
	var q sqlBuilder
	q.WriteString("UPDATE paylink_hook_runs SET attempts = attempts + 1, lease_until = " + q.arg(utc(now.Add(lease))) +
		", lease_token = " + q.arg(token) + ", updated_at = " + q.arg(now) + " WHERE id IN (SELECT id FROM paylink_hook_runs WHERE (state = 'pending' OR state = 'retrying') AND next_at <= ")
	at := q.arg(now)
	q.WriteString(at + " AND (lease_until IS NULL OR lease_until <= " + at + ") AND hook ")
	if s.dialect == dialectPostgres {
		q.WriteString("= ANY(" + q.arg(hooks) + ")")
	} else {
		names := make([]any, len(hooks))
		for i, h := range hooks {
			names[i] = h
		}
		q.WriteString("IN (" + q.list(names...) + ")")
	}
	q.WriteString(" ORDER BY next_at, id LIMIT " + q.arg(limit))
	if s.dialect == dialectPostgres {
		q.WriteString(" FOR UPDATE SKIP LOCKED")
	}
	q.WriteString(") RETURNING " + hookRunColumns + ", (SELECT e.payload FROM paylink_events e WHERE e.event_id = paylink_hook_runs.event_id)")
	query, args := rebind(s.dialect, q.b.String(), q.args)
	var out []provider.ClaimedHookRun
	claim := func(ctx context.Context, db querier) error {
		out = out[:0]
		return s.pgxQuery(ctx, db, query, args, func(scan func(...any) error) error {
			c := provider.ClaimedHookRun{Lease: token}
			var payload []byte
			if err := scanHookRun(scan, &c.Run, &payload); err != nil {
				return err
			}
			c.Event = nilIfEmpty(payload)
			out = append(out, c)
			return nil
		})
	}
	if s.dialect == dialectSQLite {
		err := s.inGroup(ctx, "ClaimHookRuns", func(ctx context.Context, tx *sql.Tx) error { return claim(ctx, tx) })
		return out, err
	}
	return out, s.wrap("ClaimHookRuns", claim(ctx, s.sqlDB))
}

func scanHookRun(scan func(dest ...any) error, r *provider.HookRun, extra ...any) error {
	var state string
	var next, created, updated time.Time
	dest := append([]any{&r.ID, &r.EventID, &r.Hook, &state, &r.Attempts, &r.LastError, &r.IdempotencyKey, &next, &created, &updated}, extra...)
	if err := scan(dest...); err != nil {
		return err
	}
	r.State = provider.HookRunState(state)
	r.NextAt, r.CreatedAt, r.UpdatedAt = next.UTC(), created.UTC(), updated.UTC()
	return nil
}

// ExtendHookLeases moves the leases still held under their tokens to until.
func (s *Store) ExtendHookLeases(ctx context.Context, leases []provider.HookLease, until time.Time) error {
	if len(leases) == 0 {
		return nil
	}
	until = utc(until)
	if s.dialect == dialectPostgres {
		ids, tokens := make([]int64, len(leases)), make([]string, len(leases))
		for i, l := range leases {
			ids[i], tokens[i] = l.ID, l.Token
		}
		_, err := s.sqlDB.ExecContext(ctx, `UPDATE paylink_hook_runs AS r SET lease_until = $1
FROM unnest($2::bigint[], $3::text[]) AS v(id, token) WHERE r.id = v.id AND r.lease_token = v.token AND v.token <> ''`, until, ids, tokens)
		return s.wrap("ExtendHookLeases", err)
	}
	return s.sqliteEach(ctx, "ExtendHookLeases", len(leases), func(tx *sql.Tx, i int) error {
		_, err := tx.ExecContext(ctx, "UPDATE paylink_hook_runs SET lease_until = ? WHERE id = ? AND lease_token = ? AND lease_token <> ''",
			until, leases[i].ID, leases[i].Token)
		return err
	})
}

// FinishHookRuns records outcomes whose lease still holds, in one statement
// on PostgreSQL and one transaction on SQLite, and returns the others.
func (s *Store) FinishHookRuns(ctx context.Context, results []provider.HookResult) ([]int64, error) {
	if len(results) == 0 {
		return nil, nil
	}
	stamp := now()
	done := make(map[int64]bool, len(results))
	if s.dialect == dialectPostgres {
		n := len(results)
		ids, tokens, states, errs := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
		rel, next := make([]int32, n), make([]time.Time, n)
		for i, r := range results {
			ids[i], tokens[i], states[i], errs[i] = r.ID, r.Token, string(r.State), r.Error
			next[i] = utc(r.NextAt)
			if r.NextAt.IsZero() {
				next[i] = stamp
			}
			if r.Release {
				rel[i] = 1
			}
		}
		rows, err := s.sqlDB.QueryContext(ctx, `UPDATE paylink_hook_runs AS r SET state = v.state, last_error = v.err,
 attempts = r.attempts - v.rel, next_at = v.next_at, lease_until = NULL, lease_token = '', updated_at = $1
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[]) AS v(id, token, state, err, rel, next_at)
WHERE r.id = v.id AND r.lease_token = v.token AND v.token <> '' RETURNING r.id`, stamp, ids, tokens, states, errs, rel, next)
		if err != nil {
			return nil, s.wrap("FinishHookRuns", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, s.wrap("FinishHookRuns", err)
			}
			done[id] = true
		}
		if err := rows.Err(); err != nil {
			return nil, s.wrap("FinishHookRuns", err)
		}
	} else {
		// One UPDATE per group of outcomes that write the same values
		// (usually one group: every hook of a batch succeeded).
		type group struct {
			state, err, token string
			rel               int
			next              time.Time
		}
		groups := map[group][]any{}
		var order []group
		for _, r := range results {
			g := group{state: string(r.State), err: r.Error, token: r.Token, next: utc(r.NextAt)}
			if r.NextAt.IsZero() {
				g.next = stamp
			}
			if r.Release {
				g.rel = 1
			}
			if _, ok := groups[g]; !ok {
				order = append(order, g)
			}
			groups[g] = append(groups[g], r.ID)
		}
		err := s.sqliteEach(ctx, "FinishHookRuns", len(order), func(tx *sql.Tx, i int) error {
			g := order[i]
			ids := groups[g]
			rows, err := tx.QueryContext(ctx, `UPDATE paylink_hook_runs SET state = ?, last_error = ?, attempts = attempts - ?,
 next_at = ?, lease_until = NULL, lease_token = '', updated_at = ? WHERE lease_token = ? AND lease_token <> '' AND id IN (?`+
				strings.Repeat(", ?", len(ids)-1)+`) RETURNING id`, append([]any{g.state, g.err, g.rel, g.next, stamp, g.token}, ids...)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				done[id] = true
			}
			return rows.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	var lost []int64
	for _, r := range results {
		if !done[r.ID] {
			lost = append(lost, r.ID)
		}
	}
	return lost, nil
}

// sqliteEach runs fn for 0..n-1 in one transaction, shared with
// concurrent writes (see groupCommit).
func (s *Store) sqliteEach(ctx context.Context, op string, n int, fn func(tx *sql.Tx, i int) error) error {
	return s.inGroup(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		for i := range n {
			if err := fn(tx, i); err != nil {
				return err
			}
		}
		return nil
	})
}

// RetryHookRun puts a FAILED run back in the queue, pending, due now, with
// no attempts. A run in any other state is CodeFailedPrecondition; an
// unknown id is CodeNotFound.
func (s *Store) RetryHookRun(ctx context.Context, id int64) error {
	const op = "RetryHookRun"
	stamp := now()
	res := s.conn(ctx).Model(&HookRunRecord{}).
		Where("id = ? AND state = ?", id, string(provider.HookRunFailed)).
		Updates(map[string]any{
			"state": string(provider.HookRunPending), "attempts": 0, "last_error": "",
			"lease_until": nil, "lease_token": "", "next_at": stamp, "updated_at": stamp,
		})
	if res.Error != nil {
		return s.wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var rec HookRunRecord
	found := s.conn(ctx).Where("id = ?", id).Limit(1).Find(&rec)
	switch {
	case found.Error != nil:
		return s.wrap(op, found.Error)
	case found.RowsAffected == 0:
		return notFound(op, "hook run")
	}
	return provider.Errorf(provider.CodeFailedPrecondition, "gormstore."+op,
		"hook run %d is %s; only failed runs can be retried", id, rec.State)
}

// ListHookRuns returns hook runs, oldest first.
func (s *Store) ListHookRuns(ctx context.Context, f provider.HookRunFilter) ([]provider.HookRun, error) {
	q := s.conn(ctx).Order("id")
	if f.EventID != "" {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.ID != 0 {
		q = q.Where("id = ?", f.ID)
	}
	if f.PaymentID != "" {
		// Through the claims: both lookups use unique indexes.
		q = q.Where("event_id IN (SELECT e.event_id FROM paylink_events e WHERE e.provider = ? AND e.payment_id = ?)", f.Provider, f.PaymentID)
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

// HookBacklog counts the runs due at or before now that have not finished,
// and reads when the oldest came due: two reads of the partial index on
// (state, next_at) that holds only pending and retrying runs.
func (s *Store) HookBacklog(ctx context.Context, now time.Time) (provider.HookBacklog, error) {
	var b provider.HookBacklog
	due := func() *gorm.DB {
		return s.conn(ctx).Model(&HookRunRecord{}).Where("(state = 'pending' OR state = 'retrying') AND next_at <= ?", utc(now))
	}
	if err := due().Count(&b.Runs).Error; err != nil || b.Runs == 0 {
		return b, s.wrap("HookBacklog", err)
	}
	var oldest struct{ NextAt time.Time }
	if err := due().Select("next_at").Order("next_at").Limit(1).Take(&oldest).Error; err != nil {
		return provider.HookBacklog{}, s.wrap("HookBacklog", err)
	}
	b.OldestDue = oldest.NextAt.UTC()
	return b, nil
}
