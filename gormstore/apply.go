package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paylinkgo/paylink/provider"
)

// The statement LoadApply runs: the link and the payment by key, and the
// statuses claimed for the payment, in one row even when neither exists.
const loadApplySQL = `SELECT
 l.id IS NOT NULL, COALESCE(l.idempotency_key, ''), COALESCE(l.status, ''), COALESCE(l.amount, 0), COALESCE(l.currency, ''),
 COALESCE(l.type, ''), COALESCE(l.step, 0), COALESCE(l.url, ''), COALESCE(l.title, ''), COALESCE(l.payment_url, ''),
 COALESCE(l.redirect_url, ''), COALESCE(l.customer_name, ''), COALESCE(l.customer_email, ''), COALESCE(l.customer_phone, ''),
 COALESCE(l.customer_address, ''), COALESCE(l.method_bank, ''), COALESCE(l.method_type, ''), l.expires_at, l.raw,
 l.created_at, l.updated_at,
 p.id IS NOT NULL, COALESCE(p.link_id, ''), COALESCE(p.amount, 0), COALESCE(p.currency, ''), COALESCE(p.status, ''),
 COALESCE(p.raw_status, ''), COALESCE(p.sender_name, ''), COALESCE(p.sender_email, ''), COALESCE(p.sender_phone, ''),
 COALESCE(p.sender_address, ''), COALESCE(p.method_bank, ''), COALESCE(p.method_type, ''), COALESCE(p.va_number, ''),
 COALESCE(p.payment_url, ''), p.provider_created_at, p.completed_at, p.raw, p.updated_at,
 (SELECT %s(e.status, ',') FROM paylink_events e WHERE e.provider = $1 AND e.payment_id = $3)
FROM (SELECT 1 AS one) AS x
LEFT JOIN paylink_links l ON l.provider = $1 AND l.link_id = $2
LEFT JOIN paylink_payments p ON p.provider = $1 AND p.payment_id = $3`

// LoadApply reads the link, the payment and the payment's claimed events
// in one statement, without locks (see provider.Store).
func (s *Store) LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*provider.ApplyState, error) {
	q, args := s.loadApply.bind(providerName, linkID, paymentID)
	var (
		l                              provider.Link
		p                              provider.Payment
		hasLink, hasPay                bool
		expires, lCreated, lUpdated    sql.NullTime
		pCreated, pCompleted, pUpdated sql.NullTime
		claimed                        sql.NullString
		lRaw, pRaw                     []byte
	)
	err := s.queryRow(ctx, s.querier(ctx), q, args...).Scan(
		&hasLink, &l.IdempotencyKey, &l.Status, &l.Amount.Amount, &l.Amount.Currency,
		&l.Type, &l.Step, &l.URL, &l.Title, &l.PaymentURL,
		&l.RedirectURL, &l.Customer.Name, &l.Customer.Email, &l.Customer.Phone,
		&l.Customer.Address, &l.Method.Bank, &l.Method.Type, &expires, &lRaw,
		&lCreated, &lUpdated,
		&hasPay, &p.LinkID, &p.Amount.Amount, &p.Amount.Currency, &p.Status,
		&p.RawStatus, &p.Sender.Name, &p.Sender.Email, &p.Sender.Phone,
		&p.Sender.Address, &p.Method.Bank, &p.Method.Type, &p.VANumber,
		&p.PaymentURL, &pCreated, &pCompleted, &pRaw, &pUpdated,
		&claimed,
	)
	if err != nil {
		return nil, s.wrap("LoadApply", err)
	}
	st := &provider.ApplyState{}
	if hasLink {
		l.ID, l.Provider = linkID, providerName
		l.ExpiresAt, l.CreatedAt, l.UpdatedAt = nullTime(expires), nullTime(lCreated), nullTime(lUpdated)
		l.Raw = nilIfEmpty(lRaw)
		st.Link = &l
	}
	if hasPay {
		p.ID, p.Provider = paymentID, providerName
		p.CreatedAt, p.CompletedAt, p.UpdatedAt = nullTime(pCreated), nullTime(pCompleted), nullTime(pUpdated)
		p.Raw = nilIfEmpty(pRaw)
		st.Payment = &p
	}
	if claimed.Valid && claimed.String != "" {
		for col := range strings.SplitSeq(claimed.String, ",") {
			status, flag, _ := strings.Cut(col, "!")
			st.Claimed = append(st.Claimed, provider.EventKey{Provider: providerName, PaymentID: paymentID,
				Status: provider.PaymentStatus(status), Flag: provider.Verdict(flag)})
		}
	}
	return st, nil
}

// conflictSQLState and conflictMessage identify the error
// paylink_write_conflict() raises (see Migrate).
const (
	conflictSQLState = "40001"
	conflictMessage  = "paylink: write conflict"
)

// applyPart is one statement of an Apply: a CTE on PostgreSQL, a statement
// of its own in a transaction on SQLite. mustWrite parts must write exactly
// one row, or the whole Apply is refused with ErrWriteConflict.
type applyPart struct {
	name      string
	sql       string
	mustWrite bool
}

