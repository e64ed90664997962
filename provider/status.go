package provider

import "fmt"

// PaymentStatus is the portable status of one payment.
//
// The lifecycle is a one-way ladder:
//
//	PENDING ──► CANCELLED ─┐
//	   │    └─► FAILED ────┤
//	   └───────────────────┴──► SUCCESSFUL
//
// A payment starts PENDING (or arrives already final). A final status
// never goes back to PENDING. CANCELLED and FAILED are final for the
// customer, but a later SUCCESSFUL still wins: a success report means
// money moved, and losing it is worse than revising a cancellation.
// SUCCESSFUL is absorbing: a late CANCELLED or FAILED never undoes it.
// CANCELLED and FAILED never replace each other.
type PaymentStatus string

// The portable payment statuses.
const (
	PaymentPending    PaymentStatus = "PENDING"
	PaymentSuccessful PaymentStatus = "SUCCESSFUL"
	PaymentCancelled  PaymentStatus = "CANCELLED"
	PaymentFailed     PaymentStatus = "FAILED"
)

// PaymentStatuses lists every portable payment status.
func PaymentStatuses() []PaymentStatus {
	return []PaymentStatus{PaymentPending, PaymentSuccessful, PaymentCancelled, PaymentFailed}
}

// Valid reports whether s is one of the portable statuses.
func (s PaymentStatus) Valid() bool { return s.rank() >= 0 }

// Final reports whether s is a final status (anything but PENDING).
func (s PaymentStatus) Final() bool { return s.Valid() && s != PaymentPending }

func (s PaymentStatus) rank() int {
	switch s {
	case PaymentPending:
		return 0
	case PaymentCancelled, PaymentFailed:
		return 1
	case PaymentSuccessful:
		return 2
	}
	return -1
}

// CanTransition reports whether a payment in status s may move to next.
// A transition to the same status is not a transition (it returns false);
// callers treat it as a duplicate.
func (s PaymentStatus) CanTransition(next PaymentStatus) bool {
	if !s.Valid() || !next.Valid() || s == next {
		return false
	}
	return next.rank() > s.rank()
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
