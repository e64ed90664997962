package provider

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// maxApplyConflicts bounds how often ApplyEvent reads and decides again
// when concurrent news about the same payment won the race to the store.
const maxApplyConflicts = 8

// ApplyEvent applies news about a payment. It reads what the rules need
// from the store in one call, decides here (a repeat of the same payment
// and status is a duplicate; a payment only moves forward along its state
// machine; a paid SINGLE link is deactivated; the hooks that want the
// status are queued) and writes the decision in one atomic call: the
// callback record, the event claim, the payment, its status change and the
// hook runs. Nothing is reported before that write is durable. When news
// about the same payment was written in between, the store refuses the
// write and ApplyEvent reads and decides again.
//
// Events for unknown links, with an amount that differs from the link's,
// or with a status the library does not know, are recorded and flagged,
// never applied. A late status that would move a payment backwards is
// recorded as stale and changes nothing. These are not errors: the
// callback was handled and the provider should stop retrying.
//
// With VerifyByRefetch, a callback that would change a payment is first
// confirmed with the provider (every status, not only SUCCESSFUL; a
// duplicate costs no provider call). A callback the provider does not show
// (yet) is recorded as unverified and answered with a CodeUnavailable
// error, so the provider delivers it again; the reconciler settles it if
// the provider's retries run out first.
//
// Text a store could not keep is cleaned first (see [CleanText] and
// [MaxCodeBytes]; the event is changed in place, Raw excepted), and an
// event whose payment or link id cannot be an id (see [CheckID]) is
// refused with CodeInvalidArgument: nothing is stored.
//
// Any other error means nothing was stored; the caller should let the
// provider retry (ginadapter answers 503 for CodeUnavailable).
func (s *Service) ApplyEvent(ctx context.Context, ev *Event) (Outcome, error) {
	if s.obs == nil {
		return s.applyEvent(ctx, ev)
	}
	ctx, end := s.observeApply(ctx, ev)
	out, err := s.applyEvent(ctx, ev)
	end(out, err)
	return out, err
}

func (s *Service) applyEvent(ctx context.Context, ev *Event) (Outcome, error) {
	const op = "provider.ApplyEvent"
	p, err := s.Provider(ev.Provider)
	if err != nil {
		return Outcome{}, err
	}
	cleanEvent(ev)
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
	if ev.Payment.RefundedAmount.Currency == "" && ev.Payment.RefundedAmount.Amount != 0 {
		ev.Payment.RefundedAmount.Currency = ev.Payment.Amount.Currency
	}
	confirmed := ev.Source != SourceCallback || !s.verify && !callbacksUnsigned(p)
	for conflicts := 0; ; conflicts++ {
		st, err := s.store.LoadApply(ctx, ev.Provider, ev.Payment.LinkID, ev.Payment.ID)
		if err != nil {
			return Outcome{}, err
		}
		d, err := s.decide(ev, st, s.now())
		if err != nil {
			return Outcome{}, err
		}
		if err := s.encodeHookEvent(ctx, d); err != nil {
			return Outcome{}, err
		}
		if d.out.Verdict == VerdictApplied && !confirmed {
			ok, err := s.confirm(ctx, p, ev.Payment)
			if err != nil {
				return Outcome{}, &Error{Code: CodeUnavailable, Op: op, Message: "could not confirm the payment with the provider", Err: err}
			}
			if !ok {
				return s.unverified(ctx, ev)
			}
			confirmed = true
		}
		err = s.store.Apply(ctx, &d.write)
		if errors.Is(err, ErrWriteConflict) && conflicts < maxApplyConflicts {
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		if d.out.HookRuns > 0 {
			s.runner.wake()
		}
		s.logOutcome(ctx, ev, d.out)
		return d.out, nil
	}
}

// unverified records a callback the provider does not confirm and answers
// with an error that makes the provider deliver it again.
func (s *Service) unverified(ctx context.Context, ev *Event) (Outcome, error) {
	out := Outcome{Verdict: VerdictUnverified}
	w := ApplyWrite{Callback: callbackRecord(ev, VerdictUnverified)}
	if err := s.store.Apply(ctx, &w); err != nil {
		return Outcome{}, err
	}
	s.logOutcome(ctx, ev, out)
	return out, &Error{Code: CodeUnavailable, Op: "provider.ApplyEvent",
		Message: "the provider does not show this payment status (yet); deliver it again later"}
}

func (s *Service) logOutcome(ctx context.Context, ev *Event, out Outcome) {
	log := s.log.InfoContext
	if out.Verdict.Flagged() {
		log = s.log.WarnContext
	}
	log(ctx, "paylink: event handled", "provider", ev.Provider, "payment", ev.Payment.ID, "link", ev.Payment.LinkID,
		"status", ev.Payment.Status, "raw_status", ev.Payment.RawStatus, "source", ev.Source,
		"verdict", out.Verdict, "hook_runs", out.HookRuns)
}

func validateEvent(ev *Event) error {
	var fields []FieldError
	if ev.Payment.ID == "" {
		fields = append(fields, FieldError{Field: "payment.id", Rule: "required", Message: "payment id is required"})
	}
	if ev.Payment.LinkID == "" {
		fields = append(fields, FieldError{Field: "payment.link_id", Rule: "required", Message: "link id is required"})
	}
	fields = append(fields, idFieldErrors(ev.Payment)...)
	switch {
	case ev.Payment.Status.Valid():
	case ev.Payment.Status == "" && ev.Payment.RawStatus != "" && ev.Source != SourceReconcile && ev.Source != SourceRefresh:
		// An unknown status from a callback: recorded and flagged.
	default:
		fields = append(fields, FieldError{Field: "payment.status", Rule: "oneof", Message: "unknown payment status " + string(ev.Payment.Status)})
	}
	if ev.Payment.Provider != "" && ev.Payment.Provider != ev.Provider {
		fields = append(fields, FieldError{Field: "payment.provider", Rule: "eqfield", Message: "payment names provider " + ev.Payment.Provider + ", the event " + ev.Provider})
	}
	if ev.Payment.Amount.Amount < 0 {
		fields = append(fields, FieldError{Field: "payment.amount", Rule: "min", Message: "amount must not be negative"})
	}
	if ev.Payment.RefundedAmount.Amount < 0 {
		fields = append(fields, FieldError{Field: "payment.refunded_amount", Rule: "min", Message: "refunded amount must not be negative"})
	}
	if len(fields) > 0 {
		return &Error{Code: CodeInvalidArgument, Op: "provider.ApplyEvent", Message: "invalid event", Fields: fields}
	}
	return nil
}

// confirm asks the provider whether the payment really has the reported
// status and amount. Only a definite answer counts as a no: the provider
// does not know the link (CodeNotFound, CodeInvalidArgument) or lists the
// payment differently or not at all. Any other failure (unreachable,
// maintenance, credentials) is an error.
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
		if q.ID != pay.ID {
			continue
		}
		if !pay.Status.Paid() {
			// A cancellation of an unpaid open-amount link may say 0.
			return q.Status == pay.Status, nil
		}
		// Money moved: the provider must show the payment paid, for the
		// same amount, at the reported state or further along the
		// ladder (a refund may already have followed the success, a
		// second partial refund the first).
		normalizeReturned(&q, &pay)
		if !q.Status.Paid() || q.Amount.Amount != pay.Amount.Amount {
			return false, nil
		}
		want, got := pay.State(), q.State()
		return got == want || want.CanTransition(got), nil
	}
	return false, nil
}

