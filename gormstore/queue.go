package gormstore

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// The hook queue lives in paylink_hook_runs, beside the ledger, so a run
// is queued in the same atomic write as the event that causes it. The
// rules (attempts, backoff, timeouts, which hooks exist) are the
// Service's; these methods only store and hand out runs.
//
// Due times and leases are on the store's clock: on PostgreSQL the
// server's now(), so replicas whose clocks disagree agree on every lease;
// on SQLite the host's clock, which every process using the file shares
// (an SQLite file is local to one host).

const hookRunColumns = "id, event_id, provider, payment_id, hook, state, attempts, last_error, idempotency_key, next_at, created_at, updated_at"

// storeNow returns the SQL of the store's now: now() on PostgreSQL, a
// parameter holding the host's clock on SQLite.
func (s *Store) storeNow(q *sqlBuilder) string {
	if s.dialect == dialectPostgres {
		return "now()"
	}
	return q.arg(now())
}

// storeNowPlus returns the SQL of the store's now + d.
func (s *Store) storeNowPlus(q *sqlBuilder, d time.Duration) string {
	if s.dialect == dialectPostgres {
		return "now() + " + q.arg(d.Microseconds()) + "::bigint * interval '1 microsecond'"
	}
	return q.arg(utc(now().Add(d)))
}

// ClaimHookRuns leases up to limit due runs of the named hooks (see
// provider.HookQueue), on the store's clock. Its state condition is
// spelled exactly as the partial index paylink_hook_runs_due's, so SQLite
// uses that index too.
// On PostgreSQL concurrent claims skip each other's rows (FOR UPDATE SKIP
// LOCKED); on SQLite, with one writer, a claim shares the transaction of
// concurrent callbacks' writes.
func (s *Store) ClaimHookRuns(ctx context.Context, hooks []string, limit int, lease time.Duration) ([]provider.ClaimedHookRun, error) {
	if limit <= 0 || len(hooks) == 0 {
		return nil, nil
	}
	token := crand.Text()
	var q sqlBuilder
	until := s.storeNowPlus(&q, lease)
	at := s.storeNow(&q)
	q.WriteString("UPDATE paylink_hook_runs SET attempts = attempts + 1, lease_until = " + until +
		", lease_token = " + q.arg(token) + ", updated_at = " + at + " WHERE id IN (SELECT id FROM paylink_hook_runs WHERE (state = 'pending' OR state = 'retrying') AND next_at <= ")
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
	args = s.replanned(args...)
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
	dest := append([]any{&r.ID, &r.EventID, &r.Provider, &r.PaymentID, &r.Hook, &state, &r.Attempts, &r.LastError, &r.IdempotencyKey, &next, &created, &updated}, extra...)
	if err := scan(dest...); err != nil {
		return err
	}
	r.State = provider.HookRunState(state)
	r.NextAt, r.CreatedAt, r.UpdatedAt = next.UTC(), created.UTC(), updated.UTC()
	return nil
}

// ExtendHookLeases moves the leases still held under their tokens to the
// store's now + lease.
func (s *Store) ExtendHookLeases(ctx context.Context, leases []provider.HookLease, lease time.Duration) error {
	if len(leases) == 0 {
		return nil
	}
	if s.dialect == dialectPostgres {
		ids, tokens := make([]int64, len(leases)), make([]string, len(leases))
		for i, l := range leases {
			ids[i], tokens[i] = l.ID, l.Token
		}
		_, err := s.sqlDB.ExecContext(ctx, `UPDATE paylink_hook_runs AS r SET lease_until = now() + $1::bigint * interval '1 microsecond'
FROM unnest($2::bigint[], $3::text[]) AS v(id, token) WHERE r.id = v.id AND r.lease_token = v.token AND v.token <> ''`, s.replanned(lease.Microseconds(), ids, tokens)...)
		return s.wrap("ExtendHookLeases", err)
	}
	until := utc(now().Add(lease))
	return s.sqliteEach(ctx, "ExtendHookLeases", len(leases), func(tx *sql.Tx, i int) error {
		_, err := tx.ExecContext(ctx, "UPDATE paylink_hook_runs SET lease_until = ? WHERE id = ? AND lease_token = ? AND lease_token <> ''",
			until, leases[i].ID, leases[i].Token)
		return err
	})
}

// FinishHookRuns records outcomes whose lease still holds, in one statement
// on PostgreSQL and one transaction on SQLite, and returns the others. A
// retrying or released run is due its Delay after the store's now.
// Requeues (an operator's retry of a failed run) are applied first, in
// the same transaction: if one fails, nothing is recorded.
func (s *Store) FinishHookRuns(ctx context.Context, results []provider.HookResult) ([]int64, error) {
	const op = "FinishHookRuns"
	if len(results) == 0 {
		return nil, nil
	}
	var requeue, finish []provider.HookResult
	for _, r := range results {
		if r.Requeue {
			requeue = append(requeue, r)
		} else {
			finish = append(finish, r)
		}
	}
	done := make(map[int64]bool, len(finish))
	record := func(ctx context.Context, db querier) error {
		clear(done) // a shared SQLite transaction may run this twice
		for _, r := range requeue {
			if err := s.requeue(ctx, db, r.ID); err != nil {
				return err
			}
		}
		if len(finish) == 0 {
			return nil
		}
		if s.dialect == dialectPostgres {
			return finishPostgres(ctx, db, finish, done)
		}
		return finishSQLite(ctx, db, finish, done)
	}
	var err error
	switch {
	case s.dialect == dialectSQLite:
		err = s.inGroup(ctx, op, func(ctx context.Context, tx *sql.Tx) error { return record(ctx, tx) })
	case len(requeue) == 0:
		err = s.wrap(op, record(ctx, s.sqlDB))
	default:
		err = s.wrap(op, s.pgTx(ctx, func(tx *sql.Tx) error { return record(ctx, tx) }))
	}
	if err != nil {
		return nil, err
	}
	var lost []int64
	for _, r := range finish {
		if !done[r.ID] {
			lost = append(lost, r.ID)
		}
	}
	return lost, nil
}

