package provider

import (
	"context"
	"errors"
	"time"
)

// ApplyEvent applies news about a payment, in one store transaction:
// it records the callback (callbacks only), claims the event (a repeat of
// the same payment and status is a duplicate), moves the payment forward
// along its state machine, deactivates a paid SINGLE link, and enqueues the
// hooks. Nothing is reported before the transaction commits.
//
// Events for unknown links, with an amount that differs from the link's, or
// (with VerifyByRefetch) not confirmed by the provider, are recorded and
// flagged, never applied. A late status that would move a payment backwards
// is recorded as stale and changes nothing. These are not errors: the
// callback was handled and the provider should stop retrying.
//
// An error means nothing was stored; the caller should let the provider
// retry (ginadapter answers 503 for CodeUnavailable).
func (s *Service) ApplyEvent(ctx context.Context, ev *Event) (Outcome, error) {
	const op = "provider.ApplyEvent"
	p, err := s.Provider(ev.Provider)
	if err != nil {
		return Outcome{}, err
	}
	if err := validateEvent(ev); err != nil {
		return Outcome{}, err
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = s.now()
	}
	if ev.Source == "" {
		ev.Source = SourceCallback
	}
	if ev.Payment.Provider == "" {
		ev.Payment.Provider = ev.Provider
	}
	if ev.Payment.Amount.Currency == "" {
		ev.Payment.Amount.Currency = IDR
	}
	unconfirmed := false
	if s.verify && ev.Source == SourceCallback && ev.Payment.Status == PaymentSuccessful {
		ok, err := s.confirm(ctx, p, ev.Payment)
		if err != nil {
			return Outcome{}, &Error{Code: CodeUnavailable, Op: op, Message: "could not confirm the payment with the provider", Err: err}
		}
		unconfirmed = !ok
	}
	var out Outcome
	err = s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		out, err = s.applyTx(ctx, tx, ev, unconfirmed)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	log := s.log.InfoContext
	if out.Verdict.Flagged() {
		log = s.log.WarnContext
	}
	log(ctx, "paylink: event handled", "provider", ev.Provider, "payment", ev.Payment.ID, "link", ev.Payment.LinkID,
		"status", ev.Payment.Status, "source", ev.Source, "verdict", out.Verdict, "hook_runs", out.HookRuns)
	return out, nil
}

func validateEvent(ev *Event) error {
	var fields []FieldError
	if ev.Payment.ID == "" {
		fields = append(fields, FieldError{Field: "payment.id", Rule: "required", Message: "payment id is required"})
	}
	if ev.Payment.LinkID == "" {
		fields = append(fields, FieldError{Field: "payment.link_id", Rule: "required", Message: "link id is required"})
	}
	if !ev.Payment.Status.Valid() {
		fields = append(fields, FieldError{Field: "payment.status", Rule: "oneof", Message: "unknown payment status " + string(ev.Payment.Status)})
	}
	if ev.Payment.Provider != "" && ev.Payment.Provider != ev.Provider {
		fields = append(fields, FieldError{Field: "payment.provider", Rule: "eqfield", Message: "payment names provider " + ev.Payment.Provider + ", the event " + ev.Provider})
	}
	if ev.Payment.Amount.Amount < 0 {
		fields = append(fields, FieldError{Field: "payment.amount", Rule: "min", Message: "amount must not be negative"})
	}
	if len(fields) > 0 {
		return &Error{Code: CodeInvalidArgument, Op: "provider.ApplyEvent", Message: "invalid event", Fields: fields}
	}
	return nil
}

// confirm asks the provider whether the payment really has the reported
// status and amount. Only a definite answer counts: the provider does not
// know the link (CodeNotFound, CodeInvalidArgument) or lists the payment
// differently. Any other failure (unreachable, maintenance, credentials)
// is an error, so the callback is answered 503 and retried instead of
// being flagged for good.
func (s *Service) confirm(ctx context.Context, p Provider, pay Payment) (bool, error) {
	pays, err := p.ListLinkPayments(ctx, pay.LinkID)
	if err != nil {
		switch CodeOf(err) {
		case CodeNotFound, CodeInvalidArgument:
			s.log.WarnContext(ctx, "paylink: provider does not know the link of a payment", "provider", p.Name(), "payment", pay.ID, "link", pay.LinkID, "err", err)
			return false, nil
		}
		return false, err
	}
	for _, q := range pays {
		if q.ID == pay.ID {
			return q.Status == pay.Status && q.Amount.Amount == pay.Amount.Amount, nil
		}
	}
	return false, nil
}

