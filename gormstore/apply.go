package gormstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/paylinkgo/paylink/provider"
)

// The columns LoadApply reads: everything the rules and a hook event's
// snapshot need, without the raw provider payloads.
const (
	loadLinkColumns = "idempotency_key, status, amount, currency, type, step, url, title, payment_url, redirect_url, " +
		"customer_name, customer_email, customer_phone, customer_address, method_bank, method_type, expires_at, created_at, updated_at"
	loadPaymentColumns = "link_id, amount, currency, status, raw_status, refunded_amount, sender_name, sender_email, sender_phone, sender_address, " +
		"method_bank, method_type, va_number, payment_url, provider_created_at, completed_at, updated_at"
)

// loadApplySQL is PostgreSQL's LoadApply: the link, the payment and the
// statuses claimed for the payment, in one row even when neither exists.
const loadApplySQL = `SELECT
 l.id IS NOT NULL,
 l.idempotency_key, l.status, l.amount, l.currency, l.type, l.step, l.url, l.title, l.payment_url, l.redirect_url,
 l.customer_name, l.customer_email, l.customer_phone, l.customer_address, l.method_bank, l.method_type, l.expires_at,
 l.created_at, l.updated_at,
 p.link_id, p.amount, p.currency, p.status, p.raw_status, p.refunded_amount, p.sender_name, p.sender_email, p.sender_phone, p.sender_address,
 p.method_bank, p.method_type, p.va_number, p.payment_url, p.provider_created_at, p.completed_at, p.updated_at,
 (SELECT string_agg(e.status, ',') FROM paylink_events e WHERE e.provider = $1 AND e.payment_id = $3),
 CASE WHEN l.type = 'SINGLE' THEN (SELECT o.payment_id FROM paylink_payments o WHERE o.provider = $1 AND o.link_id = $2
  AND o.payment_id <> $3 AND o.status IN (` + paidStatusesSQL + `) LIMIT 1) END
FROM (SELECT 1 AS one) AS x
LEFT JOIN paylink_links l ON l.provider = $1 AND l.link_id = $2
LEFT JOIN paylink_payments p ON p.provider = $1 AND p.payment_id = $3`

// The statements of SQLite's LoadApply: three short ones parse faster
// than one long join (the driver compiles every statement on every call),
// and there is no round trip to save in process.
const (
	loadLinkSQLite    = "SELECT " + loadLinkColumns + " FROM paylink_links WHERE provider = ? AND link_id = ?"
	loadPaymentSQLite = "SELECT " + loadPaymentColumns + " FROM paylink_payments WHERE provider = ? AND payment_id = ?"
	loadClaimsSQLite  = "SELECT group_concat(status, ',') FROM paylink_events WHERE provider = ? AND payment_id = ?"
	loadPaidBySQLite  = "SELECT payment_id FROM paylink_payments WHERE provider = ? AND link_id = ? AND payment_id <> ? AND status IN (" + paidStatusesSQL + ") LIMIT 1"
)

// paidStatusesSQL lists the statuses provider.PaymentStatus.Paid holds,
// for LoadApply's question "did another payment pay this SINGLE link?".
const paidStatusesSQL = "'SUCCESSFUL', 'PARTIALLY_REFUNDED', 'REFUNDED', 'PARTIALLY_CHARGED_BACK', 'CHARGED_BACK', 'REVERSED'"

// linkScan and paymentScan hold one row of LoadApply while it is scanned.
// pgtype's nullable types scan natively on pgx and as sql.Scanners on
// SQLite.
type linkScan struct {
	idem, status, cur  pgtype.Text
	typ, url, title    pgtype.Text
	payURL, redirect   pgtype.Text
	name, email, phone pgtype.Text
	addr, bank, btype  pgtype.Text
	amount, step       pgtype.Int8
	expires, c, u      pgtype.Timestamptz
}

func (x *linkScan) dest() []any {
	return []any{&x.idem, &x.status, &x.amount, &x.cur, &x.typ, &x.step, &x.url, &x.title, &x.payURL, &x.redirect,
		&x.name, &x.email, &x.phone, &x.addr, &x.bank, &x.btype, &x.expires, &x.c, &x.u}
}

