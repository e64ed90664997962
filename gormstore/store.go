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

	group *groupCommit // SQLite: concurrent Applies commit together
	plans *planCache   // Apply's statements by shape
}

var (
	_ provider.Store     = (*Store)(nil)
	_ provider.HookQueue = (*Store)(nil)
	_ provider.ActionLog = (*Store)(nil)
	_ provider.Reader    = (*Store)(nil)
	_ provider.Pruner    = (*Store)(nil)
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

// querier returns what raw statements run on: the pool.
func (s *Store) querier(context.Context) querier { return s.sqlDB }

// conn returns the handle a read or write should use.
func (s *Store) conn(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

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

// ListLinks returns the links f selects (see provider.Reader), in the
// reconciler's order. Links holding a payment in one of f.PaymentStatuses
// are selected through paylink_links_created_at and each is checked on
// paylink_payments_link.
func (s *Store) ListLinks(ctx context.Context, f provider.LinkFilter) ([]provider.Link, error) {
	q := s.conn(ctx).Where("provider = ?", f.Provider)
	if f.Active {
		q = q.Where("status = ?", string(provider.LinkActive))
	}
	if f.PaymentStatuses != nil {
		if len(f.PaymentStatuses) == 0 {
			return nil, nil
		}
		names := make([]string, len(f.PaymentStatuses))
		for i, st := range f.PaymentStatuses {
			names[i] = string(st)
		}
		q = q.Where("EXISTS (SELECT 1 FROM paylink_payments p WHERE p.provider = paylink_links.provider AND p.link_id = paylink_links.link_id AND p.status IN ?)", names)
	}
	return s.linksToReconcile(q, "ListLinks", f.Since, f.Limit)
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
	if f.ID != 0 {
		q = q.Where("id = ?", f.ID)
	}
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
