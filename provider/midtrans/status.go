package midtrans

import (
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// TransactionStatus is Midtrans's transaction_status.
type TransactionStatus string

// The transaction statuses Midtrans documents.
const (
	StatusPending           TransactionStatus = "pending"
	StatusAuthorize         TransactionStatus = "authorize"
	StatusCapture           TransactionStatus = "capture"
	StatusSettlement        TransactionStatus = "settlement"
	StatusDeny              TransactionStatus = "deny"
	StatusCancel            TransactionStatus = "cancel"
	StatusExpire            TransactionStatus = "expire"
	StatusFailure           TransactionStatus = "failure"
	StatusRefund            TransactionStatus = "refund"
	StatusPartialRefund     TransactionStatus = "partial_refund"
	StatusChargeback        TransactionStatus = "chargeback"
	StatusPartialChargeback TransactionStatus = "partial_chargeback"
)

// FraudStatus is Midtrans's fraud_status (card and some other methods;
// absent for low-risk methods).
type FraudStatus string

// The fraud statuses.
const (
	FraudAccept    FraudStatus = "accept"
	FraudChallenge FraudStatus = "challenge"
	FraudDeny      FraudStatus = "deny"
)

// StatusMapping is one row of the table from Midtrans's statuses to the
// portable payment status.
type StatusMapping struct {
	Transaction TransactionStatus
	// Fraud is the fraud status the row applies to; "" matches any (or none).
	Fraud FraudStatus
	// Status is the portable status. A partial refund or chargeback
	// carries its cumulative amount in the transaction's refund_amount
	// (see [Transaction.Refunded]).
	Status provider.PaymentStatus
}

// statusTable is the one table. Rows with a fraud status come before the
// row of the same transaction status without one. deny and cancel of a
// payment that was paid (a reversal) map to FAILED and CANCELLED here
// too: the Service, which knows the payment was paid, makes it
// provider.PaymentReversed (see the package documentation).
var statusTable = [...]StatusMapping{
	{StatusPending, "", provider.PaymentPending},
	{StatusAuthorize, "", provider.PaymentPending},
	{StatusCapture, FraudAccept, provider.PaymentSuccessful},
	{StatusCapture, FraudChallenge, provider.PaymentPending},
	{StatusCapture, FraudDeny, provider.PaymentFailed},
	{StatusCapture, "", provider.PaymentSuccessful},
	{StatusSettlement, FraudDeny, provider.PaymentFailed},
	{StatusSettlement, FraudChallenge, provider.PaymentPending},
	{StatusSettlement, "", provider.PaymentSuccessful},
	{StatusDeny, "", provider.PaymentFailed},
	{StatusFailure, "", provider.PaymentFailed},
	{StatusCancel, "", provider.PaymentCancelled},
	{StatusExpire, "", provider.PaymentCancelled},
	{StatusPartialRefund, "", provider.PaymentPartiallyRefunded},
	{StatusRefund, "", provider.PaymentRefunded},
	{StatusPartialChargeback, "", provider.PaymentPartiallyChargedBack},
	{StatusChargeback, "", provider.PaymentChargedBack},
}

// StatusMappings returns the mapping table, for documentation and tests.
func StatusMappings() []StatusMapping { return append([]StatusMapping(nil), statusTable[:]...) }

// PortableStatus maps a transaction status and fraud status to the
// portable status. Both are compared case-insensitively (Midtrans has
// answered "PENDING" as well as "pending"). ok is false for a status
// Midtrans may add later: the caller records and flags it.
//
// A fraud status of accept is what makes capture paid; a capture or
// settlement still under challenge stays PENDING, and one denied by the
// fraud check is FAILED. A capture without any fraud status is taken as
// paid, as Midtrans documents that fraud_status is absent for low-risk
// methods. A capture or settlement with a fraud status other than accept,
// challenge and deny has no portable status (ok is false): it is never
// taken as paid, and paylink flags it unknown_status.
func PortableStatus(tx TransactionStatus, fraud FraudStatus) (provider.PaymentStatus, bool) {
	tx = TransactionStatus(strings.ToLower(strings.TrimSpace(string(tx))))
	fraud = FraudStatus(strings.ToLower(strings.TrimSpace(string(fraud))))
	if (tx == StatusCapture || tx == StatusSettlement) && fraud != "" &&
		fraud != FraudAccept && fraud != FraudChallenge && fraud != FraudDeny {
		// "If fraud_status exists ensure the value is accept": a fraud
		// status Midtrans adds later is not proof of payment.
		return "", false
	}
	for _, m := range statusTable {
		if m.Transaction == tx && (m.Fraud == "" || m.Fraud == fraud) {
			return m.Status, m.Status != ""
		}
	}
	return "", false
}

// linkStatus says whether an order still takes a payment: while its
// transaction is pending (or authorized, or challenged).
func linkStatus(tx TransactionStatus, fraud FraudStatus) provider.LinkStatus {
	if s, ok := PortableStatus(tx, fraud); ok && s == provider.PaymentPending {
		return provider.LinkActive
	}
	return provider.LinkInactive
}