func (x *linkScan) link(providerName, linkID string) *provider.Link {
	return &provider.Link{
		ID: linkID, Provider: providerName, IdempotencyKey: x.idem.String, Status: provider.LinkStatus(x.status.String),
		Amount: provider.Money{Amount: x.amount.Int64, Currency: provider.Currency(x.cur.String)},
		Type:   provider.LinkType(x.typ.String), Step: provider.Step(x.step.Int64), URL: x.url.String, Title: x.title.String,
		PaymentURL: x.payURL.String, RedirectURL: x.redirect.String,
		Customer:  provider.Customer{Name: x.name.String, Email: x.email.String, Phone: x.phone.String, Address: x.addr.String},
		Method:    provider.PaymentMethod{Bank: x.bank.String, Type: x.btype.String},
		ExpiresAt: pgTime(x.expires), CreatedAt: pgTime(x.c), UpdatedAt: pgTime(x.u),
	}
}

type paymentScan struct {
	linkID, cur, status, raw pgtype.Text
	name, email, phone, addr pgtype.Text
	bank, btype, va, payURL  pgtype.Text
	amount, refunded         pgtype.Int8
	created, completed, u    pgtype.Timestamptz
}

func (x *paymentScan) dest() []any {
	return []any{&x.linkID, &x.amount, &x.cur, &x.status, &x.raw, &x.refunded, &x.name, &x.email, &x.phone, &x.addr,
		&x.bank, &x.btype, &x.va, &x.payURL, &x.created, &x.completed, &x.u}
}

func (x *paymentScan) payment(providerName, paymentID string) *provider.Payment {
	return &provider.Payment{
		ID: paymentID, Provider: providerName, LinkID: x.linkID.String,
		Amount: provider.Money{Amount: x.amount.Int64, Currency: provider.Currency(x.cur.String)},
		Status: provider.PaymentStatus(x.status.String), RawStatus: x.raw.String,
		RefundedAmount: refunded(x.refunded.Int64, x.cur.String),
		Sender:         provider.Customer{Name: x.name.String, Email: x.email.String, Phone: x.phone.String, Address: x.addr.String},
		Method:         provider.PaymentMethod{Bank: x.bank.String, Type: x.btype.String},
		VANumber:       x.va.String, PaymentURL: x.payURL.String,
		CreatedAt: pgTime(x.created), CompletedAt: pgTime(x.completed), UpdatedAt: pgTime(x.u),
	}
}

func pgTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// LoadApply reads the link, the payment, the payment's claimed events and,
// for a SINGLE link, another paid payment of it, without locks (see
// provider.Store): one statement on PostgreSQL, three or four short ones
// on SQLite. Links and payments come without their raw
// provider payloads.
func (s *Store) LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*provider.ApplyState, error) {
	var (
		ls      linkScan
		ps      paymentScan
		hasLink pgtype.Bool
		claimed pgtype.Text
		paidBy  pgtype.Text
	)
	q := s.querier(ctx)
	if s.dialect == dialectPostgres {
		dest := append(append(append([]any{&hasLink}, ls.dest()...), ps.dest()...), &claimed, &paidBy)
		err := s.pgxRow(ctx, loadApplySQL, s.replanned(providerName, linkID, paymentID), dest)
		if err != nil {
			return nil, s.wrap("LoadApply", err)
		}
	} else {
		err := q.QueryRowContext(ctx, loadLinkSQLite, providerName, linkID).Scan(ls.dest()...)
		switch {
		case err == nil:
			hasLink = pgtype.Bool{Bool: true, Valid: true}
		case !errors.Is(err, sql.ErrNoRows):
			return nil, s.wrap("LoadApply", err)
		}
		if err := q.QueryRowContext(ctx, loadPaymentSQLite, providerName, paymentID).Scan(ps.dest()...); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, s.wrap("LoadApply", err)
		}
		if err := q.QueryRowContext(ctx, loadClaimsSQLite, providerName, paymentID).Scan(&claimed); err != nil {
			return nil, s.wrap("LoadApply", err)
		}
		if hasLink.Bool && ls.typ.String == string(provider.LinkSingle) {
			err := q.QueryRowContext(ctx, loadPaidBySQLite, providerName, linkID, paymentID).Scan(&paidBy)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, s.wrap("LoadApply", err)
			}
		}
	}
	st := &provider.ApplyState{LinkPaidBy: paidBy.String}
	if hasLink.Bool {
		st.Link = ls.link(providerName, linkID)
	}
	if ps.status.Valid {
		st.Payment = ps.payment(providerName, paymentID)
	}
	if claimed.Valid && claimed.String != "" {
		for col := range strings.SplitSeq(claimed.String, ",") {
			k := provider.EventKey{Provider: providerName, PaymentID: paymentID}
			k.ParseStatusKey(col)
			st.Claimed = append(st.Claimed, k)
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
// of its own in a transaction on SQLite.
type applyPart struct {
	name string // the CTE's name
	sql  string
	role partRole
}

// partRole is what Apply reads back from a part.
type partRole int

const (
	// partPlain: nothing.
	partPlain partRole = iota
	// partClaim: the event claim; it must write its row, or the whole
	// Apply is refused with ErrWriteConflict (and on SQLite it is what a
	// refused write deletes again).
	partClaim
	// partGuarded: the payment's write; it must write exactly one row, or
	// the whole Apply is refused.
	partGuarded
	// partCallback: the callback's row, whose id Apply returns.
	partCallback
	// partHookRuns: the hook runs, whose ids Apply returns when they are
	// inserted leased.
	partHookRuns
)

// mustWrite reports whether the part's row decides the write.
func (r partRole) mustWrite() bool { return r == partClaim || r == partGuarded }

// col is one column Apply writes, with its value: a parameter, or SQL of
// the store's own (the store's clock) when sql is set.
type col struct {
	name string
	v    any
	sql  func(q *sqlBuilder) string
}

// val is a column whose value is a parameter.
func val(name string, v any) col { return col{name: name, v: v} }

func (c col) value(q *sqlBuilder) string {
	if c.sql != nil {
		return c.sql(q)
	}
	return q.arg(c.v)
}

// insertRows writes "INSERT INTO table (columns) VALUES (...), (...)":
// the columns are the first row's, and every row lists the same ones, so
// a column and its value are written in one place.
func insertRows(q *sqlBuilder, table string, rows ...[]col) {
	q.WriteString("INSERT INTO " + table + " (")
	for i, c := range rows[0] {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(c.name)
	}
	q.WriteString(") VALUES ")
	for r, row := range rows {
		if r > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		for i, c := range row {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(c.value(q))
		}
		q.WriteString(")")
	}
}

// updateRow writes "UPDATE table SET c = v, ... WHERE c = v AND ...".
func updateRow(q *sqlBuilder, table string, set, where []col) {
	q.WriteString("UPDATE " + table + " SET ")
	for i, c := range set {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(c.name + " = " + c.value(q))
	}
	q.WriteString(" WHERE ")
	for i, c := range where {
		if i > 0 {
			q.WriteString(" AND ")
		}
		q.WriteString(c.name + " = " + c.value(q))
	}
}

// paymentCols are the payment columns Apply writes besides the key.
func paymentCols(p *provider.Payment, stamp time.Time) []col {
	return []col{
		val("link_id", p.LinkID), val("amount", p.Amount.Amount), val("currency", string(p.Amount.Currency)),
		val("status", string(p.Status)), val("raw_status", p.RawStatus), val("refunded_amount", p.RefundedAmount.Amount),
		val("sender_name", p.Sender.Name), val("sender_email", p.Sender.Email), val("sender_phone", p.Sender.Phone),
		val("sender_address", p.Sender.Address), val("method_bank", p.Method.Bank), val("method_type", p.Method.Type),
		val("va_number", p.VANumber), val("payment_url", p.PaymentURL), val("provider_created_at", utcPtr(p.CreatedAt)),
		val("completed_at", utcPtr(p.CompletedAt)), val("raw", nilIfEmpty(p.Raw)), val("updated_at", stamp),
	}
}

// applyParts returns the statements of w, numbered in one sequence, and
// their arguments.
//
// With dry set, only the arguments are built: the statements of a write's
// shape are built once and kept (see applyPlan).
func (s *Store) applyParts(w *provider.ApplyWrite, dry bool) ([]applyPart, []any) {
	stamp := now()
	var parts []applyPart
	shared := sqlBuilder{dry: dry, args: make([]any, 0, 64)}
	add := func(name string, role partRole, build func(q *sqlBuilder)) {
		q := sqlBuilder{dry: dry, args: shared.args}
		build(&q)
		shared.args = q.args
		if !dry {
			parts = append(parts, applyPart{name: name, sql: q.b.String(), role: role})
		}
	}
	if c := w.Claim; c != nil {
		add("ev", partClaim, func(q *sqlBuilder) {
			insertRows(q, "paylink_events", []col{val("event_id", c.String()), val("provider", c.Provider), val("payment_id", c.PaymentID),
				val("status", eventStatus(*c)), val("payload", nilIfEmpty(w.Event)), val("created_at", stamp)})
			q.WriteString(" ON CONFLICT DO NOTHING")
		})
	}
	if p := w.Payment; p != nil {
		add("pay", partGuarded, func(q *sqlBuilder) {
			if w.PreviousStatus == "" {
				key := []col{val("provider", p.Provider), val("payment_id", p.ID), val("recorded_at", stamp)}
				insertRows(q, "paylink_payments", append(key, paymentCols(p, stamp)...))
				q.WriteString(" ON CONFLICT (provider, payment_id) DO NOTHING")
				return
			}
			updateRow(q, "paylink_payments", paymentCols(p, stamp), []col{val("provider", p.Provider), val("payment_id", p.ID),
				val("status", string(w.PreviousStatus)), val("refunded_amount", w.PreviousRefunded)})
		})
	}
	if c := w.StatusChange; c != nil {
		add("sc", partPlain, func(q *sqlBuilder) {
			at := c.At
			if at.IsZero() {
				at = stamp
			}
			insertRows(q, "paylink_status_changes", []col{val("provider", c.Provider), val("payment_id", c.PaymentID),
				val("from_status", string(c.From)), val("to_status", string(c.To)), val("refunded", c.Refunded),
				val("source", string(c.Source)), val("at", utc(at))})
		})
	}
	if w.LinkStatus != "" && w.Payment != nil {
		add("lk", partPlain, func(q *sqlBuilder) {
			at := w.LinkUpdatedAt
			if at.IsZero() {
				at = stamp
			}
			updateRow(q, "paylink_links", []col{val("status", string(w.LinkStatus)), val("updated_at", utc(at))},
				[]col{val("provider", w.Payment.Provider), val("link_id", w.Payment.LinkID)})
		})
	}
	if len(w.HookRuns) > 0 {
		add("hr", partHookRuns, func(q *sqlBuilder) {
			attempts := 0
			if w.HookLease != "" {
				attempts = 1 // leased now: the first attempt, as a claim counts it
			}
			rows := make([][]col, len(w.HookRuns))
			for i, r := range w.HookRuns {
				rows[i] = []col{val("event_id", r.EventID), val("provider", r.Provider), val("payment_id", r.PaymentID),
					val("hook", r.Hook), val("state", string(provider.HookRunPending)), val("attempts", attempts),
					val("last_error", ""), val("idempotency_key", r.IdempotencyKey), val("lease_token", w.HookLease),
					// Due at once on the queue's clock (see queue.go).
					{name: "next_at", sql: s.storeNow},
					val("created_at", stamp), val("updated_at", stamp)}
				if w.HookLease != "" {
					rows[i] = append(rows[i], col{name: "lease_until", sql: func(q *sqlBuilder) string { return s.storeNowPlus(q, w.HookLeaseFor) }})
				}
			}
			insertRows(q, "paylink_hook_runs", rows...)
			q.WriteString(" ON CONFLICT (event_id, hook) DO NOTHING")
		})
	}
	if c := w.Callback; c != nil {
		if c.ReceivedAt.IsZero() {
			c.ReceivedAt = stamp
		}
		add("cb", partCallback, func(q *sqlBuilder) {
			insertRows(q, "paylink_callbacks", []col{val("provider", c.Provider), val("payment_id", c.PaymentID),
				val("link_id", c.LinkID), val("status", string(c.Status)), val("amount", c.Amount.Amount),
				val("currency", string(c.Amount.Currency)), val("body", nilIfEmpty(c.Body)),
				val("verdict", string(c.Verdict)), val("received_at", utc(c.ReceivedAt))})
		})
	}
	return parts, shared.args
}

// applyShape is what decides the statements of a write; writes of one
// shape differ only in their arguments.
type applyShape struct {
	claim, payment, update, change, link, callback, leased bool
	hooks                                                  int
}

func shapeOf(w *provider.ApplyWrite) applyShape {
	return applyShape{
		claim: w.Claim != nil, payment: w.Payment != nil, update: w.Payment != nil && w.PreviousStatus != "",
		change: w.StatusChange != nil, link: w.LinkStatus != "" && w.Payment != nil,
		callback: w.Callback != nil, hooks: len(w.HookRuns), leased: w.HookLease != "" && len(w.HookRuns) > 0,
	}
}

// applyPlan is the statements of one shape, built once: the parts, the
// PostgreSQL statement, and for SQLite each part's statement with the
// range of the arguments it takes.
type applyPlan struct {
	parts                []applyPart
	leased               bool // the hook runs are inserted leased: their ids are read back
	postgres             string
	sqlite               []string
	sqliteFrom, sqliteTo []int
}

// planCache keeps the plans by shape.
type planCache struct {
	mu    sync.Mutex
	plans map[applyShape]*applyPlan
}

// plan returns the statements for w's shape, building them the first
// time, and w's arguments; nil when w writes nothing.
func (s *Store) plan(w *provider.ApplyWrite) (*applyPlan, []any) {
	shape := shapeOf(w)
	s.plans.mu.Lock()
	p, ok := s.plans.plans[shape]
	s.plans.mu.Unlock()
	if ok {
		_, args := s.applyParts(w, true)
		return p, args
	}
	parts, args := s.applyParts(w, false)
	if len(parts) == 0 {
		return nil, nil
	}
	p = &applyPlan{parts: parts, leased: shape.leased, postgres: postgresSQL(parts, shape.leased)}
	for _, part := range parts {
		// Each part's placeholders are consecutive and in order.
		q, order := rebind(dialectSQLite, part.sql, argIndexes(len(args)))
		from, to := 0, 0
		if len(order) > 0 {
			from, to = order[0].(int), order[len(order)-1].(int)+1
		}
		p.sqlite, p.sqliteFrom, p.sqliteTo = append(p.sqlite, q), append(p.sqliteFrom, from), append(p.sqliteTo, to)
	}
	s.plans.mu.Lock()
	if s.plans.plans == nil {
		s.plans.plans = make(map[applyShape]*applyPlan)
	}
	s.plans.plans[shape] = p
	s.plans.mu.Unlock()
	return p, args
}

// argIndexes returns 0..n-1 as arguments, to learn which argument each
// placeholder takes.
func argIndexes(n int) []any {
	idx := make([]any, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// Apply writes w atomically (see provider.Store). On PostgreSQL it is one
// statement: every write a CTE, and a final check that raises (rolling
// the statement back) when the claim or the payment's precondition did
// not hold. On SQLite it is one immediate transaction.
func (s *Store) Apply(ctx context.Context, w *provider.ApplyWrite) error {
	if w == nil {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore.Apply", "nil write")
	}
	plan, args := s.plan(w)
	if plan == nil {
		return nil
	}
	var (
		id   int64
		runs map[string]int64 // hook -> id of the run inserted leased
		err  error
	)
	if s.dialect == dialectPostgres {
		id, runs, err = s.applyPostgres(ctx, plan, args)
	} else {
		id, runs, err = s.applySQLite(ctx, plan, args, w)
	}
	if err != nil {
		return err
	}
	if w.Callback != nil {
		w.Callback.ID = id
	}
	for i := range w.HookRuns {
		w.HookRuns[i].ID = runs[w.HookRuns[i].Hook]
	}
	return nil
}

// postgresSQL joins parts into the one statement Apply runs on
// PostgreSQL: each part a CTE, and a final CASE that raises, rolling the
// statement back, unless every must-write part wrote its row.
func postgresSQL(parts []applyPart, leased bool) string {
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
		case p.role == partCallback:
			q.WriteString(" RETURNING id)")
			cbID = "(SELECT id FROM " + p.name + ")"
		case p.role == partHookRuns && leased:
			q.WriteString(" RETURNING id, hook)")
		case p.role.mustWrite():
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
	if leased {
		q.WriteString(", (SELECT array_agg(id) FROM hr), (SELECT array_agg(hook) FROM hr)")
	}
	return q.String()
}

func (s *Store) applyPostgres(ctx context.Context, plan *applyPlan, args []any) (int64, map[string]int64, error) {
	query := plan.postgres
	var id int64
	if !plan.leased {
		err := s.pgxRow(ctx, query, args, []any{&id})
		return id, nil, s.applyErr(err)
	}
	var ids []int64
	var hooks []string
	if err := s.pgxRow(ctx, query, args, []any{&id, &ids, &hooks}); err != nil {
		return 0, nil, s.applyErr(err)
	}
	runs := make(map[string]int64, len(ids))
	for i := range ids {
		if i < len(hooks) {
			runs[hooks[i]] = ids[i]
		}
	}
	return id, runs, nil
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

// sqliteWrite is one write waiting for a group commit: an Apply (its
// statements below), or the hook queue's own work (do).
type sqliteWrite struct {
	ctx     context.Context
	do      func(ctx context.Context, tx *sql.Tx) error
	queries []string
	args    [][]any
	musts   []bool
	cbIndex int    // the callback's part, -1 without one
	claimID string // the event claimed by the first part, if any
	// leaseEvent and leaseToken, set for hook runs inserted leased, read
	// their ids back into runs (hook -> id).
	leaseEvent, leaseToken string
	runs                   map[string]int64
	id                     int64
	err                    error
	done                   chan struct{}
}

// groupCommit gathers the Applies of concurrent callbacks on SQLite and
// commits them together: the first to arrive writes everything queued so
// far in one transaction, each write under a savepoint of its own, while
// the next ones queue for the following transaction. SQLite has one
// writer, so the writes would wait for each other anyway; together they
// share one commit (the journal write and, with synchronous=FULL, its
// fsync) instead of paying one each. No goroutine is started: the writer
// is whichever caller found nobody writing.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*sqliteWrite
	writing bool
}

// maxGroup bounds the writes committed together.
const maxGroup = 64

func (s *Store) applySQLite(ctx context.Context, plan *applyPlan, allArgs []any, aw *provider.ApplyWrite) (int64, map[string]int64, error) {
	n := len(plan.parts)
	w := &sqliteWrite{ctx: ctx, cbIndex: -1, done: make(chan struct{}),
		queries: plan.sqlite, args: make([][]any, n), musts: make([]bool, n)}
	for i, p := range plan.parts {
		w.args[i] = allArgs[plan.sqliteFrom[i]:plan.sqliteTo[i]]
		w.musts[i] = p.role.mustWrite()
		if p.role == partCallback {
			w.cbIndex = i
		}
		if p.role == partClaim && i == 0 {
			w.claimID = w.args[i][0].(string)
		}
	}
	if plan.leased {
		w.leaseEvent, w.leaseToken = aw.HookRuns[0].EventID, aw.HookLease
	}
	w.do = func(ctx context.Context, tx *sql.Tx) error { return s.writeParts(ctx, tx, w) }
	err := s.group.write(ctx, s, w)
	return w.id, w.runs, err
}

// inGroup runs do in a transaction shared with concurrent writes (see
// groupCommit). do may run twice (the second time alone) when the shared
// transaction failed because of another write.
func (s *Store) inGroup(ctx context.Context, op string, do func(ctx context.Context, tx *sql.Tx) error) error {
	err := s.group.write(ctx, s, &sqliteWrite{ctx: ctx, do: do, cbIndex: -1, done: make(chan struct{})})
	return s.wrap(op, err)
}

// write queues w and returns once it is committed or refused: the caller
// that finds nobody writing writes everything queued, in batches.
func (g *groupCommit) write(ctx context.Context, s *Store, w *sqliteWrite) error {
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.writing {
		g.mu.Unlock()
		select {
		case <-w.done:
			return w.err
		case <-ctx.Done():
			// The write may still be committed by the writer; the caller
			// answers with an error and the provider's retry is then a
			// duplicate, which is safe.
			return s.wrap("Apply", ctx.Err())
		}
	}
	g.writing = true
	g.mu.Unlock()
	for {
		g.mu.Lock()
		batch := g.queue[:min(len(g.queue), maxGroup)]
		g.queue = g.queue[len(batch):]
		if len(batch) == 0 {
			g.writing = false
			g.mu.Unlock()
			break
		}
		g.mu.Unlock()
		s.commitGroup(batch)
	}
	<-w.done
	return w.err
}

// commitGroup writes batch in one transaction and tells each write how it
// ended. A write refused by its precondition is undone alone (see
// writeParts). Any other failure rolls the transaction back and the
// writes are tried again one transaction each, so a failing write fails
// alone.
func (s *Store) commitGroup(batch []*sqliteWrite) {
	// The transaction outlives any one caller's context.
	ctx := context.WithoutCancel(batch[0].ctx)
	if err := s.writeBatch(ctx, batch); err != nil {
		if len(batch) == 1 {
			batch[0].err, batch[0].id = err, 0
		} else {
			for _, w := range batch {
				w.err, w.id = nil, 0
				if err := s.writeBatch(ctx, []*sqliteWrite{w}); err != nil {
					w.err, w.id = err, 0
				}
			}
		}
	}
	for _, w := range batch {
		close(w.done)
	}
}

// writeBatch writes batch in one transaction. Refused writes get
// ErrWriteConflict and leave nothing behind; any other error rolls the
// whole transaction back and is returned.
func (s *Store) writeBatch(ctx context.Context, batch []*sqliteWrite) error {
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("Apply", err)
	}
	for _, w := range batch {
		w.err = w.do(ctx, tx)
		if w.err != nil && !errors.Is(w.err, provider.ErrWriteConflict) {
			_ = tx.Rollback()
			return w.err
		}
	}
	if len(batch) == 1 && batch[0].err != nil {
		_ = tx.Rollback()
		return nil
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("Apply", err)
	}
	return nil
}

// writeUnderSavepoint writes w inside tx so that a refusal or an error
// undoes w alone.
func (s *Store) writeUnderSavepoint(ctx context.Context, tx *sql.Tx, w *sqliteWrite) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT paylink_apply"); err != nil {
		return s.wrap("Apply", err)
	}
	err := s.writeParts(ctx, tx, w)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT paylink_apply"); rerr != nil {
			return s.wrap("Apply", rerr)
		}
	}
	if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT paylink_apply"); rerr != nil && err == nil {
		return s.wrap("Apply", rerr)
	}
	return err
}

