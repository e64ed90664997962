package gormstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paylinkgo/paylink/provider"
)

// SaveLink writes w in one transaction (see provider.Store): on
// PostgreSQL the link's row is locked from the precondition's read to the
// commit, so of two writes decided on one read exactly one is written.
func (s *Store) SaveLink(ctx context.Context, w *provider.LinkWrite) error {
	const op = "SaveLink"
	if w == nil || w.Provider == "" || w.ID == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "a link write needs a provider and an id")
	}
	if w.Link != nil && (w.Link.Provider != w.Provider || w.Link.ID != w.ID) {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "the link is %s/%s, the write names %s/%s", w.Link.Provider, w.Link.ID, w.Provider, w.ID)
	}
	// A concurrent SaveLink of the same new link can commit between this
	// one's read and its insert; the insert then fails on a unique index
	// (the idempotency key's, on PostgreSQL, before the primary one's ON
	// CONFLICT sees the row). Once more sees the committed row and
	// updates it, or reports a key used by another link as CodeConflict.
	err := s.saveLink(ctx, w)
	if duplicateKey(err) {
		err = s.saveLink(ctx, w)
	}
	return err
}

func (s *Store) saveLink(ctx context.Context, w *provider.LinkWrite) error {
	const op = "SaveLink"
	var refused error
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		existing, found, err := findLink(s.dialect.lock(db), w.Provider, w.ID)
		if err != nil {
			return s.wrap(op, err)
		}
		if !w.PreviousUpdatedAt.IsZero() && (!found || !existing.UpdatedAt.Equal(utc(w.PreviousUpdatedAt))) {
			refused = fmt.Errorf("gormstore.%s: link %q: %w", op, w.ID, provider.ErrWriteConflict)
			return refused
		}
		stamp := now()
		if found && !stamp.After(existing.UpdatedAt) {
			stamp = existing.UpdatedAt.Add(time.Microsecond) // every write is a new version
		}
		if w.Link != nil {
			if err := s.putLink(db, w.Link, existing, found, stamp); err != nil {
				refused = err
				return err
			}
			found = true
		}
		if w.IntentKey != "" {
			if err := s.completeIntent(db, w.IntentKey, w.ID, stamp); err != nil {
				refused = err
				return err
			}
		}
		if !w.ReconciledAt.IsZero() {
			if !found {
				refused = notFound(op, "link")
				return refused
			}
			res := db.Model(&LinkRecord{}).Where("provider = ? AND link_id = ?", w.Provider, w.ID).
				Update("last_reconciled_at", utc(w.ReconciledAt))
			if res.Error != nil {
				return s.wrap(op, res.Error)
			}
		}
		return nil
	})
	if refused != nil {
		return refused
	}
	return s.wrap(op, err)
}

// putLink inserts a link, or replaces every field of the stored link
// existing (read by SaveLink, under its lock on PostgreSQL; found says
// whether there was one) except CreatedAt when link.CreatedAt is zero and
// the reconciliation time, stamped updated at stamp, on db, SaveLink's
// transaction. It sets link.CreatedAt (when zero) and link.UpdatedAt to
// what it stored. An IdempotencyKey used by another link is CodeConflict.
func (s *Store) putLink(db *gorm.DB, link *provider.Link, existing LinkRecord, found bool, stamp time.Time) error {
	const op = "SaveLink"
	rec := linkToRecord(link)
	if rec.IdempotencyKey != nil {
		var n int64
		err := db.Model(&LinkRecord{}).
			Where("idempotency_key = ? AND NOT (provider = ? AND link_id = ?)", *rec.IdempotencyKey, rec.Provider, rec.LinkID).
			Count(&n).Error
		if err != nil {
			return s.wrap(op, err)
		}
		if n > 0 {
			return provider.Errorf(provider.CodeConflict, "gormstore."+op, "idempotency key already used by another link")
		}
	}
	rec.UpdatedAt = stamp
	if !found {
		if rec.CreatedAt.IsZero() {
			rec.CreatedAt = stamp
		}
		res := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "provider"}, {Name: "link_id"}},
			DoNothing: true,
		}).Create(&rec)
		if res.Error != nil {
			return s.wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			link.CreatedAt, link.UpdatedAt = rec.CreatedAt, rec.UpdatedAt
			return nil
		}
		// A concurrent transaction inserted the link first: update it.
		var err error
		if existing, found, err = findLink(db, rec.Provider, rec.LinkID); err != nil {
			return s.wrap(op, err)
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
		return s.wrap(op, err)
	}
	link.CreatedAt, link.UpdatedAt = rec.CreatedAt.UTC(), rec.UpdatedAt
	return nil
}

func findLink(db *gorm.DB, providerName, linkID string) (LinkRecord, bool, error) {
	var rec LinkRecord
	res := db.Where("provider = ? AND link_id = ?", providerName, linkID).Limit(1).Find(&rec)
	return rec, res.RowsAffected > 0, res.Error
}
