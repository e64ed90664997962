package gormstore

import (
	"context"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// ActionRecord is one operator action and its outcome (see
// provider.OperatorAction): the audit trail of provider.Service.Act. It is
// part of the ledger; Prune never deletes it. Each target column is indexed
// for the console's pages; an unset target is "" or 0.
type ActionRecord struct {
	ID         int64     `gorm:"primaryKey;autoIncrement"`
	Kind       string    `gorm:"size:32;not null"`
	Actor      string    `gorm:"size:200;not null;index:paylink_operator_actions_actor"`
	Provider   string    `gorm:"size:64;not null;index:paylink_operator_actions_payment,priority:1;index:paylink_operator_actions_link,priority:1"`
	CallbackID int64     `gorm:"column:callback_id;not null;index:paylink_operator_actions_callback"`
	PaymentID  string    `gorm:"column:payment_id;size:128;not null;index:paylink_operator_actions_payment,priority:2"`
	LinkID     string    `gorm:"column:link_id;size:128;not null;index:paylink_operator_actions_link,priority:2"`
	HookRunID  int64     `gorm:"column:hook_run_id;not null;index:paylink_operator_actions_hook_run"`
	Result     string    `gorm:"not null"`
	Error      string    `gorm:"not null"`
	At         time.Time `gorm:"not null;index:paylink_operator_actions_at"`
}

// TableName returns "paylink_operator_actions".
func (ActionRecord) TableName() string { return "paylink_operator_actions" }

// RecordAction implements provider.ActionLog.
func (s *Store) RecordAction(ctx context.Context, a *provider.OperatorAction) error {
	if a.Kind == "" || a.Actor == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore.RecordAction", "an action needs a kind and an actor")
	}
	rec := ActionRecord{
		Kind: string(a.Kind), Actor: provider.CleanText(a.Actor), Provider: provider.CleanText(a.Provider),
		CallbackID: a.CallbackID, PaymentID: provider.CleanText(a.PaymentID), LinkID: provider.CleanText(a.LinkID),
		HookRunID: a.HookRunID, Result: provider.CleanText(a.Result), Error: provider.CleanText(a.Error),
		At: a.At.UTC().Round(time.Microsecond),
	}
	if err := s.conn(ctx).Create(&rec).Error; err != nil {
		return s.wrap("RecordAction", err)
	}
	a.ID = rec.ID
	return nil
}

// ListActions implements provider.ActionLog: newest first.
func (s *Store) ListActions(ctx context.Context, f provider.ActionFilter) ([]provider.OperatorAction, error) {
	q := s.conn(ctx).Order("at DESC").Order("id DESC")
	for _, w := range []struct{ col, v string }{
		{"kind", string(f.Kind)}, {"actor", f.Actor}, {"provider", f.Provider},
		{"payment_id", f.PaymentID}, {"link_id", f.LinkID},
	} {
		if w.v != "" {
			q = q.Where(w.col+" = ?", w.v)
		}
	}
	if f.CallbackID != 0 {
		q = q.Where("callback_id = ?", f.CallbackID)
	}
	if len(f.CallbackIDs) > provider.MaxActionFilterIDs {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "gormstore.ListActions", "more than %d callback ids", provider.MaxActionFilterIDs)
	}
	if len(f.CallbackIDs) > 0 {
		q = q.Where("callback_id IN ?", f.CallbackIDs)
	}
	if f.HookRunID != 0 {
		q = q.Where("hook_run_id = ?", f.HookRunID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var recs []ActionRecord
	if err := q.Find(&recs).Error; err != nil {
		return nil, s.wrap("ListActions", err)
	}
	out := make([]provider.OperatorAction, len(recs))
	for i, r := range recs {
		out[i] = provider.OperatorAction{
			ID: r.ID, Kind: provider.ActionKind(r.Kind), Actor: r.Actor, Provider: r.Provider,
			CallbackID: r.CallbackID, PaymentID: r.PaymentID, LinkID: r.LinkID, HookRunID: r.HookRunID,
			Result: r.Result, Error: r.Error, At: r.At.UTC(),
		}
	}
	return out, nil
}
