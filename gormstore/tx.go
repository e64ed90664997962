package gormstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paylinkgo/paylink/provider"
)

// storeTx is a provider.Tx inside one GORM transaction.
type storeTx struct {
	s  *Store
	db *gorm.DB
}

func (t *storeTx) conn(ctx context.Context) *gorm.DB { return t.db.WithContext(ctx) }

// GetLinkForUpdate reads a link and, on PostgreSQL, locks its row until the
// transaction ends.
func (t *storeTx) GetLinkForUpdate(ctx context.Context, providerName, linkID string) (*provider.Link, error) {
	return t.s.getLink(t.conn(ctx), "GetLinkForUpdate", providerName, linkID, true)
}

// GetPaymentForUpdate reads a payment and, on PostgreSQL, locks its row
// until the transaction ends.
func (t *storeTx) GetPaymentForUpdate(ctx context.Context, providerName, paymentID string) (*provider.Payment, error) {
	return t.s.getPayment(t.conn(ctx), "GetPaymentForUpdate", providerName, paymentID, true)
}

// PutLink inserts a link, or replaces every field of the stored link with
// the same (Provider, ID) except CreatedAt when link.CreatedAt is zero and
// the reconciliation time. It sets link.CreatedAt (when zero) and
// link.UpdatedAt to what it stored. An IdempotencyKey used by another link
// is CodeConflict.
func (t *storeTx) PutLink(ctx context.Context, link *provider.Link) error {
	const op = "PutLink"
	if link == nil || link.Provider == "" || link.ID == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "link needs a provider and an id")
	}
	db := t.conn(ctx)
	rec := linkToRecord(link)
	if rec.IdempotencyKey != nil {
		var n int64
		err := db.Model(&LinkRecord{}).
			Where("idempotency_key = ? AND NOT (provider = ? AND link_id = ?)", *rec.IdempotencyKey, rec.Provider, rec.LinkID).
			Count(&n).Error
		if err != nil {
			return t.s.wrap(op, err)
		}
		if n > 0 {
			return provider.Errorf(provider.CodeConflict, "gormstore."+op, "idempotency key already used by another link")
		}
	}
	stamp := now()
	rec.UpdatedAt = stamp
	existing, found, err := t.findLink(db, rec.Provider, rec.LinkID)
	if err != nil {
		return t.s.wrap(op, err)
	}
	if !found {
		if rec.CreatedAt.IsZero() {
			rec.CreatedAt = stamp
		}
		res := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "provider"}, {Name: "link_id"}},
			DoNothing: true,
		}).Create(&rec)
		if res.Error != nil {
			return t.s.wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			link.CreatedAt, link.UpdatedAt = rec.CreatedAt, rec.UpdatedAt
			return nil
		}
		// A concurrent transaction inserted the link first: update it.
		if existing, found, err = t.findLink(db, rec.Provider, rec.LinkID); err != nil {
			return t.s.wrap(op, err)
		} else if !found {
			return provider.Errorf(provider.CodeConflict, "gormstore."+op, "link changed concurrently")
		}
	}
	rec.ID = existing.ID
	rec.LastReconciledAt = existing.LastReconciledAt
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = existing.CreatedAt
	}
	if err := db.Select("*").Updates(&rec).Error; err != nil {
		return t.s.wrap(op, err)
	}
	link.CreatedAt, link.UpdatedAt = rec.CreatedAt.UTC(), rec.UpdatedAt
	return nil
}

func (t *storeTx) findLink(db *gorm.DB, providerName, linkID string) (LinkRecord, bool, error) {
	var rec LinkRecord
	res := db.Where("provider = ? AND link_id = ?", providerName, linkID).Limit(1).Find(&rec)
	return rec, res.RowsAffected > 0, res.Error
}

// PutPayment inserts or updates a payment keyed by (Provider, ID), and sets
// p.UpdatedAt to what it stored.
func (t *storeTx) PutPayment(ctx context.Context, p *provider.Payment) error {
	const op = "PutPayment"
	if p == nil || p.Provider == "" || p.ID == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "payment needs a provider and an id")
	}
	db := t.conn(ctx)
	rec := paymentToRecord(p)
	stamp := now()
	rec.UpdatedAt, rec.RecordedAt = stamp, stamp
	var existing PaymentRecord
	res := db.Where("provider = ? AND payment_id = ?", rec.Provider, rec.PaymentID).Limit(1).Find(&existing)
	if res.Error != nil {
		return t.s.wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		res = db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "provider"}, {Name: "payment_id"}},
			DoNothing: true,
		}).Create(&rec)
		if res.Error != nil {
			return t.s.wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			p.UpdatedAt = stamp
			return nil
		}
		res = db.Where("provider = ? AND payment_id = ?", rec.Provider, rec.PaymentID).Limit(1).Find(&existing)
		if res.Error != nil {
			return t.s.wrap(op, res.Error)
		}
	}
	rec.ID, rec.RecordedAt = existing.ID, existing.RecordedAt
	if err := db.Select("*").Updates(&rec).Error; err != nil {
		return t.s.wrap(op, err)
	}
	p.UpdatedAt = stamp
	return nil
}

