package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paylinkgo/paylink/provider"
)

// Mail is one message to a customer.
type Mail struct {
	To, Subject, Body string
}

// Mailer sends mail. idempotencyKey lets the mail service drop a repeat
// (most mail APIs take one, as an Idempotency-Key header).
type Mailer interface {
	Send(ctx context.Context, idempotencyKey string, m Mail) error
}

// OutboxMail is one mail a hook decided to send, keyed by the hook run's
// idempotency key. SentAt is set once the mailer accepted it.
type OutboxMail struct {
	IdempotencyKey string     `gorm:"primaryKey;size:255" json:"idempotency_key"`
	To             string     `json:"to"`
	Subject        string     `json:"subject"`
	SentAt         *time.Time `json:"sent_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// AuditEvent is one payment status seen by the audit hook.
type AuditEvent struct {
	IdempotencyKey string    `gorm:"primaryKey;size:255" json:"idempotency_key"`
	EventID        string    `json:"event_id"`
	LinkID         string    `json:"link_id"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
}

// hooks holds what the app's hooks need.
type hooks struct {
	db     *gorm.DB
	mailer Mailer
}

// register adds the app's hooks to svc (before svc.Start).
func (h *hooks) register(svc *provider.Service) error {
	return errors.Join(
		svc.On("receipt-mailer", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
			return h.sendOnce(ctx, ev.IdempotencyKey, Mail{
				To:      customerEmail(ev),
				Subject: "Receipt: " + ev.Link.Title,
				Body:    fmt.Sprintf("We received %s (payment %s). Thank you!", ev.Payment.Amount, ev.Payment.ID),
			})
		}),
		svc.On("expiry-mailer", provider.When(provider.PaymentCancelled), func(ctx context.Context, ev *provider.HookEvent) error {
			return h.sendOnce(ctx, ev.IdempotencyKey, Mail{
				To:      customerEmail(ev),
				Subject: "Payment link expired: " + ev.Link.Title,
				Body:    "Your payment link expired before it was paid. Reply to get a new one.",
			})
		}),
		svc.On("audit", provider.When(), func(ctx context.Context, ev *provider.HookEvent) error {
			row := AuditEvent{IdempotencyKey: ev.IdempotencyKey, EventID: ev.ID, LinkID: ev.Link.ID, Status: string(ev.Status)}
			return h.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
		}),
	)
}

// sendOnce sends m at most once per key: the outbox row is inserted (or
// found) first, so a retry after a failed send sends again, and a retry
// after a successful one does nothing. An error makes paylink retry.
func (h *hooks) sendOnce(ctx context.Context, key string, m Mail) error {
	db := h.db.WithContext(ctx)
	row := OutboxMail{IdempotencyKey: key, To: m.To, Subject: m.Subject}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return err
	}
	if err := db.First(&row, "idempotency_key = ?", key).Error; err != nil {
		return err
	}
	if row.SentAt != nil {
		return nil // an earlier attempt sent it
	}
	if err := h.mailer.Send(ctx, key, m); err != nil {
		return fmt.Errorf("sending %q: %w", m.Subject, err)
	}
	return db.Model(&row).Update("sent_at", time.Now().UTC()).Error
}

// customerEmail is the payer's address, or the one the link was made for.
func customerEmail(ev *provider.HookEvent) string {
	if ev.Payment.Sender.Email != "" {
		return ev.Payment.Sender.Email
	}
	return ev.Link.Customer.Email
}

// flakyMailer stands in for a mail API: it refuses its first failures
// sends, then logs each mail as sent.
type flakyMailer struct {
	log      *slog.Logger
	mu       sync.Mutex
	failures int
}

// errMailerDown is the fake mailer's transient failure.
var errMailerDown = errors.New("mail service unavailable")

func (m *flakyMailer) Send(ctx context.Context, key string, mail Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures > 0 {
		m.failures--
		return errMailerDown
	}
	m.log.InfoContext(ctx, "mail sent", "to", mail.To, "subject", mail.Subject, "key", key)
	return nil
}
