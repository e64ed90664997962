package provider

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// MaxUnverifiedBodyBytes is how much of an unverified callback's body is
// kept: enough to recognise a genuine one, not a full copy of each padded
// forgery.
const MaxUnverifiedBodyBytes = 4 << 10

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
// with a status the library does not know, naming a payment the store
// keeps under another link, or paying a SINGLE link another payment paid
// already are recorded and flagged, never applied; the flagged hooks run
// once per payment and kind of flag. A late status that would move a
// payment backwards is recorded as stale and changes nothing. These are
// not errors: the callback was handled and the provider should stop
// retrying. A payment paid for the first time runs the success hooks once,
// whichever paid status it first reaches (a refund reported before the
// success included), REVERSED excepted. A paid payment reported CANCELLED
// or FAILED is a reversal: applied as [PaymentReversed], all of its
// amount returned (see docs/state-machine.md, Reversals).
//
// By default (unless ServiceOptions.InsecureSkipVerify, and always for
// [UnsignedCallbacks] providers), a callback that would change a payment,
// run a hook or record a flagged money fact is first confirmed with the
// provider ([PaymentGetter], else ListLinkPayments), and the provider's
// answer, not the callback's fields, is what is decided on, stored and
// handed to hooks. A duplicate or stale callback costs no provider call;
// concurrent confirmations of one payment share one. A callback the
// provider does not show (yet) is recorded as unverified (its body cut to
// [MaxUnverifiedBodyBytes]) and answered with a CodeUnavailable error, so
// the provider delivers it again; the reconciler settles it if the
// provider's retries run out first. A duplicate's record keeps no second
// copy of the body.
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
	p, err := s.lookup(ev.Provider)
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
	paymentDefaults(ev)
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
		if !confirmed && d.needsConfirmation() {
			got, err := s.confirm(ctx, p, st.Link, ev.Payment)
			if err != nil {
				return Outcome{}, &Error{Code: CodeUnavailable, Op: op, Message: "could not confirm the payment with the provider", Err: err}
			}
			if got == nil {
				return s.unverified(ctx, ev)
			}
			// From here on the provider's answer is the news: what is
			// stored and handed to hooks is what the provider shows,
			// never the callback's unsigned fields.
			ev.Payment = *got
			cleanEvent(ev) // the provider's text is cleaned like the callback's
			paymentDefaults(ev)
			confirmed = true
			if d, err = s.decide(ev, st, s.now()); err != nil {
				return Outcome{}, err
			}
		}
		if err := s.encodeHookEvent(ctx, d); err != nil {
			return Outcome{}, err
		}
		if len(d.write.HookRuns) > 0 {
			d.write.HookLease, d.write.HookLeaseFor = s.runner.offer()
		}
		err = s.store.Apply(ctx, &d.write)
		if errors.Is(err, ErrWriteConflict) && conflicts < maxApplyConflicts {
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		switch {
		case d.write.HookLease != "":
			s.runner.adopt(&d.write, s.now())
		case d.out.HookRuns > 0:
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
	if w.Callback != nil && len(w.Callback.Body) > MaxUnverifiedBodyBytes {
		// Anyone holding the callback secret can send these, padded:
		// keep what identifies them, not a full copy each.
		w.Callback.Body = w.Callback.Body[:MaxUnverifiedBodyBytes:MaxUnverifiedBodyBytes]
	}
	if err := s.store.Apply(ctx, &w); err != nil {
		return Outcome{}, err
	}
	s.logOutcome(ctx, ev, out)
	return out, &Error{Code: CodeUnavailable, Op: "provider.ApplyEvent",
		Message: "the provider does not show this payment status (yet); deliver it again later"}
}

func (s *Service) logOutcome(ctx context.Context, ev *Event, out Outcome) {
	log := s.log.InfoContext
	switch {
	case out.Verdict.Flagged():
		log = s.log.WarnContext
	case out.Verdict == VerdictDuplicate || out.Verdict == VerdictStale:
		log = s.log.DebugContext // a gateway's retries: routine
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

// confirm asks the provider for the payment a callback reports and
// returns the provider's answer when it confirms the callback: the payment
// exists under the callback's link, at the reported state or further along
// the ladder (a refund may already have followed the success, a second
// partial refund the first), and, once paid, for the same amount. It
// returns nil when the provider says otherwise: it does not know the
// payment or its link (CodeNotFound, CodeInvalidArgument), or shows it
// differently. Any other failure (unreachable, maintenance, credentials)
// is an error. Concurrent confirmations of one payment share one request.
//
// The provider is given stored, the link as [Store.LoadApply] read it:
// without Raw, since confirming a payment needs only the link's id (Flip
// and Midtrans read payments by it), and reading Raw too would cost every
// callback a larger read. A link the store does not know (an
// unknown_link callback) is given as its provider and id only.
func (s *Service) confirm(ctx context.Context, p Provider, stored *Link, pay Payment) (*Payment, error) {
	link := stored
	if link == nil || link.ID != pay.LinkID {
		link = &Link{Provider: p.Name(), ID: pay.LinkID}
	}
	key := p.Name() + "\x00" + pay.LinkID + "\x00" + pay.ID
	got, err := s.lookups.do(ctx, key, func(ctx context.Context) (*Payment, error) {
		return GetPayment(ctx, p, link, pay.ID)
	})
	if err != nil {
		switch CodeOf(err) {
		case CodeNotFound, CodeInvalidArgument:
			s.log.WarnContext(ctx, "paylink: provider does not show the payment of a callback", "provider", p.Name(), "payment", pay.ID, "link", pay.LinkID, "err", err)
			return nil, nil
		}
		return nil, err
	}
	q := *got // the answer is shared: copy before changing it
	if q.ID != pay.ID || q.LinkID != "" && q.LinkID != pay.LinkID {
		return nil, nil
	}
	q.LinkID, q.Provider = pay.LinkID, p.Name()
	if !pay.Status.Valid() {
		// A status this library does not know: the provider's own view,
		// whatever it is, is the news.
		return &q, nil
	}
	if !pay.Status.Paid() {
		// Nothing paid is claimed; the provider's status must be the
		// reported one or later (a cancellation of an unpaid open-amount
		// link may say 0).
		if q.Status == pay.Status || pay.Status.CanTransition(q.Status) {
			return &q, nil
		}
		return nil, nil
	}
	normalizeReturned(&q, &pay)
	if !q.Status.Paid() || q.Amount.Amount != pay.Amount.Amount {
		return nil, nil
	}
	want, have := pay.State(), q.State()
	if have == want || want.CanTransition(have) {
		return &q, nil
	}
	return nil, nil
}

// needsConfirmation reports whether d changes anything a forged callback
// must not: a payment, a hook run, or a flagged money fact (an amount, a
// reversal, a payment on the wrong link, a second payment of one order). Duplicates, stale
// news and flags without hooks about unknown links or statuses only
// record that the callback came.
func (d *decision) needsConfirmation() bool {
	if d.write.Payment != nil || len(d.write.HookRuns) > 0 {
		return true
	}
	switch d.out.Verdict {
	case VerdictAmountMismatch, VerdictLinkMismatch, VerdictSecondPayment:
		return true
	}
	return false
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
	sent := ev // the callback record and flags keep the status as reported
	verdict := func(v Verdict) {
		d.out.Verdict = v
		d.write.Callback = callbackRecord(sent, v)
	}
	link, cur := st.Link, st.Payment
	if rev := reversal(ev, cur); rev != nil {
		ev = rev
	}
	normalizeReturned(&ev.Payment, cur)
	firstPaid := ev.Payment.Status.Paid() && (cur == nil || !cur.Status.Paid())
	switch {
	case !ev.Payment.Status.Valid():
		return d, s.flag(d, sent, st, VerdictUnknownStatus, now, verdict)
	case cur != nil && cur.LinkID != ev.Payment.LinkID:
		// A payment never moves to another link: one that did would pay
		// the wrong order.
		return d, s.flag(d, sent, st, VerdictLinkMismatch, now, verdict)
	case link == nil:
		return d, s.flag(d, sent, st, VerdictUnknownLink, now, verdict)
	case ev.Payment.Status.Paid() && !amountMatches(link, ev.Payment.Amount),
		!refundMatches(ev.Payment),
		ev.Payment.Status.Reversed() && cur != nil && cur.Status.Paid() && ev.Payment.Amount.Amount != cur.Amount.Amount:
		return d, s.flag(d, sent, st, VerdictAmountMismatch, now, verdict)
	case firstPaid && link.Type == LinkSingle && st.LinkPaidBy != "":
		// A SINGLE link takes one payment; another paid it already. Money
		// on it now is a second payment: kept for a human, never applied.
		return d, s.flag(d, sent, st, VerdictSecondPayment, now, verdict)
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
		// The first copy is stored with the claim's callback: a repeat
		// (perhaps padded) records that it came, not its body again.
		if d.write.Callback != nil {
			d.write.Callback.Body = nil
		}
		return d, nil
	}
	if cur != nil && !cur.State().CanTransition(ev.Payment.State()) {
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
	names := s.hooksFor(next.Status, false)
	if firstPaid && next.Status != PaymentSuccessful && !next.Status.Reversed() {
		// A payment first seen past SUCCESSFUL (its success notification
		// was lost, then a refund came) was paid all the same: the
		// success hooks run once, with this event. Not for a payment
		// first seen REVERSED: it was taken back before anything was
		// delivered, and the goods must not be.
		for _, n := range s.hooksFor(PaymentSuccessful, false) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) > 0 {
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

// reversal returns the event a CANCELLED or FAILED report of a paid
// payment stands for, or nil: the provider took the payment back
// (Midtrans: settlement → deny, capture → cancel), so it moves to
// REVERSED with all of its amount returned (an amount of 0 is the stored
// payment's). It is the one place this mapping lives. Unless
// InsecureSkipVerify, the report is confirmed with the provider first
// (the provider's answer is what reaches here the second time); with it,
// the callback as sent is mapped alike. ev is not changed: the copy is.
func reversal(ev *Event, cur *Payment) *Event {
	if cur == nil || !cur.Status.Paid() ||
		ev.Payment.Status != PaymentCancelled && ev.Payment.Status != PaymentFailed {
		return nil
	}
	rev := *ev
	rev.Payment.Status = PaymentReversed
	if rev.Payment.Amount.Amount == 0 {
		rev.Payment.Amount = cur.Amount
	}
	rev.Payment.RefundedAmount = Money{Amount: rev.Payment.Amount.Amount, Currency: rev.Payment.Amount.Currency}
	return &rev
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

// flag records a flagged event and, once per payment and verdict, queues
// the flagged hooks. Nothing else changes.
func (s *Service) flag(d *decision, ev *Event, st *ApplyState, v Verdict, now time.Time, verdict func(Verdict)) error {
	verdict(v)
	names := s.hooksFor(ev.Payment.Status, true)
	if len(names) == 0 {
		return nil
	}
	// One claim per payment and kind of flag, whatever the status or
	// amount reported: flagged hooks run once per payment and kind,
	// however many amounts a sender tries.
	key := EventKey{Provider: ev.Provider, PaymentID: ev.Payment.ID, Flag: v}
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
		d.write.HookRuns[i] = NewHookRun{EventID: hev.ID, Provider: hev.Payment.Provider, PaymentID: hev.Payment.ID,
			Hook: name, IdempotencyKey: HookIdempotencyKey(hev.ID, name)}
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

// paymentDefaults fills what an event's payment may leave out: its
// provider, and the currency of its amounts (IDR).
func paymentDefaults(ev *Event) {
	if ev.Payment.Provider == "" {
		ev.Payment.Provider = ev.Provider
	}
	if ev.Payment.Amount.Currency == "" {
		ev.Payment.Amount.Currency = IDR
	}
	if ev.Payment.RefundedAmount.Currency == "" && ev.Payment.RefundedAmount.Amount != 0 {
		ev.Payment.RefundedAmount.Currency = ev.Payment.Amount.Currency
	}
}