// RecordCallback stores one received callback and sets rec.ID (and
// rec.ReceivedAt, when zero).
func (t *storeTx) RecordCallback(ctx context.Context, rec *provider.CallbackRecord) error {
	if rec == nil {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore.RecordCallback", "nil record")
	}
	if rec.ReceivedAt.IsZero() {
		rec.ReceivedAt = now()
	}
	row := CallbackRecord{
		Provider: rec.Provider, PaymentID: rec.PaymentID, LinkID: rec.LinkID,
		Status: string(rec.Status), Amount: rec.Amount.Amount, Currency: string(rec.Amount.Currency),
		Body: rec.Body, Verdict: string(rec.Verdict), ReceivedAt: utc(rec.ReceivedAt),
	}
	if err := t.conn(ctx).Create(&row).Error; err != nil {
		return t.s.wrap("RecordCallback", err)
	}
	rec.ID = row.ID
	return nil
}

// ClaimEvent inserts the event's unique row. On PostgreSQL a concurrent
// claim of the same key waits for the first transaction to end: it gets
// false if that one committed, true if it rolled back.
func (t *storeTx) ClaimEvent(ctx context.Context, key provider.EventKey) (bool, error) {
	rec := EventRecord{
		EventID: key.String(), Provider: key.Provider, PaymentID: key.PaymentID,
		Status: eventStatus(key.Status, key.Flag), CreatedAt: now(),
	}
	res := t.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rec)
	if res.Error != nil {
		return false, t.s.wrap("ClaimEvent", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// AddStatusChange appends to a payment's status history.
func (t *storeTx) AddStatusChange(ctx context.Context, c provider.StatusChange) error {
	if c.At.IsZero() {
		c.At = now()
	}
	rec := StatusChangeRecord{
		Provider: c.Provider, PaymentID: c.PaymentID,
		FromStatus: string(c.From), ToStatus: string(c.To), Source: string(c.Source), At: utc(c.At),
	}
	if err := t.conn(ctx).Create(&rec).Error; err != nil {
		return t.s.wrap("AddStatusChange", err)
	}
	return nil
}

// EnqueueHooks stores ev as the event's payload, creates one run per hook
// (a run that already exists for the event and hook is left alone) and
// inserts one River job per new run on this transaction's *sql.Tx, so the
// jobs exist if and only if the transaction commits.
func (t *storeTx) EnqueueHooks(ctx context.Context, ev provider.HookEvent, hooks []string) error {
	const op = "EnqueueHooks"
	if len(hooks) == 0 {
		return nil
	}
	if ev.ID == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "hook event has no id")
	}
	sqlTx, ok := sqlTxOf(t.db)
	if !ok {
		return provider.Errorf(provider.CodeInternal, "gormstore."+op, "no *sql.Tx inside the GORM transaction")
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "encode hook event: %w", err)
	}
	db := t.conn(ctx)
	stamp := now()
	evRec := EventRecord{
		EventID: ev.ID, Provider: eventProvider(ev), PaymentID: ev.Payment.ID,
		Status: eventStatus(ev.Status, ev.Verdict), Payload: payload, CreatedAt: stamp,
	}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&evRec)
	if res.Error != nil {
		return t.s.wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		res = db.Model(&EventRecord{}).Where("event_id = ?", ev.ID).Update("payload", payload)
		if res.Error != nil {
			return t.s.wrap(op, res.Error)
		}
		if res.RowsAffected == 0 {
			return provider.Errorf(provider.CodeConflict, "gormstore."+op,
				"event %q: its payment and status were claimed under another event id", ev.ID)
		}
	}

	var jobs []river.InsertManyParams
	seen := make(map[string]bool, len(hooks))
	for _, hook := range hooks {
		if hook == "" || seen[hook] {
			continue
		}
		seen[hook] = true
		run := HookRunRecord{
			EventID: ev.ID, Hook: hook, State: string(provider.HookRunPending),
			IdempotencyKey: idempotencyKey(ev.ID, hook), CreatedAt: stamp, UpdatedAt: stamp,
		}
		res := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "event_id"}, {Name: "hook"}},
			DoNothing: true,
		}).Create(&run)
		if res.Error != nil {
			return t.s.wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			jobs = append(jobs, t.s.jobParams(run.ID))
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	if _, err := t.s.inserter.InsertManyTx(ctx, sqlTx, jobs); err != nil {
		return t.s.wrap(op, err)
	}
	if err := t.s.notifyInsert(ctx, sqlTx); err != nil {
		return t.s.wrap(op, err)
	}
	return nil
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

func eventProvider(ev provider.HookEvent) string {
	if ev.Payment.Provider != "" {
		return ev.Payment.Provider
	}
	return ev.Link.Provider
}

// idempotencyKey is stable for one event and hook in every process: the
// hex SHA-256 of both, prefixed so it reads as a paylink key.
func idempotencyKey(eventID, hook string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + hook))
	return "paylink_" + hex.EncodeToString(sum[:])
}
