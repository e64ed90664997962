package gormstore

import (
	"context"
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
