package provider

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Customer is the payer as a link or payment knows them.
type Customer struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Address string `json:"address,omitempty"`
}

// PaymentMethod is how a payment is (or must be) made: a bank or channel
// code and its kind. For Flip, Bank is sender_bank ("bni", "qris") and Type
// is sender_bank_type ("virtual_account", "wallet_account").
type PaymentMethod struct {
	Bank string `json:"bank,omitempty"`
	Type string `json:"type,omitempty"`
}

// IsZero reports whether no method is set.
func (m PaymentMethod) IsZero() bool { return m.Bank == "" && m.Type == "" }

// Link is a payment link (a Flip "bill"): a URL a customer opens to pay.
type Link struct {
	// ID is the provider's id, always a string (Flip's 19-digit ids do not
	// fit every number type).
	ID string `json:"id"`
	// Provider is the name of the provider that owns the link.
	Provider string `json:"provider"`
	// URL is the absolute URL to send the customer to.
	URL   string   `json:"url"`
	Title string   `json:"title"`
	Type  LinkType `json:"type"`
	// Amount is the fixed amount; zero means the customer chooses (open amount).
	Amount Money      `json:"amount"`
	Status LinkStatus `json:"status"`
	// ExpiresAt is when the link stops accepting payments; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Step      Step      `json:"step,omitempty"`
	Customer  Customer  `json:"customer,omitzero"`
	// Method is the fixed payment method of a step-3 link.
	Method PaymentMethod `json:"method,omitzero"`
	// PaymentURL is the provider's page for the fixed payment (step 3).
	PaymentURL  string `json:"payment_url,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"`
	// IdempotencyKey is the app's key that created the link, if any.
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
	// Raw is the provider's payload as last received, for debugging.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Open reports whether the link may still collect a payment at now.
func (l *Link) Open(now time.Time) bool {
	if l.Status != LinkActive {
		return false
	}
	return l.ExpiresAt.IsZero() || now.Before(l.ExpiresAt)
}

// Payment is one attempt by a customer to pay a link.
type Payment struct {
	// ID is the provider's payment id ("PGPWF1011...", "FT123").
	ID       string `json:"id"`
	Provider string `json:"provider"`
	// LinkID is the id of the link the payment belongs to.
	LinkID string        `json:"link_id"`
	Amount Money         `json:"amount"`
	Status PaymentStatus `json:"status"`
	// RefundedAmount is how much of Amount went back to the customer, in
	// all: refunds and chargebacks, cumulative. Zero before any; equal to
	// Amount in REFUNDED and CHARGED_BACK; between them in the partial
	// states.
	RefundedAmount Money `json:"refunded_amount,omitzero"`
	// RawStatus is the provider's own status string, kept for debugging.
	RawStatus string        `json:"raw_status,omitempty"`
	Sender    Customer      `json:"sender,omitzero"`
	Method    PaymentMethod `json:"method,omitzero"`
	// VANumber is the virtual account number, when the method has one.
	VANumber   string `json:"va_number,omitempty"`
	PaymentURL string `json:"payment_url,omitempty"`
	// CreatedAt is when the provider created the payment.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// CompletedAt is when the payment reached a final status, if known.
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// UpdatedAt is when this library last changed the record.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Raw is the provider's payload as last received.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Source says how news about a payment reached the library.
type Source string

// The event sources.
const (
	// SourceCallback: the provider's callback (webhook).
	SourceCallback Source = "callback"
	// SourceReconcile: the reconciler asked the provider.
	SourceReconcile Source = "reconcile"
	// SourceRefresh: an explicit re-check, e.g. when the customer returns.
	SourceRefresh Source = "refresh"
)

// Event is news about one payment: what a verified callback says, or what
// a re-fetch from the provider found.
type Event struct {
	Provider string  `json:"provider"`
	Payment  Payment `json:"payment"`
	Source   Source  `json:"source"`
	// Raw is the request body exactly as received (callbacks only).
	Raw        []byte    `json:"-"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
}

// Key returns the event's identity: provider, payment id and status,
// plus the cumulative amount returned for a partial refund or chargeback
// status (a second partial refund is news; the same one again is not).
// Two events with the same key are duplicates.
func (e *Event) Key() EventKey {
	k := EventKey{Provider: e.Provider, PaymentID: e.Payment.ID, Status: e.Payment.Status}
	if k.Status.Partial() {
		k.Refunded = e.Payment.RefundedAmount.Amount
	}
	return k
}

// EventKey identifies one status of one payment.
type EventKey struct {
	Provider  string
	PaymentID string
	Status    PaymentStatus
	// Refunded is the cumulative amount returned, for the partial refund
	// and chargeback statuses only (zero for every other status).
	Refunded int64
	// Flag is set for the claim of a flagged event (see [WhenFlagged]):
	// it never collides with the claim of the same status once the event
	// can be applied.
	Flag Verdict
}

// String returns "provider:payment:status" (plus ":refunded" for a
// partial refund or chargeback, and "!flag" for a flagged claim), the
// stable event id: "midtrans:order-1:PARTIALLY_REFUNDED:3000".
func (k EventKey) String() string {
	s := k.Provider + ":" + k.PaymentID + ":" + k.StatusKey()
	if k.Flag != "" {
		s += "!" + string(k.Flag)
	}
	return s
}

// StatusKey returns the status part of the key without the flag:
// "SUCCESSFUL", or "PARTIALLY_REFUNDED:3000" for a partial state.
func (k EventKey) StatusKey() string {
	if k.Refunded == 0 {
		return string(k.Status)
	}
	return string(k.Status) + ":" + strconv.FormatInt(k.Refunded, 10)
}

// ParseStatusKey reads what [EventKey.StatusKey] wrote, plus an optional
// "!flag", into k's Status, Refunded and Flag. It is for stores that keep
// the key in one column; text it cannot read gives a status that is not
// Valid.
func (k *EventKey) ParseStatusKey(s string) {
	s, flag, _ := strings.Cut(s, "!")
	status, amount, ok := strings.Cut(s, ":")
	k.Status, k.Refunded, k.Flag = PaymentStatus(status), 0, Verdict(flag)
	if ok {
		n, err := strconv.ParseInt(amount, 10, 64)
		if err != nil || n <= 0 {
			k.Status = PaymentStatus(s)
			return
		}
		k.Refunded = n
	}
}

// CreateLinkParams asks a provider for a new payment link.
type CreateLinkParams struct {
	Title string
	// Type defaults to LinkSingle.
	Type LinkType
	// Amount is the fixed amount; zero asks for an open amount where the
	// provider allows it (Flip: step 1 only). Currency defaults to IDR.
	Amount Money
	// ExpiresAt is optional; zero means no expiry.
	ExpiresAt   time.Time
	RedirectURL string
	// Step defaults to StepInputData.
	Step     Step
	Customer Customer
	// Method fixes the payment method (required by Flip for step 3).
	Method         PaymentMethod
	RequireAddress bool
	RequirePhone   bool
	// IdempotencyKey, when set, makes a retried create return the link the
	// first call made instead of creating a second one, even when the first
	// call's process died before storing it (see [Service.CreateLink]).
	// Keys are unique per store, up to 255 characters. A key used again
	// with other parameters (see [CreateLinkParams.Fingerprint] for which
	// count) is CodeConflict.
	IdempotencyKey string
	// KeyNeverReturned is set by the Service on every create with an
	// IdempotencyKey: it promises that no link an earlier call made with
	// this key was ever returned to anyone, since the Service returns
	// only links it has stored and the store has none for the key. A
	// provider whose link ids come from the key (Midtrans's order id) may
	// then make the link under another id when the key's is taken by a
	// link nobody was given, instead of refusing the key for good. A
	// provider that may have shown an earlier link to the customer itself
	// (an e-mail, say) must not rely on it. Callers of a Provider
	// directly leave it false.
	KeyNeverReturned bool
}

// EditLinkParams changes a link; nil fields are left as they are.
type EditLinkParams struct {
	Title          *string
	Type           *LinkType
	Amount         *Money
	ExpiresAt      *time.Time
	RedirectURL    *string
	Status         *LinkStatus
	RequireAddress *bool
	RequirePhone   *bool
}

// SortOrder orders listed payments.
type SortOrder string

// The sort orders.
const (
	SortAscending  SortOrder = "asc"
	SortDescending SortOrder = "desc"
)

// ListPaymentsParams filters a list of payments across all links.
type ListPaymentsParams struct {
	// From and To bound the payment's creation date (inclusive days); zero is unbounded.
	From, To time.Time
	// Order defaults to the provider's order.
	Order SortOrder
	// Limit caps the number of payments returned; 0 means all.
	Limit int
}
