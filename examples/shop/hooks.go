package main

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paylinkgo/paylink/provider"
)

// The names of the shop's hooks. They identify hook runs in the database:
// keep them stable across deploys.
const (
	hookMarkPaid      = "shop.mark-paid"
	hookMarkCancelled = "shop.mark-cancelled"
	hookMarkFailed    = "shop.mark-failed"
)

// registerHooks registers the shop's payment hooks on svc. Call it before
// svc.Start.
func (s *shop) registerHooks(svc *provider.Service) error {
	return errors.Join(
		svc.On(hookMarkPaid, provider.When(provider.PaymentSuccessful), s.markPaid),
		svc.On(hookMarkCancelled, provider.When(provider.PaymentCancelled), s.markCancelled),
		svc.On(hookMarkFailed, provider.When(provider.PaymentFailed), s.markFailed),
	)
}

// errUnknownOrder is returned by a hook whose order does not exist (yet).
// The hook is retried, and a run that keeps failing is visible as FAILED.
var errUnknownOrder = errors.New("shop: no order for this payment link")

// markPaid marks the order PAID and sends one receipt, in one transaction.
// The receipt row is keyed by the hook run's idempotency key and inserted
// with ON CONFLICT DO NOTHING, so a retried run (after a crash between the
// commit and the run being marked succeeded) never sends a second one.
func (s *shop) markPaid(ctx context.Context, ev *provider.HookEvent) error {
	id, ok := s.orderOf(ctx, ev)
	if !ok {
		return nil
	}
	paidAt := ev.Payment.CompletedAt
	if paidAt.IsZero() {
		paidAt = ev.OccurredAt
	}
	if paidAt.IsZero() {
		paidAt = s.now()
	}
	paidAt = paidAt.UTC()
	var sent bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Order{}).Where("id = ?", id).Updates(map[string]any{
			"status":     OrderPaid,
			"paid_at":    gorm.Expr("COALESCE(paid_at, ?)", paidAt),
			"updated_at": s.now(),
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("%w (order %d, link %s)", errUnknownOrder, id, ev.Link.ID)
		}
		res = tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "idempotency_key"}}, DoNothing: true}).
			Create(&Receipt{OrderID: id, IdempotencyKey: ev.IdempotencyKey, CreatedAt: s.now()})
		sent = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return err
	}
	if sent {
		// A real shop would enqueue the e-mail here, keyed by the same
		// idempotency key, so that the mail provider dedupes too.
		s.log.InfoContext(ctx, "shop: order paid, receipt sent", "order", id, "payment", ev.Payment.ID, "attempt", ev.Attempt)
	} else {
		s.log.InfoContext(ctx, "shop: order paid, receipt already sent", "order", id, "payment", ev.Payment.ID, "attempt", ev.Attempt)
	}
	return nil
}

// markCancelled marks the order CANCELLED (the link expired), unless it is
// already PAID.
func (s *shop) markCancelled(ctx context.Context, ev *provider.HookEvent) error {
	return s.markUnpaid(ctx, ev, OrderCancelled)
}

// markFailed marks the order FAILED, unless it is already PAID.
func (s *shop) markFailed(ctx context.Context, ev *provider.HookEvent) error {
	return s.markUnpaid(ctx, ev, OrderFailed)
}

// markUnpaid moves an unpaid order to status. A PAID order never changes:
// the condition is in the UPDATE itself, so a cancellation racing the
// payment hook cannot overwrite it.
func (s *shop) markUnpaid(ctx context.Context, ev *provider.HookEvent, status OrderStatus) error {
	id, ok := s.orderOf(ctx, ev)
	if !ok {
		return nil
	}
	res := s.db.WithContext(ctx).Model(&Order{}).
		Where("id = ? AND status <> ?", id, OrderPaid).
		Updates(map[string]any{"status": status, "updated_at": s.now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.db.WithContext(ctx).Model(&Order{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w (order %d, link %s)", errUnknownOrder, id, ev.Link.ID)
		}
		s.log.InfoContext(ctx, "shop: order already paid, ignoring", "order", id, "status", status, "payment", ev.Payment.ID)
		return nil
	}
	s.log.InfoContext(ctx, "shop: order updated", "order", id, "status", status, "payment", ev.Payment.ID)
	return nil
}

// orderOf returns the id of the order a hook event's link was made for,
// from the link's idempotency key "order-<id>". Links the shop did not
// make (say, created in Flip's dashboard) are logged and skipped.
func (s *shop) orderOf(ctx context.Context, ev *provider.HookEvent) (int64, bool) {
	id, ok := orderIDFromKey(ev.Link.IdempotencyKey)
	if !ok {
		s.log.WarnContext(ctx, "shop: payment for a link that is not an order's, ignoring",
			"hook", ev.Hook, "link", ev.Link.ID, "payment", ev.Payment.ID, "status", ev.Status)
	}
	return id, ok
}