// applyParts returns the statements of w, numbered in one sequence, and
// their arguments.
func (s *Store) applyParts(w *provider.ApplyWrite) ([]applyPart, []any) {
	stamp := now()
	var parts []applyPart
	var shared sqlBuilder
	add := func(name string, mustWrite bool, build func(q *sqlBuilder)) {
		q := sqlBuilder{args: shared.args}
		build(&q)
		shared.args = q.args
		parts = append(parts, applyPart{name: name, sql: q.b.String(), mustWrite: mustWrite})
	}
	if c := w.Claim; c != nil {
		add("ev", true, func(q *sqlBuilder) {
			q.WriteString("INSERT INTO paylink_events (event_id, provider, payment_id, status, payload, created_at) VALUES (")
			q.WriteString(q.list(c.String(), c.Provider, c.PaymentID, eventStatus(c.Status, c.Flag), nilIfEmpty(w.Event), stamp))
			q.WriteString(") ON CONFLICT DO NOTHING")
		})
	}
	if p := w.Payment; p != nil {
		add("pay", true, func(q *sqlBuilder) {
			vals := []any{p.LinkID, p.Amount.Amount, string(p.Amount.Currency), string(p.Status), p.RawStatus,
				p.Sender.Name, p.Sender.Email, p.Sender.Phone, p.Sender.Address, p.Method.Bank, p.Method.Type,
				p.VANumber, p.PaymentURL, utcPtr(p.CreatedAt), utcPtr(p.CompletedAt), nilIfEmpty(p.Raw), stamp}
			if w.PreviousStatus == "" {
				q.WriteString("INSERT INTO paylink_payments (provider, payment_id, recorded_at, " + paymentColumns + ") VALUES (")
				q.WriteString(q.list(append([]any{p.Provider, p.ID, stamp}, vals...)...))
				q.WriteString(") ON CONFLICT (provider, payment_id) DO NOTHING")
				return
			}
			q.WriteString("UPDATE paylink_payments SET ")
			for i, col := range strings.Split(paymentColumns, ", ") {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString(col + " = " + q.arg(vals[i]))
			}
			q.WriteString(" WHERE provider = " + q.arg(p.Provider) + " AND payment_id = " + q.arg(p.ID) +
				" AND status = " + q.arg(string(w.PreviousStatus)))
		})
	}
	if c := w.StatusChange; c != nil {
		add("sc", false, func(q *sqlBuilder) {
			at := c.At
			if at.IsZero() {
				at = stamp
			}
			q.WriteString("INSERT INTO paylink_status_changes (provider, payment_id, from_status, to_status, source, at) VALUES (")
			q.WriteString(q.list(c.Provider, c.PaymentID, string(c.From), string(c.To), string(c.Source), utc(at)))
			q.WriteString(")")
		})
	}
	if w.LinkStatus != "" && w.Payment != nil {
		add("lk", false, func(q *sqlBuilder) {
			at := w.LinkUpdatedAt
			if at.IsZero() {
				at = stamp
			}
			q.WriteString("UPDATE paylink_links SET status = " + q.arg(string(w.LinkStatus)) + ", updated_at = " + q.arg(utc(at)) +
				" WHERE provider = " + q.arg(w.Payment.Provider) + " AND link_id = " + q.arg(w.Payment.LinkID))
		})
	}
	if len(w.HookRuns) > 0 {
		add("hr", false, func(q *sqlBuilder) {
			q.WriteString("INSERT INTO paylink_hook_runs (event_id, hook, state, attempts, last_error, idempotency_key, lease_token, next_at, created_at, updated_at) VALUES ")
			for i, r := range w.HookRuns {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(" + q.list(r.EventID, r.Hook, string(provider.HookRunPending), 0, "", r.IdempotencyKey, "", stamp, stamp, stamp) + ")")
			}
			q.WriteString(" ON CONFLICT (event_id, hook) DO NOTHING")
		})
	}
	if c := w.Callback; c != nil {
		if c.ReceivedAt.IsZero() {
			c.ReceivedAt = stamp
		}
		add("cb", false, func(q *sqlBuilder) {
			q.WriteString("INSERT INTO paylink_callbacks (provider, payment_id, link_id, status, amount, currency, body, verdict, received_at) VALUES (")
			q.WriteString(q.list(c.Provider, c.PaymentID, c.LinkID, string(c.Status), c.Amount.Amount, string(c.Amount.Currency),
				nilIfEmpty(c.Body), string(c.Verdict), utc(c.ReceivedAt)))
			q.WriteString(")")
		})
	}
	return parts, shared.args
}

// paymentColumns are the payment columns Apply writes besides the key.
const paymentColumns = "link_id, amount, currency, status, raw_status, sender_name, sender_email, sender_phone, sender_address, " +
	"method_bank, method_type, va_number, payment_url, provider_created_at, completed_at, raw, updated_at"

