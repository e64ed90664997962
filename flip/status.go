package flip

import (
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// StatusMapping is one row of the table from Flip's raw payment statuses
// to portable ones.
type StatusMapping struct {
	// Raw is Flip's status string.
	Raw PaymentStatus
	// Status is the portable status it means.
	Status provider.PaymentStatus
	// Where lists where Flip sends it: "payment" (payment lists),
	// "callback", "bill_payment" (a step-3 bill's payment).
	Where []string
	// Note explains the mapping.
	Note string
}

// StatusMappings returns the status table, one row per raw status. It is
// a fresh copy on every call.
func StatusMappings() []StatusMapping {
	return []StatusMapping{
		{PaymentSuccessful, provider.PaymentSuccessful, []string{"payment", "callback"}, "the customer paid"},
		{PaymentPending, provider.PaymentPending, []string{"payment", "callback", "bill_payment"}, "waiting for the customer"},
		{PaymentFailed, provider.PaymentFailed, []string{"payment", "callback", "bill_payment"}, "Flip could not forward a bank transfer"},
		{PaymentCancelled, provider.PaymentCancelled, []string{"callback", "bill_payment"}, "the bill or payment expired unpaid"},
		{PaymentCanceled, provider.PaymentCancelled, []string{"callback", "bill_payment"}, "older spelling of CANCELLED"},
		{PaymentExpired, provider.PaymentCancelled, []string{"callback"}, "not in Flip's docs; an expiry is what CANCELLED reports"},
		{PaymentNotConfirmed, provider.PaymentPending, []string{"bill_payment"}, "created, not yet confirmed by the customer"},
		{PaymentProcessed, provider.PaymentPending, []string{"bill_payment"}, "money received, being processed"},
		{PaymentDone, provider.PaymentSuccessful, []string{"bill_payment"}, "the bill payment completed"},
	}
}

// MapPaymentStatus returns the portable status of one of Flip's raw
// status strings (case and surrounding space are ignored), and false for
// a string not in [StatusMappings].
func MapPaymentStatus(raw string) (provider.PaymentStatus, bool) {
	raw = strings.ToUpper(strings.TrimSpace(raw))
	switch PaymentStatus(raw) {
	case PaymentSuccessful, PaymentDone:
		return provider.PaymentSuccessful, true
	case PaymentPending, PaymentNotConfirmed, PaymentProcessed:
		return provider.PaymentPending, true
	case PaymentFailed:
		return provider.PaymentFailed, true
	case PaymentCancelled, PaymentCanceled, PaymentExpired:
		return provider.PaymentCancelled, true
	}
	return "", false
}

// Portable returns the portable status of s; see [MapPaymentStatus].
func (s PaymentStatus) Portable() (provider.PaymentStatus, bool) { return MapPaymentStatus(string(s)) }