// pgTx runs fn in a transaction of its own.
func (s *Store) pgTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// finishPostgres records results in one statement, due times on the
// server's clock, and marks the ids it recorded in done.
func finishPostgres(ctx context.Context, db querier, results []provider.HookResult, done map[int64]bool) error {
	n := len(results)
	ids, tokens, states, errs := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	rel, delay := make([]int32, n), make([]int64, n)
	for i, r := range results {
		ids[i], tokens[i], states[i], errs[i] = r.ID, r.Token, string(r.State), r.Error
		delay[i] = max(r.Delay, 0).Microseconds()
		if r.Release {
			rel[i] = 1
		}
	}
	rows, err := db.QueryContext(ctx, `UPDATE paylink_hook_runs AS r SET state = v.state, last_error = v.err,
 attempts = r.attempts - v.rel, next_at = now() + v.delay * interval '1 microsecond', lease_until = NULL, lease_token = '', updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS v(id, token, state, err, rel, delay)
WHERE r.id = v.id AND r.lease_token = v.token AND v.token <> '' RETURNING r.id`, pgx.QueryExecModeCacheDescribe, ids, tokens, states, errs, rel, delay) // planned per call: see replanned
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
}

// finishSQLite records results with one UPDATE per group of outcomes that
// write the same values (usually one group: every hook of a batch
// succeeded), due times on the host's clock, and marks the ids it
// recorded in done.
func finishSQLite(ctx context.Context, db querier, results []provider.HookResult, done map[int64]bool) error {
	stamp := now()
	type group struct {
		state, err, token string
		rel               int
		next              time.Time
	}
	groups := map[group][]any{}
	var order []group
	for _, r := range results {
		g := group{state: string(r.State), err: r.Error, token: r.Token, next: utc(stamp.Add(max(r.Delay, 0)))}
		if r.Release {
			g.rel = 1
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r.ID)
	}
	for _, g := range order {
		ids := groups[g]
		rows, err := db.QueryContext(ctx, `UPDATE paylink_hook_runs SET state = ?, last_error = ?, attempts = attempts - ?,
 next_at = ?, lease_until = NULL, lease_token = '', updated_at = ? WHERE lease_token = ? AND lease_token <> '' AND id IN (?`+
			strings.Repeat(", ?", len(ids)-1)+`) RETURNING id`, append([]any{g.state, g.err, g.rel, g.next, stamp, g.token}, ids...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			done[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
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

// requeue puts the FAILED run id back in the queue, pending, due at the
// store's now, with no attempts. A run in any other state is
// CodeFailedPrecondition; an unknown id is CodeNotFound.
func (s *Store) requeue(ctx context.Context, db querier, id int64) error {
	const op = "FinishHookRuns"
	var q sqlBuilder
	at := s.storeNow(&q)
	q.WriteString("UPDATE paylink_hook_runs SET state = 'pending', attempts = 0, last_error = '', lease_until = NULL, lease_token = '', next_at = " +
		at + ", updated_at = " + at + " WHERE id = " + q.arg(id) + " AND state = 'failed'")
	query, args := rebind(s.dialect, q.b.String(), q.args)
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var state string
	q = sqlBuilder{}
	q.WriteString("SELECT state FROM paylink_hook_runs WHERE id = " + q.arg(id))
	query, args = rebind(s.dialect, q.b.String(), q.args)
	switch err := db.QueryRowContext(ctx, query, args...).Scan(&state); {
	case errors.Is(err, sql.ErrNoRows):
		return notFound(op, "hook run")
	case err != nil:
		return err
	}
	return provider.Errorf(provider.CodeFailedPrecondition, "gormstore."+op,
		"hook run %d is %s; only failed runs can be requeued", id, state)
}

// ListHookRuns returns hook runs, oldest first (provider.Reader).
func (s *Store) ListHookRuns(ctx context.Context, f provider.HookRunFilter) ([]provider.HookRun, error) {
	// The columns by name, not *: a step that adds a column then does not
	// change the result of a statement PostgreSQL has cached.
	q := s.conn(ctx).Select(hookRunColumns).Order("id")
	if f.EventID != "" {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.ID != 0 {
		q = q.Where("id = ?", f.ID)
	}
	if f.PaymentID != "" {
		q = q.Where("provider = ? AND payment_id = ?", f.Provider, f.PaymentID) // paylink_hook_runs_payment
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

// HookBacklog counts the runs due at or before the store's now that have
// not finished, and reads when the oldest came due: two reads of the
// partial index on (state, next_at) that holds only pending and retrying
// runs (provider.Reader).
func (s *Store) HookBacklog(ctx context.Context) (provider.HookBacklog, error) {
	var b provider.HookBacklog
	due := func() *gorm.DB {
		q := s.conn(ctx).Model(&HookRunRecord{}).Where("state = 'pending' OR state = 'retrying'")
		if s.dialect == dialectPostgres {
			return q.Where("next_at <= now()")
		}
		return q.Where("next_at <= ?", now())
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