// decision is what one event changes: the write and the outcome to report
// once it is durable.
type decision struct {
	write ApplyWrite
	out   Outcome
	hev   *HookEvent // the event the HookRuns deliver, encoded by encodeHookEvent
}

func callbackRecord(ev *Event, v Verdict) *CallbackRecord {
	if ev.Source != SourceCallback {
		return nil
	}
	return &CallbackRecord{
		Provider: ev.Provider, PaymentID: ev.Payment.ID, LinkID: ev.Payment.LinkID,
		Status: ev.Payment.Status, Amount: ev.Payment.Amount, Body: ev.Raw,
		Verdict: v, ReceivedAt: ev.ReceivedAt,
	}
}

// decide applies the payment rules to what the store read. It is the one
// place they live.
func (s *Service) decide(ev *Event, st *ApplyState, now time.Time) (*decision, error) {
	d := &decision{}
	verdict := func(v Verdict) {
		d.out.Verdict = v
		d.write.Callback = callbackRecord(ev, v)
	}
	link, cur := st.Link, st.Payment
	normalizeReturned(&ev.Payment, cur)
	switch {
	case !ev.Payment.Status.Valid():
		return d, s.flag(d, ev, st, VerdictUnknownStatus, now, verdict)
	case link == nil:
		return d, s.flag(d, ev, st, VerdictUnknownLink, now, verdict)
	case ev.Payment.Status.Paid() && !amountMatches(link, ev.Payment.Amount),
		!refundMatches(ev.Payment):
		return d, s.flag(d, ev, st, VerdictAmountMismatch, now, verdict)
	}

	key := ev.Key()
	var prevRefunded Money
	if cur != nil {
		d.out.Previous = cur.Status
		d.out.Payment = cur
		prevRefunded = cur.RefundedAmount
	}
	if st.HasClaimed(key) {
		verdict(VerdictDuplicate)
		return d, nil
	}
	if cur != nil && !cur.State().CanTransition(ev.Payment.State()) {
		if cur.Status.Paid() && (ev.Payment.Status == PaymentCancelled || ev.Payment.Status == PaymentFailed) {
			return d, s.flag(d, ev, st, VerdictFailedAfterPaid, now, verdict)
		}
		d.write.Claim = &key // claimed: a repeat of stale news is a duplicate
		verdict(VerdictStale)
		return d, nil
	}
	d.write.Claim = &key

	next := mergePayment(cur, ev.Payment, now)
	d.write.Payment = next
	d.write.PreviousStatus = d.out.Previous
	d.write.PreviousRefunded = prevRefunded.Amount
	d.write.StatusChange = &StatusChange{
		Provider: ev.Provider, PaymentID: next.ID, From: d.out.Previous, To: next.Status,
		Refunded: next.RefundedAmount.Amount, Source: ev.Source, At: now,
	}
	d.out.Payment = next
	hookLink := *link
	if next.Status.Paid() && link.Type == LinkSingle && link.Status == LinkActive {
		hookLink.Status, hookLink.UpdatedAt = LinkInactive, now
		d.write.LinkStatus, d.write.LinkUpdatedAt = LinkInactive, now
	}
	verdict(VerdictApplied)
	if names := s.hooksFor(next.Status, false); len(names) > 0 {
		hev := HookEvent{
			ID: key.String(), Status: next.Status, Previous: d.out.Previous,
			Payment: *next, Link: hookLink, Source: ev.Source, OccurredAt: now,
		}
		if delta := next.RefundedAmount.Amount - prevRefunded.Amount; delta > 0 {
			hev.RefundedDelta = Money{Amount: delta, Currency: next.RefundedAmount.Currency}
		}
		if err := d.queue(hev, names); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// normalizeReturned completes what a refund or chargeback report may
// leave out: the payment's amount (from the stored payment), the
// currency of the amount returned, and, for a full refund or chargeback,
// the amount returned itself (zero there means all of it).
func normalizeReturned(p *Payment, cur *Payment) {
	if !p.Status.Returned() {
		return
	}
	if p.Amount.Amount == 0 && cur != nil {
		p.Amount = cur.Amount
	}
	if p.RefundedAmount.Currency == "" {
		p.RefundedAmount.Currency = p.Amount.Currency
	}
	if !p.Status.Partial() && p.RefundedAmount.Amount == 0 {
		p.RefundedAmount.Amount = p.Amount.Amount
	}
}

// refundMatches reports whether the amount a payment reports returned
// fits its status: nothing before any refund or chargeback; more than
// nothing and less than the payment in a partial state; all of it in a
// full one; always in the payment's currency.
func refundMatches(p Payment) bool {
	r := p.RefundedAmount
	if r.Currency != "" && r.Currency != p.Amount.Currency {
		return false
	}
	switch {
	case !p.Status.Returned():
		return r.Amount == 0
	case p.Status.Partial():
		return r.Amount > 0 && r.Amount < p.Amount.Amount
	}
	return r.Amount == p.Amount.Amount
}

// flag records a flagged event and, once per payment, status and verdict,
// queues the flagged hooks. Nothing else changes.
func (s *Service) flag(d *decision, ev *Event, st *ApplyState, v Verdict, now time.Time, verdict func(Verdict)) error {
	verdict(v)
	names := s.hooksFor(ev.Payment.Status, true)
	if len(names) == 0 {
		return nil
	}
	key := ev.Key()
	key.Flag = v
	if st.HasClaimed(key) {
		return nil
	}
	d.write.Claim = &key
	hev := HookEvent{ID: key.String(), Status: ev.Payment.Status, Verdict: v, Payment: ev.Payment, Source: ev.Source, OccurredAt: now}
	if st.Link != nil {
		hev.Link = *st.Link
	}
	return d.queue(hev, names)
}

// queue adds one hook run per name for hev to the write.
func (d *decision) queue(hev HookEvent, names []string) error {
	d.hev = &hev
	d.write.HookRuns = make([]NewHookRun, len(names))
	for i, name := range names {
		d.write.HookRuns[i] = NewHookRun{EventID: hev.ID, Hook: name, IdempotencyKey: HookIdempotencyKey(hev.ID, name)}
	}
	d.out.HookRuns = len(names)
	return nil
}

// encodeHookEvent puts the JSON of the decision's hook event, if any, in
// its write, with the trace the Observer gives for ctx.
func (s *Service) encodeHookEvent(ctx context.Context, d *decision) error {
	if d.hev == nil {
		return nil
	}
	if s.obs != nil {
		d.hev.Trace = s.obs.EventTrace(ctx)
	}
	payload, err := json.Marshal(d.hev)
	if err != nil {
		return Errorf(CodeInternal, "provider.ApplyEvent", "encode hook event: %w", err)
	}
	d.write.Event = payload
	return nil
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

// callbacksUnsigned reports whether p's callbacks must be confirmed
// whatever ServiceOptions.InsecureSkipVerify says.
func callbacksUnsigned(p Provider) bool {
	u, ok := p.(UnsignedCallbacks)
	return ok && u.CallbacksUnsigned()
}
