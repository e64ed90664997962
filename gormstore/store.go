package gormstore

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is a provider.Store on GORM: PostgreSQL in production, SQLite as the
// embedded default. Create it with [New] after [Migrate]. A Store is safe
// for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	opts    Options
	dialect dialect
	// tx is set on stores returned by WithTx: every method runs in it.
	tx *gorm.DB

	group *groupCommit // SQLite: concurrent Applies commit together
	plans *planCache   // Apply's statements by shape
}

var (
	_ provider.Store         = (*Store)(nil)
	_ provider.HookQueue     = (*Store)(nil)
	_ provider.HookRunReader = (*Store)(nil)
	_ provider.ActionLog     = (*Store)(nil)
	_ provider.Tx            = (*storeTx)(nil)
)

// New returns a Store on db. It neither migrates (call [Migrate] first) nor
// starts goroutines. db must be a PostgreSQL (gorm.io/driver/postgres) or
// SQLite (github.com/glebarez/sqlite) database.
func New(db *gorm.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "gormstore.New", "nil *gorm.DB")
	}
	opts = opts.withDefaults()
	d, err := dialectOf(db)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "gormstore.New", "gorm has no *sql.DB: %w", err)
	}
	return &Store{db: db, sqlDB: sqlDB, opts: opts, dialect: d,
		group: &groupCommit{}, plans: &planCache{}}, nil
}

// DB returns the *gorm.DB the store was created with.
func (s *Store) DB() *gorm.DB { return s.db }

// WithTx returns a store whose every method runs in tx, the caller's own
// GORM transaction: InTx joins it without committing or rolling back, and
// hook runs queued through it exist only if the caller commits.
func (s *Store) WithTx(tx *gorm.DB) *Store {
	c := *s
	c.tx = tx
	return &c
}

type txKey struct{}

// ContextWithTx returns a context carrying tx, the caller's own GORM
// transaction. Store methods called with it (InTx included) run inside tx
// and never commit or roll it back:
//
//	db.Transaction(func(tx *gorm.DB) error {
//		// ... the app's own writes ...
//		return svc.ApplyEvent(gormstore.ContextWithTx(ctx, tx), ev)
//	})
func ContextWithTx(ctx context.Context, tx *gorm.DB) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// txFrom returns the transaction the store or ctx carries, if any.
func (s *Store) txFrom(ctx context.Context) *gorm.DB {
	if s.tx != nil {
		return s.tx
	}
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok && tx != nil {
		return tx
	}
	return nil
}

// joinedTx returns the *sql.Tx of the caller's transaction, if any.
func (s *Store) joinedTx(ctx context.Context) *sql.Tx {
	if tx := s.txFrom(ctx); tx != nil {
		if sqlTx, ok := sqlTxOf(tx); ok {
			return sqlTx
		}
	}
	return nil
}

// querier returns what raw statements run on: the caller's transaction if
// there is one, the pool otherwise.
func (s *Store) querier(ctx context.Context) querier {
	if tx := s.joinedTx(ctx); tx != nil {
		return tx
	}
	return s.sqlDB
}

// conn returns the handle a read or write should use: the joined
// transaction if there is one, the pool otherwise.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// InTx runs fn in one transaction. If ctx (or the store, see WithTx)
// carries the caller's transaction, fn joins it and InTx neither commits
// nor rolls back; otherwise InTx begins, commits when fn returns nil, and
// rolls back when it returns an error or panics. The ctx given to fn
// carries the transaction, so store methods called with it join it.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx provider.Tx) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		if _, ok := sqlTxOf(tx); !ok {
			return provider.Errorf(provider.CodeInvalidArgument, "gormstore.InTx",
				"the *gorm.DB given to ContextWithTx or WithTx is not inside a transaction")
		}
		return fn(ContextWithTx(ctx, tx), &storeTx{s: s, db: tx})
	}
	var fnErr error
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fnErr = fn(ContextWithTx(ctx, tx), &storeTx{s: s, db: tx})
		return fnErr
	})
	switch {
	case fnErr != nil:
		return fnErr // fn's own error, unchanged, after the rollback
	case err != nil:
		return s.wrap("InTx", err) // begin or commit failed
	}
	return nil
}

// GetLink reads a link by provider name and provider id.
func (s *Store) GetLink(ctx context.Context, providerName, linkID string) (*provider.Link, error) {
	return s.getLink(s.conn(ctx), "GetLink", providerName, linkID, false)
}

