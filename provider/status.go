package provider

import "fmt"

// PaymentStatus is the portable status of one payment.
//
// The lifecycle is a one-way ladder of five rungs:
//
//	PENDING ──► CANCELLED ─┐
//	   │    └─► FAILED ────┤
//	   └───────────────────┴──► SUCCESSFUL ──► PARTIALLY_REFUNDED ─────┬──► REFUNDED
//	                                  │    └─► PARTIALLY_CHARGED_BACK ─┼──► CHARGED_BACK
//	                                  └────────────────────────────────┴──► REVERSED
//
// A payment starts PENDING (or arrives already final). A final status
// never goes back to PENDING. CANCELLED and FAILED are final for the
// customer, but a later SUCCESSFUL still wins: a success report means
// money moved, and losing it is worse than revising a cancellation.
// CANCELLED and FAILED never replace each other. A late CANCELLED or
// FAILED never undoes SUCCESSFUL.
//
// After SUCCESSFUL, money may go back to the customer: a refund the
// merchant asked for, or a chargeback the customer's bank forced. The
// partial states (some of the amount went back) may follow each other
// while the amount returned grows (see [PaymentState.CanTransition]); the
// full states (all of it went back) are absorbing, and REFUNDED,
// CHARGED_BACK and REVERSED never replace each other. Only the statuses
// are compared here; [PaymentState] adds the amount.
//
// REVERSED is the provider taking back a payment it had reported paid
// (Midtrans: settlement → deny for Permata VA, Mandiri bill and
// Indomaret; a card capture → cancel): "treat the transaction as not
// paid". No provider reports it as such: [Service] makes a paid payment
// that the provider reports (and, unless InsecureSkipVerify, confirms)
// CANCELLED or FAILED REVERSED, with all of its amount returned.
type PaymentStatus string

// The portable payment statuses.
const (
	PaymentPending    PaymentStatus = "PENDING"
	PaymentSuccessful PaymentStatus = "SUCCESSFUL"
	PaymentCancelled  PaymentStatus = "CANCELLED"
	PaymentFailed     PaymentStatus = "FAILED"
	// PaymentPartiallyRefunded: the payment succeeded, then part of it was
	// refunded (Payment.RefundedAmount says how much, in all).
	PaymentPartiallyRefunded PaymentStatus = "PARTIALLY_REFUNDED"
	// PaymentRefunded: the payment succeeded, then all of it went back.
	PaymentRefunded PaymentStatus = "REFUNDED"
	// PaymentPartiallyChargedBack: the payment succeeded, then the
	// customer's bank charged part of it back.
	PaymentPartiallyChargedBack PaymentStatus = "PARTIALLY_CHARGED_BACK"
	// PaymentChargedBack: the payment succeeded, then all of it was
	// charged back.
	PaymentChargedBack PaymentStatus = "CHARGED_BACK"
	// PaymentReversed: the payment succeeded, then the provider reversed
	// it (a paid payment reported CANCELLED or FAILED): all of it went
	// back, and the goods must not be delivered. Absorbing, on the rung
	// of REFUNDED and CHARGED_BACK.
	PaymentReversed PaymentStatus = "REVERSED"
)

// PaymentStatuses lists every portable payment status, in the order of
// the ladder.
func PaymentStatuses() []PaymentStatus {
	return []PaymentStatus{PaymentPending, PaymentCancelled, PaymentFailed, PaymentSuccessful,
		PaymentPartiallyRefunded, PaymentPartiallyChargedBack, PaymentRefunded, PaymentChargedBack, PaymentReversed}
}

// Valid reports whether s is one of the portable statuses.
func (s PaymentStatus) Valid() bool { return s.rank() >= 0 }

// Final reports whether s is a final status (anything but PENDING).
func (s PaymentStatus) Final() bool { return s.Valid() && s != PaymentPending }

// Paid reports whether the customer paid: SUCCESSFUL, or any status in
// which some or all of the money went back since (REVERSED included: the
// payment was reported paid before it was taken back).
func (s PaymentStatus) Paid() bool { return s.rank() >= 2 }

// Returned reports whether some or all of the payment went back to the
// customer: a refund or chargeback status, partial or full, or REVERSED.
func (s PaymentStatus) Returned() bool { return s.rank() >= 3 }

// Partial reports whether s is a partial refund or chargeback status: the
// one kind of status that a later event of the same status (with more
// money returned) may follow.
func (s PaymentStatus) Partial() bool { return s.rank() == 3 }

// Refund reports whether s is a refund status (PARTIALLY_REFUNDED or
// REFUNDED), ChargeBack whether it is a chargeback status.
func (s PaymentStatus) Refund() bool {
	return s == PaymentPartiallyRefunded || s == PaymentRefunded
}