// writeParts runs w's statements on tx. The ones that may be refused
// come first (the claim, then the payment), so a refusal has written at
// most the claim, which it deletes again: a refused write leaves nothing
// behind without a savepoint.
func (s *Store) writeParts(ctx context.Context, tx *sql.Tx, w *sqliteWrite) error {
	claimed := false
	for i, q := range w.queries {
		res, err := tx.ExecContext(ctx, q, w.args[i]...)
		if err != nil {
			return s.wrap("Apply", err)
		}
		if w.musts[i] {
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				if claimed {
					if _, err := tx.ExecContext(ctx, "DELETE FROM paylink_events WHERE event_id = ?", w.claimID); err != nil {
						return s.wrap("Apply", err)
					}
				}
				return fmt.Errorf("gormstore.Apply: %w", provider.ErrWriteConflict)
			}
			claimed = claimed || w.claimID != "" && i == 0
		}
		if i == w.cbIndex {
			if w.id, err = res.LastInsertId(); err != nil {
				return s.wrap("Apply", err)
			}
		}
	}
	if w.leaseToken != "" {
		return s.readLeasedRuns(ctx, tx, w)
	}
	return nil
}

// readLeasedRuns reads the ids of the hook runs w inserted leased, in its
// transaction.
func (s *Store) readLeasedRuns(ctx context.Context, tx *sql.Tx, w *sqliteWrite) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, hook FROM paylink_hook_runs WHERE event_id = ? AND lease_token = ?", w.leaseEvent, w.leaseToken)
	if err != nil {
		return s.wrap("Apply", err)
	}
	defer rows.Close()
	w.runs = map[string]int64{}
	for rows.Next() {
		var id int64
		var hook string
		if err := rows.Scan(&id, &hook); err != nil {
			return s.wrap("Apply", err)
		}
		w.runs[hook] = id
	}
	return s.wrap("Apply", rows.Err())
}

// eventStatus is the status column of an event row: the status, with
// the amount returned of a partial refund or chargeback, plus the verdict
// of a flagged event, so a flagged claim never blocks the claim of the
// same status once the event can be applied (see
// provider.EventKey.ParseStatusKey, which reads it back).
func eventStatus(k provider.EventKey) string {
	if k.Flag == "" {
		return k.StatusKey()
	}
	return k.StatusKey() + "!" + string(k.Flag)
}

func nullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
