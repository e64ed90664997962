package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Refund returns money of a stored, paid payment to the customer through
// its provider (which must be a [Refunder]), then applies the provider's
// answer through the same rules as a callback (SourceRefresh): the
// refund hooks run exactly once for the new cumulative amount, whether
// this answer or the provider's notification of the same refund is
// applied first (the later one is a duplicate).
//
// params.Amount zero refunds all that is left. Without params.Key, the
// key is derived from the payment (provider and id) and its cumulative
// refunded amount before and after ("paylink-<payment hash>-3000-7000"),
// so two payments of equal amount never share one: a retry of a call whose answer was lost
// reuses it, and the provider refuses it (CodeConflict) instead of
// refunding twice; read the payment again with [Service.RefreshLink].
//
// A payment the store does not have is CodeNotFound; one that is not
// paid, or already fully refunded or charged back, CodeFailedPrecondition;
// an amount above what is left, negative, or in another currency,
// CodeInvalidArgument (checked before the provider is asked). A provider
// without refunds gives CodeUnimplemented.
func (s *Service) Refund(ctx context.Context, providerName, paymentID string, params RefundParams) (Outcome, error) {
	const op = "provider.Refund"
	p, err := s.lookup(providerName)
	if err != nil {
		return Outcome{}, err
	}
	if _, ok := p.(Refunder); !ok {
		return Outcome{}, Unsupported(p.Name() + ".Refund")
	}
	pay, err := s.store.GetPayment(ctx, p.Name(), paymentID)
	if err != nil {
		return Outcome{}, err
	}
	if !pay.Status.Paid() || (pay.Status.Returned() && !pay.Status.Partial()) {
		return Outcome{}, Errorf(CodeFailedPrecondition, op, "payment %s is %s: nothing to refund", pay.ID, pay.Status)
	}
	left := pay.Amount.Amount - pay.RefundedAmount.Amount
	amount := params.Amount
	if amount.Currency == "" {
		amount.Currency = pay.Amount.Currency
	}
	var fields []FieldError
	switch {
	case amount.Amount < 0:
		fields = append(fields, FieldError{Field: "amount", Rule: "min", Message: "refund amount must not be negative"})
	case amount.Amount > left:
		fields = append(fields, FieldError{Field: "amount", Rule: "max",
			Message: "refund amount " + amount.String() + " is more than the " + strconv.FormatInt(left, 10) + " left to refund"})
	case amount.Currency != pay.Amount.Currency:
		fields = append(fields, FieldError{Field: "amount", Rule: "eq", Message: "refund currency must be the payment's, " + string(pay.Amount.Currency)})
	}
	if len(params.Key) > 100 {
		fields = append(fields, FieldError{Field: "key", Rule: "max", Message: "refund key must be at most 100 characters"})
	}
	if len(fields) > 0 {
		return Outcome{}, &Error{Code: CodeInvalidArgument, Op: op, Message: "invalid refund", Fields: fields}
	}
	params.Amount = amount
	if params.Key == "" {
		after := pay.Amount.Amount
		if amount.Amount > 0 {
			after = pay.RefundedAmount.Amount + amount.Amount
		}
		params.Key = refundKey(p.Name(), pay.ID, pay.RefundedAmount.Amount, after)
	}
	got, err := Refund(ctx, p, pay.ID, params)
	if err != nil {
		return Outcome{}, err
	}
	got.Provider = p.Name()
	if got.ID == "" {
		got.ID = pay.ID
	}
	if got.LinkID == "" {
		got.LinkID = pay.LinkID
	}
	return s.ApplyEvent(ctx, &Event{Provider: p.Name(), Payment: *got, Source: SourceRefresh, ReceivedAt: s.now()})
}

// refundKey is the key of a refund without one: the payment (a hash of
// provider and id, so the key stays within 100 characters whatever the id)
// and the amount returned before and after.
func refundKey(providerName, paymentID string, before, after int64) string {
	sum := sha256.Sum256([]byte(providerName + "\x00" + paymentID))
	return "paylink-" + hex.EncodeToString(sum[:8]) + "-" + strconv.FormatInt(before, 10) + "-" + strconv.FormatInt(after, 10)
}