// ChargeBack reports whether s is PARTIALLY_CHARGED_BACK or CHARGED_BACK.
func (s PaymentStatus) ChargeBack() bool {
	return s == PaymentPartiallyChargedBack || s == PaymentChargedBack
}

// Reversed reports whether s is REVERSED.
func (s PaymentStatus) Reversed() bool { return s == PaymentReversed }

// rank is the rung of s on the ladder; -1 for an unknown status.
func (s PaymentStatus) rank() int {
	switch s {
	case PaymentPending:
		return 0
	case PaymentCancelled, PaymentFailed:
		return 1
	case PaymentSuccessful:
		return 2
	case PaymentPartiallyRefunded, PaymentPartiallyChargedBack:
		return 3
	case PaymentRefunded, PaymentChargedBack, PaymentReversed:
		return 4
	}
	return -1
}

// CanTransition reports whether a payment in status s may move to next
// by their statuses alone: next is on a higher rung of the ladder. A
// transition to the same status is not a transition (it returns false);
// callers treat it as a duplicate. Moves between partial refund and
// chargeback statuses depend on the amount returned, which s does not
// know: [PaymentState.CanTransition] decides those, and is what
// [Service] applies.
func (s PaymentStatus) CanTransition(next PaymentStatus) bool {
	if !s.Valid() || !next.Valid() || s == next {
		return false
	}
	return next.rank() > s.rank()
}

// PaymentState is where a payment stands on the ladder: its status and
// how much of it went back to the customer, in all (refunds and
// chargebacks, whole units of the payment's currency).
type PaymentState struct {
	Status   PaymentStatus
	Refunded int64
}

// State returns the payment's status and cumulative refunded amount.
func (p *Payment) State() PaymentState {
	return PaymentState{Status: p.Status, Refunded: p.RefundedAmount.Amount}
}

// CanTransition reports whether a payment in state s may move to next.
// It is the one place of the rule, and never lets a payment go backwards:
//
//   - the amount returned never shrinks;
//   - a move to a higher rung of the ladder is allowed (see
//     [PaymentStatus.CanTransition]);
//   - among the partial states (PARTIALLY_REFUNDED,
//     PARTIALLY_CHARGED_BACK) a move is allowed only when the amount
//     returned grows: a second partial refund, or a partial chargeback
//     after a partial refund, is news; the same amount again is not;
//   - nothing else is: REFUNDED, CHARGED_BACK and REVERSED are absorbing
//     and never replace each other, like CANCELLED and FAILED (a refund
//     or chargeback after a reversal is stale, and so is a reversal
//     after a full refund or chargeback; a reversal after a partial
//     refund or chargeback is a move up, returning the whole amount).
func (s PaymentState) CanTransition(next PaymentState) bool {
	if !s.Status.Valid() || !next.Status.Valid() || next.Refunded < s.Refunded {
		return false
	}
	if s.Status.CanTransition(next.Status) {
		return true
	}
	return s.Status.Partial() && next.Status.Partial() && next.Refunded > s.Refunded
}

// String returns the status, with the amount returned for a state that
// has one ("PARTIALLY_REFUNDED 3000").
func (s PaymentState) String() string {
	if s.Refunded == 0 {
		return string(s.Status)
	}
	return fmt.Sprintf("%s %d", s.Status, s.Refunded)
}

// LinkStatus is whether a payment link still accepts payments.
type LinkStatus string

// The link statuses.
const (
	LinkActive   LinkStatus = "ACTIVE"
	LinkInactive LinkStatus = "INACTIVE"
)

// Valid reports whether s is a known link status.
func (s LinkStatus) Valid() bool { return s == LinkActive || s == LinkInactive }

// LinkType says how many payments a link may collect.
type LinkType string

// The link types.
const (
	// LinkSingle collects one successful payment, then becomes inactive.
	LinkSingle LinkType = "SINGLE"
	// LinkMultiple collects any number of payments.
	LinkMultiple LinkType = "MULTIPLE"
)

// Valid reports whether t is a known link type.
func (t LinkType) Valid() bool { return t == LinkSingle || t == LinkMultiple }

// Step is where a customer lands when opening a link (Flip's checkout
// steps; providers without steps use StepInputData).
type Step int

// The checkout steps.
const (
	// StepInputData: the customer types name and email, then picks a method.
	StepInputData Step = 1
	// StepPaymentMethod: customer data is pre-filled; the customer picks a method.
	StepPaymentMethod Step = 2
	// StepConfirmation: the method is fixed at creation and the payment
	// (a VA number or QR code) exists as soon as the link does.
	StepConfirmation Step = 3
)

// Valid reports whether s is a known step.
func (s Step) Valid() bool { return s >= StepInputData && s <= StepConfirmation }

// String returns "step 1" and so on.
func (s Step) String() string { return fmt.Sprintf("step %d", int(s)) }