func (s *Service) applyTx(ctx context.Context, tx Tx, ev *Event, unconfirmed bool) (Outcome, error) {
	var out Outcome
	now := s.now()
	record := func(v Verdict) error {
		out.Verdict = v
		if ev.Source != SourceCallback {
			return nil
		}
		return tx.RecordCallback(ctx, &CallbackRecord{
			Provider: ev.Provider, PaymentID: ev.Payment.ID, LinkID: ev.Payment.LinkID,
			Status: ev.Payment.Status, Amount: ev.Payment.Amount, Body: ev.Raw,
			Verdict: v, ReceivedAt: ev.ReceivedAt,
		})
	}
	// flag records a flagged event and, once per payment, status and
	// verdict, enqueues the flagged hooks. Nothing else changes.
	flag := func(v Verdict, link *Link) error {
		if err := record(v); err != nil {
			return err
		}
		names := s.hooksFor(ev.Payment.Status, true)
		if len(names) == 0 {
			return nil
		}
		key := ev.Key()
		key.Flag = v
		claimed, err := tx.ClaimEvent(ctx, key)
		if err != nil || !claimed {
			return err
		}
		hev := HookEvent{ID: key.String(), Status: ev.Payment.Status, Verdict: v, Payment: ev.Payment, Source: ev.Source, OccurredAt: now}
		if link != nil {
			hev.Link = *link
		}
		if err := tx.EnqueueHooks(ctx, hev, names); err != nil {
			return err
		}
		out.HookRuns = len(names)
		return nil
	}

	link, err := tx.GetLinkForUpdate(ctx, ev.Provider, ev.Payment.LinkID)
	if errors.Is(err, CodeNotFound) {
		return out, flag(VerdictUnknownLink, nil)
	}
	if err != nil {
		return out, err
	}
	if unconfirmed {
		return out, flag(VerdictUnverified, link)
	}
	if ev.Payment.Status == PaymentSuccessful && !amountMatches(link, ev.Payment.Amount) {
		return out, flag(VerdictAmountMismatch, link)
	}

	cur, err := tx.GetPaymentForUpdate(ctx, ev.Provider, ev.Payment.ID)
	if errors.Is(err, CodeNotFound) {
		cur, err = nil, nil
	}
	if err != nil {
		return out, err
	}
	claimed, err := tx.ClaimEvent(ctx, ev.Key())
	if err != nil {
		return out, err
	}
	if cur != nil {
		out.Previous = cur.Status
		out.Payment = cur
	}
	if !claimed {
		return out, record(VerdictDuplicate)
	}
	if cur != nil && !cur.Status.CanTransition(ev.Payment.Status) {
		return out, record(VerdictStale)
	}

	next := mergePayment(cur, ev.Payment, now)
	if err := tx.PutPayment(ctx, next); err != nil {
		return out, err
	}
	if err := tx.AddStatusChange(ctx, StatusChange{
		Provider: ev.Provider, PaymentID: next.ID, From: out.Previous, To: next.Status, Source: ev.Source, At: now,
	}); err != nil {
		return out, err
	}
	out.Payment = next
	if next.Status == PaymentSuccessful && link.Type == LinkSingle && link.Status == LinkActive {
		link.Status = LinkInactive
		link.UpdatedAt = now
		if err := tx.PutLink(ctx, link); err != nil {
			return out, err
		}
	}
	if names := s.hooksFor(next.Status, false); len(names) > 0 {
		hev := HookEvent{
			ID: ev.Key().String(), Status: next.Status, Previous: out.Previous,
			Payment: *next, Link: *link, Source: ev.Source, OccurredAt: now,
		}
		if err := tx.EnqueueHooks(ctx, hev, names); err != nil {
			return out, err
		}
		out.HookRuns = len(names)
	}
	return out, record(VerdictApplied)
}

// amountMatches reports whether a payment of got may settle link: the
// link's fixed amount exactly, or any positive amount for an open link.
// Only a SUCCESSFUL event is checked: it is the one that pays. A
// cancellation or failure moves no money (Flip reports 0 for an unpaid
// open-amount link that expired), so it is applied whatever it says.
func amountMatches(link *Link, got Money) bool {
	if link.Amount.Currency != "" && got.Currency != link.Amount.Currency {
		return false
	}
	if link.Amount.Amount == 0 {
		return got.Amount > 0
	}
	return got.Amount == link.Amount.Amount
}

// mergePayment returns the stored payment after applying an update.
func mergePayment(cur *Payment, upd Payment, now time.Time) *Payment {
	next := upd
	if cur != nil {
		if next.Amount.Amount == 0 {
			next.Amount = cur.Amount // a cancellation of an unpaid open-amount link says 0
		}
		if next.CreatedAt.IsZero() {
			next.CreatedAt = cur.CreatedAt
		}
		if next.Sender == (Customer{}) {
			next.Sender = cur.Sender
		}
		if next.Method.IsZero() {
			next.Method = cur.Method
		}
		if next.VANumber == "" {
			next.VANumber = cur.VANumber
		}
		if next.PaymentURL == "" {
			next.PaymentURL = cur.PaymentURL
		}
	}
	if next.CreatedAt.IsZero() {
		next.CreatedAt = now
	}
	if next.Status.Final() && next.CompletedAt.IsZero() {
		next.CompletedAt = now
	}
	next.UpdatedAt = now
	return &next
}
