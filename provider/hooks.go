package provider

import (
	"context"
	"slices"
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

// HookFunc is a hook: your code, run once per event it was registered
// for (see [Service.On]). A returned error makes the run retry under the
// service's HookPolicy; ev.IdempotencyKey stays the same across retries.
type HookFunc func(ctx context.Context, ev *HookEvent) error

// Trigger says which events run a hook. Make one with [When] or
// [WhenFlagged]; the zero Trigger selects nothing and [Service.On]
// refuses it.
type Trigger struct {
	statuses []PaymentStatus // the statuses selected, unless every
	every    bool            // every applied event
	flagged  bool            // flagged events only
}

// When selects applied events that reach any of statuses. With none it
// selects every status any payment reaches, PENDING included, and each
// new amount of a partial refund or chargeback; never a flagged event.
//
// A hook selected by [PaymentSuccessful] runs once, the first time a
// payment is paid, whichever paid status it lands on (a payment first seen
// PARTIALLY_REFUNDED was paid all the same), REVERSED excepted: a payment
// first seen reversed was taken back before any delivery. Partial statuses
// (PARTIALLY_REFUNDED, PARTIALLY_CHARGED_BACK) run the hook once for each
// new cumulative amount: ev.RefundedDelta is what this refund or
// chargeback returned, ev.Payment.RefundedAmount what all of them did.
// So When(PaymentPartiallyRefunded, PaymentRefunded) selects every refund
// of a payment, When(PaymentPartiallyChargedBack, PaymentChargedBack)
// every chargeback, and When(PaymentReversed) the reversal of a paid
// payment the provider reported CANCELLED or FAILED (once; ev.RefundedDelta
// is what had not gone back yet). When(PaymentCancelled, PaymentFailed)
// does not select a reversal.
//
// [Service.On] refuses a status that is not one of [PaymentStatuses].
func When(statuses ...PaymentStatus) Trigger {
	if len(statuses) == 0 {
		return Trigger{every: true}
	}
	return Trigger{statuses: slices.Clone(statuses)}
}

// WhenFlagged selects events that are recorded but flagged instead of
// applied: an amount that differs from the link's (an underpayment, say),
// a link this store does not know, or a success the provider does not
// confirm. ev.Verdict says which; ev.Link is empty for an unknown link.
// The hook runs once per payment and kind of flag (verdict), however often
// the provider repeats itself. Nothing was paid: this is for a human to
// look at.
func WhenFlagged() Trigger { return Trigger{flagged: true} }

// check reports why t cannot register a hook, or nil.
func (t Trigger) check() error {
	const op = "provider.Service.On"
	if !t.every && !t.flagged && len(t.statuses) == 0 {
		return Errorf(CodeInvalidArgument, op, "a hook needs a trigger: use When or WhenFlagged")
	}
	for _, st := range t.statuses {
		if !st.Valid() {
			return Errorf(CodeInvalidArgument, op, "When(%q): not a payment status", st)
		}
	}
	return nil
}

// selects reports whether t selects an event with status st, applied or,
// with flagged, flagged.
func (t Trigger) selects(st PaymentStatus, flagged bool) bool {
	if flagged || t.flagged {
		return flagged && t.flagged
	}
	return t.every || slices.Contains(t.statuses, st)
}
