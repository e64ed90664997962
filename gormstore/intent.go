package gormstore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paylinkgo/paylink/provider"
)

// PutLinkIntent stores in unless an intent with its key is stored, and
// then returns that one (see provider.Store). The insert is one INSERT ...
// ON CONFLICT DO NOTHING on the unique key: of concurrent calls, the
// database lets exactly one through, and the others read its row.
func (s *Store) PutLinkIntent(ctx context.Context, in provider.LinkIntent) (*provider.LinkIntent, error) {
	const op = "PutLinkIntent"
	if in.Key == "" || in.Provider == "" || in.ParamsHash == "" {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "gormstore."+op, "an intent needs a key, a provider and a parameter hash")
	}
	db := s.conn(ctx)
	rec := intentToRecord(&in)
	// An intent deleted between the refused insert and the read frees the
	// key: insert again. Twice is plenty; a third miss is a key that is
	// being freed and taken in a tight loop.
	for range 3 {
		res := db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "idempotency_key"}},
			DoNothing: true,
		}).Create(&rec)
		if res.Error != nil {
			return nil, s.wrap(op, res.Error)
		}
		if res.RowsAffected == 1 {
			return nil, nil
		}
		got, found, err := findIntent(db, in.Key)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		if found {
			return intentFromRecord(&got), nil
		}
		rec.ID = 0
	}
	return nil, provider.Errorf(provider.CodeUnavailable, "gormstore."+op, "the intent with key %q changed concurrently; try again", in.Key)
}

// completeIntent records, on db (SaveLink's transaction), the link
// created for the intent with key.
func (s *Store) completeIntent(db *gorm.DB, key, linkID string, at time.Time) error {
	const op = "SaveLink"
	res := db.Model(&LinkIntentRecord{}).
		Where("idempotency_key = ? AND link_id IS NULL", key).
		Updates(map[string]any{"link_id": linkID, "completed_at": utc(at)})
	if res.Error != nil {
		return s.wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	got, found, err := findIntent(db, key)
	switch {
	case err != nil:
		return s.wrap(op, err)
	case !found:
		return notFound(op, "link intent")
	case got.LinkID != nil && *got.LinkID == linkID:
		return nil
	}
	return provider.Errorf(provider.CodeConflict, "gormstore."+op, "the intent with key %q was completed with another link", key)
}

// DeleteLinkIntent removes the pending intent with key (see
// provider.Store).
func (s *Store) DeleteLinkIntent(ctx context.Context, key string) error {
	const op = "DeleteLinkIntent"
	db := s.conn(ctx)
	res := db.Where("idempotency_key = ? AND link_id IS NULL", key).Delete(&LinkIntentRecord{})
	if res.Error != nil {
		return s.wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	_, found, err := findIntent(db, key)
	switch {
	case err != nil:
		return s.wrap(op, err)
	case found:
		return provider.Errorf(provider.CodeFailedPrecondition, "gormstore."+op, "the intent with key %q is completed", key)
	}
	return nil
}

func findIntent(db *gorm.DB, key string) (LinkIntentRecord, bool, error) {
	var rec LinkIntentRecord
	res := db.Where("idempotency_key = ?", key).Limit(1).Find(&rec)
	return rec, res.RowsAffected > 0, res.Error
}

func intentToRecord(in *provider.LinkIntent) LinkIntentRecord {
	rec := LinkIntentRecord{
		IdempotencyKey: in.Key, Provider: in.Provider, ParamsHash: in.ParamsHash,
		Title: in.Title, Type: string(in.Type),
		Amount: in.Amount.Amount, Currency: string(in.Amount.Currency),
		CreatedAt: utc(in.CreatedAt), CompletedAt: utcPtr(in.CompletedAt),
	}
	if in.LinkID != "" {
		id := in.LinkID
		rec.LinkID = &id
	}
	return rec
}

func intentFromRecord(r *LinkIntentRecord) *provider.LinkIntent {
	in := &provider.LinkIntent{
		Key: r.IdempotencyKey, Provider: r.Provider, ParamsHash: r.ParamsHash,
		Title: r.Title, Type: provider.LinkType(r.Type),
		Amount:    provider.Money{Amount: r.Amount, Currency: provider.Currency(r.Currency)},
		CreatedAt: r.CreatedAt.UTC(), CompletedAt: fromPtr(r.CompletedAt),
	}
	if r.LinkID != nil {
		in.LinkID = *r.LinkID
	}
	return in
}
