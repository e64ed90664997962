package provider

import (
	"context"
	"time"
)

// HookEvent is what a hook receives: one payment reaching one status.
type HookEvent struct {
	// ID is the event id, EventKey.String(): stable for the payment and status.
	ID string `json:"id"`
	// Status is the status the payment reached (for a flagged event: the
	// status it reported).
	Status PaymentStatus `json:"status"`
	// Verdict is set for a flagged event: why it was not applied.
	Verdict Verdict `json:"verdict,omitempty"`
	// Previous is the status before, empty for a payment first seen final.
	Previous PaymentStatus `json:"previous,omitempty"`
	// RefundedDelta is how much this event returned to the customer: the
	// growth of Payment.RefundedAmount (which is cumulative) since the
	// previous status. Zero for statuses that return nothing.
	RefundedDelta Money   `json:"refunded_delta,omitzero"`
	Payment       Payment `json:"payment"`
	Link          Link    `json:"link"`
	Source        Source  `json:"source"`
	// OccurredAt is when the library applied the transition.
	OccurredAt time.Time `json:"occurred_at"`
	// Trace identifies the trace of the request that caused the event (a
	// W3C traceparent), as the service's [Observer] gave it; empty
	// without one.
	Trace string `json:"trace,omitempty"`

	// Set for each call:

	// Hook is the registered name of the hook being called.
	Hook string `json:"-"`
	// IdempotencyKey is stable for this event and hook across retries,
	// restarts and replicas. Use it to make side effects idempotent.
	IdempotencyKey string `json:"-"`
	// Attempt is 1 on the first call, 2 on the first retry, and so on.
	Attempt int `json:"-"`
}

// SucceededHook runs when a payment becomes SUCCESSFUL.
type SucceededHook interface {
	PaymentSucceeded(ctx context.Context, ev *HookEvent) error
}

// SucceededHookFunc adapts a function to a SucceededHook.
type SucceededHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentSucceeded calls f.
func (f SucceededHookFunc) PaymentSucceeded(ctx context.Context, ev *HookEvent) error {
	return f(ctx, ev)
}

// CancelledHook runs when a payment becomes CANCELLED (expired).
type CancelledHook interface {
	PaymentCancelled(ctx context.Context, ev *HookEvent) error
}

// CancelledHookFunc adapts a function to a CancelledHook.
type CancelledHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentCancelled calls f.
func (f CancelledHookFunc) PaymentCancelled(ctx context.Context, ev *HookEvent) error {
	return f(ctx, ev)
}

// FailedHook runs when a payment becomes FAILED.
type FailedHook interface {
	PaymentFailed(ctx context.Context, ev *HookEvent) error
}

// FailedHookFunc adapts a function to a FailedHook.
type FailedHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentFailed calls f.
func (f FailedHookFunc) PaymentFailed(ctx context.Context, ev *HookEvent) error { return f(ctx, ev) }

// EventHook runs on every status a payment reaches, PENDING included.
type EventHook interface {
	PaymentEvent(ctx context.Context, ev *HookEvent) error
}

// EventHookFunc adapts a function to an EventHook.
type EventHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentEvent calls f.
func (f EventHookFunc) PaymentEvent(ctx context.Context, ev *HookEvent) error { return f(ctx, ev) }

// FlaggedHook runs when news about a payment is recorded but flagged instead
// of applied: an amount that differs from the link's (an underpayment, say),
// a link this store does not know, or a success the provider does not
// confirm. ev.Verdict says which; ev.Link is empty for an unknown link.
// It runs once per payment, status and verdict however often the provider
// repeats itself. Nothing was paid: this is for a human to look at.
type FlaggedHook interface {
	PaymentFlagged(ctx context.Context, ev *HookEvent) error
}

// FlaggedHookFunc adapts a function to a FlaggedHook.
type FlaggedHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentFlagged calls f.
func (f FlaggedHookFunc) PaymentFlagged(ctx context.Context, ev *HookEvent) error { return f(ctx, ev) }

// RefundedHook runs when money of a successful payment is refunded: once
// for each new cumulative amount of PARTIALLY_REFUNDED, and once for
// REFUNDED. ev.RefundedDelta is what this refund returned;
// ev.Payment.RefundedAmount what all of them did.
type RefundedHook interface {
	PaymentRefunded(ctx context.Context, ev *HookEvent) error
}

// RefundedHookFunc adapts a function to a RefundedHook.
type RefundedHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentRefunded calls f.
func (f RefundedHookFunc) PaymentRefunded(ctx context.Context, ev *HookEvent) error {
	return f(ctx, ev)
}

// ChargedBackHook runs when the customer's bank charges a successful
// payment back: once for each new cumulative amount of
// PARTIALLY_CHARGED_BACK, and once for CHARGED_BACK. ev.RefundedDelta is
// what this chargeback took back; ev.Payment.RefundedAmount what every
// refund and chargeback did.
type ChargedBackHook interface {
	PaymentChargedBack(ctx context.Context, ev *HookEvent) error
}

// ChargedBackHookFunc adapts a function to a ChargedBackHook.
type ChargedBackHookFunc func(ctx context.Context, ev *HookEvent) error

// PaymentChargedBack calls f.
func (f ChargedBackHookFunc) PaymentChargedBack(ctx context.Context, ev *HookEvent) error {
	return f(ctx, ev)
}