// Apply writes w atomically (see provider.Store). On PostgreSQL it is one
// statement: every write a CTE, and a final check that raises (rolling
// the statement back) when the claim or the payment's precondition did
// not hold. On SQLite it is one immediate transaction.
func (s *Store) Apply(ctx context.Context, w *provider.ApplyWrite) error {
	if w == nil {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore.Apply", "nil write")
	}
	parts, args := s.applyParts(w)
	if len(parts) == 0 {
		return nil
	}
	var (
		id  int64
		err error
	)
	if s.dialect == dialectPostgres {
		id, err = s.applyPostgres(ctx, parts, args)
	} else {
		id, err = s.applySQLite(ctx, parts, args)
	}
	if err != nil {
		return err
	}
	if w.Callback != nil {
		w.Callback.ID = id
	}
	return nil
}

func (s *Store) applyPostgres(ctx context.Context, parts []applyPart, args []any) (int64, error) {
	var q strings.Builder
	var checks []string
	cbID := "0"
	q.WriteString("WITH ")
	for i, p := range parts {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(p.name + " AS (" + p.sql)
		switch {
		case p.name == "cb":
			q.WriteString(" RETURNING id)")
			cbID = "(SELECT id FROM cb)"
		case p.mustWrite:
			q.WriteString(" RETURNING 1)")
			checks = append(checks, "(SELECT count(*) FROM "+p.name+") = 1")
		default:
			q.WriteString(")")
		}
	}
	q.WriteString(" SELECT ")
	if len(checks) == 0 {
		q.WriteString(cbID)
	} else {
		q.WriteString("CASE WHEN " + strings.Join(checks, " AND ") + " THEN " + cbID + " ELSE paylink_write_conflict() END")
	}
	query := q.String()
	run := func(db querier) (int64, error) {
		var id int64
		err := db.QueryRowContext(ctx, query, args...).Scan(&id)
		return id, err
	}
	tx := s.joinedTx(ctx)
	if tx == nil {
		id, err := run(s.sqlDB)
		return id, s.applyErr(err)
	}
	// In the caller's transaction: a refused write must leave it usable.
	if _, err := tx.ExecContext(ctx, "SAVEPOINT paylink_apply"); err != nil {
		return 0, s.wrap("Apply", err)
	}
	id, err := run(tx)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT paylink_apply"); rerr != nil {
			return 0, s.wrap("Apply", rerr)
		}
		return 0, s.applyErr(err)
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT paylink_apply"); err != nil {
		return 0, s.wrap("Apply", err)
	}
	return id, nil
}

// applyErr maps the conflict check's error to provider.ErrWriteConflict.
func (s *Store) applyErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == conflictSQLState && pgErr.Message == conflictMessage {
		return fmt.Errorf("gormstore.Apply: %w", provider.ErrWriteConflict)
	}
	return s.wrap("Apply", err)
}

func (s *Store) applySQLite(ctx context.Context, parts []applyPart, allArgs []any) (id int64, err error) {
	// Prepare the statements before the transaction takes the one
	// connection; inside the caller's transaction use only those
	// prepared already.
	tx := s.joinedTx(ctx)
	queries, args, stmts := make([]string, len(parts)), make([][]any, len(parts)), make([]*sql.Stmt, len(parts))
	for i, p := range parts {
		queries[i], args[i] = rebind(dialectSQLite, p.sql, allArgs)
		if stmts[i], err = s.stmts.prepared(ctx, s.sqlDB, queries[i], tx == nil); err != nil {
			return 0, s.wrap("Apply", err)
		}
	}
	if tx == nil {
		tx, err = s.sqlDB.BeginTx(ctx, nil)
		if err != nil {
			return 0, s.wrap("Apply", err)
		}
		defer func() {
			if err != nil {
				_ = tx.Rollback()
				return
			}
			if cerr := tx.Commit(); cerr != nil {
				id, err = 0, s.wrap("Apply", cerr)
			}
		}()
	} else {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT paylink_apply"); err != nil {
			return 0, s.wrap("Apply", err)
		}
		defer func() {
			if err != nil {
				_, _ = tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT paylink_apply")
			}
			_, _ = tx.ExecContext(context.WithoutCancel(ctx), "RELEASE SAVEPOINT paylink_apply")
		}()
	}
	for i, p := range parts {
		res, err := execIn(ctx, tx, stmts[i], queries[i], args[i]...)
		if err != nil {
			return 0, s.wrap("Apply", err)
		}
		if p.mustWrite {
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return 0, fmt.Errorf("gormstore.Apply: %s: %w", p.name, provider.ErrWriteConflict)
			}
		}
		if p.name == "cb" {
			if id, err = res.LastInsertId(); err != nil {
				return 0, s.wrap("Apply", err)
			}
		}
	}
	return id, nil
}

// eventStatus is the status column of an event row: the status, plus the
// verdict of a flagged event, so a flagged claim never blocks the claim of
// the same status once the event can be applied.
func eventStatus(st provider.PaymentStatus, flag provider.Verdict) string {
	if flag == "" {
		return string(st)
	}
	return string(st) + "!" + string(flag)
}

func nullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