func (s *Store) getLink(db *gorm.DB, op, providerName, linkID string, forUpdate bool) (*provider.Link, error) {
	db = db.Where("provider = ? AND link_id = ?", providerName, linkID)
	if forUpdate {
		db = s.dialect.lock(db)
	}
	var rec LinkRecord
	res := db.Limit(1).Find(&rec)
	if res.Error != nil {
		return nil, s.wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, notFound(op, "link")
	}
	return linkFromRecord(&rec), nil
}

// GetLinkByIdempotencyKey reads the link created with key.
func (s *Store) GetLinkByIdempotencyKey(ctx context.Context, key string) (*provider.Link, error) {
	const op = "GetLinkByIdempotencyKey"
	if key == "" {
		return nil, notFound(op, "link")
	}
	var rec LinkRecord
	res := s.conn(ctx).Where("idempotency_key = ?", key).Limit(1).Find(&rec)
	if res.Error != nil {
		return nil, s.wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, notFound(op, "link")
	}
	return linkFromRecord(&rec), nil
}

// ListOpenLinks returns up to limit ACTIVE links of a provider created at
// or after since: links never reconciled first (oldest created first), then
// the least recently reconciled. A limit <= 0 means no limit.
func (s *Store) ListOpenLinks(ctx context.Context, providerName string, since time.Time, limit int) ([]provider.Link, error) {
	q := s.conn(ctx).Where("provider = ? AND status = ?", providerName, string(provider.LinkActive))
	return s.linksToReconcile(q, "ListOpenLinks", since, limit)
}

// ListLinksWithPayments returns up to limit links of a provider, created at
// or after since, with a payment in one of statuses, never-reconciled
// first, then the least recently reconciled. The links are selected through
// paylink_links_created_at; each is checked on paylink_payments_link.
func (s *Store) ListLinksWithPayments(ctx context.Context, providerName string, statuses []provider.PaymentStatus, since time.Time, limit int) ([]provider.Link, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	q := s.conn(ctx).Where("provider = ?", providerName).
		Where("EXISTS (SELECT 1 FROM paylink_payments p WHERE p.provider = paylink_links.provider AND p.link_id = paylink_links.link_id AND p.status IN ?)", names)
	return s.linksToReconcile(q, "ListLinksWithPayments", since, limit)
}

// linksToReconcile reads the links q selects that were created at or after
// since, in the reconciler's order, at most limit of them.
func (s *Store) linksToReconcile(q *gorm.DB, op string, since time.Time, limit int) ([]provider.Link, error) {
	q = q.Order("CASE WHEN last_reconciled_at IS NULL THEN 0 ELSE 1 END").
		Order("last_reconciled_at").Order("created_at").Order("id")
	if !since.IsZero() {
		q = q.Where("created_at >= ?", since.UTC())
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	var recs []LinkRecord
	if err := q.Find(&recs).Error; err != nil {
		return nil, s.wrap(op, err)
	}
	links := make([]provider.Link, len(recs))
	for i := range recs {
		links[i] = *linkFromRecord(&recs[i])
	}
	return links, nil
}

// MarkReconciled records that linkID was reconciled at at.
func (s *Store) MarkReconciled(ctx context.Context, providerName, linkID string, at time.Time) error {
	const op = "MarkReconciled"
	res := s.conn(ctx).Model(&LinkRecord{}).
		Where("provider = ? AND link_id = ?", providerName, linkID).
		Update("last_reconciled_at", at.UTC())
	if res.Error != nil {
		return s.wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound(op, "link")
	}
	return nil
}

// GetPayment reads a payment by provider name and provider id.
func (s *Store) GetPayment(ctx context.Context, providerName, paymentID string) (*provider.Payment, error) {
	return s.getPayment(s.conn(ctx), "GetPayment", providerName, paymentID, false)
}

func (s *Store) getPayment(db *gorm.DB, op, providerName, paymentID string, forUpdate bool) (*provider.Payment, error) {
	db = db.Where("provider = ? AND payment_id = ?", providerName, paymentID)
	if forUpdate {
		db = s.dialect.lock(db)
	}
	var rec PaymentRecord
	res := db.Limit(1).Find(&rec)
	if res.Error != nil {
		return nil, s.wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, notFound(op, "payment")
	}
	return paymentFromRecord(&rec), nil
}

// ListLinkPayments returns a link's payments, oldest first: by the
// provider's creation time (unknown first), then in the order the store
// first saw them.
func (s *Store) ListLinkPayments(ctx context.Context, providerName, linkID string) ([]provider.Payment, error) {
	var recs []PaymentRecord
	err := s.conn(ctx).Where("provider = ? AND link_id = ?", providerName, linkID).
		Order("CASE WHEN provider_created_at IS NULL THEN 0 ELSE 1 END").
		Order("provider_created_at").Order("id").Find(&recs).Error
	if err != nil {
		return nil, s.wrap("ListLinkPayments", err)
	}
	out := make([]provider.Payment, len(recs))
	for i := range recs {
		out[i] = *paymentFromRecord(&recs[i])
	}
	return out, nil
}

// ListStatusChanges returns a payment's status history, oldest first.
func (s *Store) ListStatusChanges(ctx context.Context, providerName, paymentID string) ([]provider.StatusChange, error) {
	var recs []StatusChangeRecord
	err := s.conn(ctx).Where("provider = ? AND payment_id = ?", providerName, paymentID).
		Order("at").Order("id").Find(&recs).Error
	if err != nil {
		return nil, s.wrap("ListStatusChanges", err)
	}
	out := make([]provider.StatusChange, len(recs))
	for i, r := range recs {
		out[i] = provider.StatusChange{
			Provider: r.Provider, PaymentID: r.PaymentID,
			From: provider.PaymentStatus(r.FromStatus), To: provider.PaymentStatus(r.ToStatus),
			Refunded: r.Refunded, Source: provider.Source(r.Source), At: r.At.UTC(),
		}
	}
	return out, nil
}

// ListCallbacks returns recorded callbacks, newest first.
func (s *Store) ListCallbacks(ctx context.Context, f provider.CallbackFilter) ([]provider.CallbackRecord, error) {
	q := s.conn(ctx).Order("received_at DESC").Order("id DESC")
	if f.Provider != "" {
		q = q.Where("provider = ?", f.Provider)
	}
	if f.PaymentID != "" {
		q = q.Where("payment_id = ?", f.PaymentID)
	}
	if f.LinkID != "" {
		q = q.Where("link_id = ?", f.LinkID)
	}
	if f.Flagged {
		q = q.Where("verdict IN ?", flaggedVerdicts())
	}
	if f.Verdict != "" {
		q = q.Where("verdict = ?", string(f.Verdict))
	}
	if f.BeforeID != 0 {
		// After the cursor in (received_at DESC, id DESC) order; nothing
		// when the cursor is not stored (the subqueries are NULL).
		const at = "(SELECT c.received_at FROM paylink_callbacks c WHERE c.id = ?)"
		q = q.Where("(received_at < "+at+" OR (received_at = "+at+" AND id < ?))", f.BeforeID, f.BeforeID, f.BeforeID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var recs []CallbackRecord
	if err := q.Find(&recs).Error; err != nil {
		return nil, s.wrap("ListCallbacks", err)
	}
	out := make([]provider.CallbackRecord, len(recs))
	for i := range recs {
		out[i] = callbackFromRecord(&recs[i])
	}
	return out, nil
}

// GetCallback reads one recorded callback by its ID.
func (s *Store) GetCallback(ctx context.Context, id int64) (*provider.CallbackRecord, error) {
	var rec CallbackRecord
	res := s.conn(ctx).Where("id = ?", id).Limit(1).Find(&rec)
	if res.Error != nil {
		return nil, s.wrap("GetCallback", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, notFound("GetCallback", "callback")
	}
	c := callbackFromRecord(&rec)
	return &c, nil
}

func callbackFromRecord(r *CallbackRecord) provider.CallbackRecord {
	return provider.CallbackRecord{
		ID: r.ID, Provider: r.Provider, PaymentID: r.PaymentID, LinkID: r.LinkID,
		Status: provider.PaymentStatus(r.Status),
		Amount: provider.Money{Amount: r.Amount, Currency: provider.Currency(r.Currency)},
		Body:   r.Body, Verdict: provider.Verdict(r.Verdict), ReceivedAt: r.ReceivedAt.UTC(),
	}
}

// flaggedVerdicts lists the verdicts for which Verdict.Flagged is true.
func flaggedVerdicts() []string {
	var out []string
	for _, v := range provider.Verdicts() {
		if v.Flagged() {
			out = append(out, string(v))
		}
	}
	return out
}

// now returns the current time in UTC, rounded to the microsecond that
// PostgreSQL stores, so a value read back equals the value written.
func now() time.Time { return time.Now().UTC().Round(time.Microsecond) }
