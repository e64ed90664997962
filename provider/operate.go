package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CallbackDecoder is a Provider that can decode a callback body it
// verified earlier, as a [Store] keeps it ([CallbackRecord.Body]: secrets
// such as Flip's token already removed), without verifying it again.
// [Service.Act] uses it to reprocess a recorded callback: only verified
// callbacks are ever recorded, so the body is the provider's word; with
// verification on (the default) the reprocessed event is still confirmed
// with the provider's API before it changes a payment.
type CallbackDecoder interface {
	// DecodeCallback returns the event body describes, with Source
	// SourceCallback and Raw set to body. A body that is not a callback of
	// this provider is CodeInvalidArgument.
	DecodeCallback(ctx context.Context, body []byte) (*Event, error)
}

// CallbackRedactor is a Provider that can hide the secrets a recorded
// callback body may hold (a token, a signature) before a person sees it.
type CallbackRedactor interface {
	// RedactCallback returns body with every secret value replaced by a
	// marker; everything else is kept as received.
	RedactCallback(body []byte) []byte
}

// ActionLog records what operators did, the audit trail of
// [Service.Act]. It is part of the ledger: [Store.Prune] never removes an
// action. gormstore's Store and the in-memory store implement it beside
// Store; [Service] finds it on its store by type assertion, and every
// ActionLog passes providertest.TestStore's action tests.
type ActionLog interface {
	// RecordAction stores a and sets a.ID to its new, unique ID. An
	// action without a Kind or an Actor is CodeInvalidArgument.
	RecordAction(ctx context.Context, a *OperatorAction) error
	// ListActions returns recorded actions, newest first (by At, then by
	// ID).
	ListActions(ctx context.Context, filter ActionFilter) ([]OperatorAction, error)
}

// ActionKind names what an operator asked for.
type ActionKind string

// The operator actions.
const (
	// ActionReprocessCallback decodes a recorded callback again and applies
	// it: one that arrived before its link was stored, or that could not
	// be confirmed with the provider at the time.
	ActionReprocessCallback ActionKind = "reprocess_callback"
	// ActionRefetchPayment asks the provider for the payments of a
	// payment's link and applies what it reports (SourceRefresh).
	ActionRefetchPayment ActionKind = "refetch_payment"
	// ActionReconcileLink reconciles one stored link now, as the
	// reconciler would (SourceReconcile).
	ActionReconcileLink ActionKind = "reconcile_link"
	// ActionRetryHookRun puts a failed hook run back in the queue.
	ActionRetryHookRun ActionKind = "retry_hook_run"
)

// ActionKinds lists every action kind.
func ActionKinds() []ActionKind {
	return []ActionKind{ActionReprocessCallback, ActionRefetchPayment, ActionReconcileLink, ActionRetryHookRun}
}

// Valid reports whether k is one of ActionKinds.
func (k ActionKind) Valid() bool {
	for _, x := range ActionKinds() {
		if k == x {
			return true
		}
	}
	return false
}

// Action is what an operator asks [Service.Act] to do. Which target
// fields count depends on Kind: CallbackID for ActionReprocessCallback,
// Provider and PaymentID for ActionRefetchPayment, Provider and LinkID for
// ActionReconcileLink, HookRunID for ActionRetryHookRun. An empty Provider
// selects the only provider when there is exactly one.
type Action struct {
	Kind ActionKind
	// Actor names the person asking, as the host app authenticated them;
	// required.
	Actor      string
	CallbackID int64
	Provider   string
	PaymentID  string
	LinkID     string
	HookRunID  int64
}

// OperatorAction is one recorded [Action] and its outcome.
type OperatorAction struct {
	ID    int64
	Kind  ActionKind
	Actor string
	// The target, as far as it is known: a reprocessed callback also names
	// its payment and link; a retried hook run the payment of its event.
	Provider   string
	CallbackID int64
	PaymentID  string
	LinkID     string
	HookRunID  int64
	// Result says what the action did ("applied", "2 payments seen, 1
	// applied"); empty when it failed before doing anything.
	Result string
	// Error is why the action failed; empty when it succeeded.
	Error string
	At    time.Time
}

// Succeeded reports whether the action did what was asked.
func (a *OperatorAction) Succeeded() bool { return a.Error == "" }

// ActionFilter selects recorded actions; zero fields match everything.
type ActionFilter struct {
	Kind       ActionKind
	Actor      string
	Provider   string
	CallbackID int64
	// CallbackIDs, when not empty, selects the actions on any of these
	// callbacks (the console's inbox reads a page's in one call). At most
	// MaxActionFilterIDs.
	CallbackIDs []int64
	PaymentID   string
	LinkID      string
	HookRunID   int64
	Limit       int
}

// MaxActionFilterIDs bounds ActionFilter.CallbackIDs.
const MaxActionFilterIDs = 500

// Field limits of an action, so every store keeps one whole.
const (
	// MaxActorBytes bounds OperatorAction.Actor.
	MaxActorBytes = 200
	// MaxActionTextBytes bounds OperatorAction.Result and Error; longer
	// text is cut at a rune boundary.
	MaxActionTextBytes = 1000
)

// actionLog returns the store's action log, nil when the store has none
// (then [Service.Act] refuses every action).
func (s *Service) actionLog() ActionLog {
	l, _ := s.store.(ActionLog)
	return l
}

// Act does what an operator asked and records it, with who asked, when,
// the target, and the outcome, in the store's [ActionLog]. The rules are
// those of the library's own paths:
//
//   - ActionReprocessCallback decodes the recorded callback's body with
//     the provider's [CallbackDecoder] and applies it through
//     [Service.ApplyEvent] as a callback: it is recorded again with its
//     new verdict (the original record stays as it was), a repeat of an
//     applied status is a duplicate, hooks run once per event whatever
//     the number of reprocessings, and (unless InsecureSkipVerify) the event is
//     confirmed with the provider first.
//   - ActionRefetchPayment and ActionReconcileLink ask the provider for
//     the link's payments and apply each that changed, as
//     [Service.RefreshLink] and [Service.Reconcile] do; the link must be
//     stored.
//   - ActionRetryHookRun puts a FAILED hook run back in the queue, due
//     now, with a fresh attempt budget.
//
// An invalid action (no actor, an unknown kind, no target) is
// CodeInvalidArgument and is not recorded; a store without an ActionLog is
// CodeFailedPrecondition. Any other failure is recorded with the action
// and returned, beside the recorded action. An action that was done but
// could not be recorded returns the recording's error and a nil action.
func (s *Service) Act(ctx context.Context, a Action) (*OperatorAction, error) {
	const op = "provider.Service.Act"
	log := s.actionLog()
	if log == nil {
		return nil, Errorf(CodeFailedPrecondition, op, "the store keeps no action log")
	}
	if err := checkAction(a); err != nil {
		return nil, err
	}
	rec := &OperatorAction{
		Kind: a.Kind, Actor: a.Actor, Provider: a.Provider, CallbackID: a.CallbackID,
		PaymentID: a.PaymentID, LinkID: a.LinkID, HookRunID: a.HookRunID,
	}
	var err error
	switch a.Kind {
	case ActionReprocessCallback:
		err = s.reprocess(ctx, rec)
	case ActionRefetchPayment:
		err = s.refetch(ctx, rec)
	case ActionReconcileLink:
		err = s.reconcileOne(ctx, rec)
	case ActionRetryHookRun:
		err = s.retryRun(ctx, rec)
	}
	rec.At = s.now()
	if err != nil {
		rec.Error = truncateText(err.Error(), MaxActionTextBytes)
	}
	rec.Result = truncateText(rec.Result, MaxActionTextBytes)
	if rerr := log.RecordAction(context.WithoutCancel(ctx), rec); rerr != nil {
		return nil, &Error{Op: op, Message: fmt.Sprintf("%s was done but could not be recorded", a.Kind), Err: rerr}
	}
	lvl := s.log.InfoContext
	if err != nil {
		lvl = s.log.WarnContext
	}
	lvl(ctx, "paylink: operator action", "action", rec.ID, "kind", rec.Kind, "actor", rec.Actor,
		"provider", rec.Provider, "callback", rec.CallbackID, "payment", rec.PaymentID, "link", rec.LinkID,
		"hook_run", rec.HookRunID, "result", rec.Result, "err", err)
	return rec, err
}

func checkAction(a Action) error {
	var fields []FieldError
	bad := func(field, rule, msg string) {
		fields = append(fields, FieldError{Field: field, Rule: rule, Message: msg})
	}
	switch {
	case strings.TrimSpace(a.Actor) == "":
		bad("actor", "required", "an action needs the operator's name")
	case len(a.Actor) > MaxActorBytes || !utf8.ValidString(a.Actor):
		bad("actor", "max", fmt.Sprintf("the operator's name must be valid UTF-8 of at most %d bytes", MaxActorBytes))
	}
	switch a.Kind {
	case ActionReprocessCallback:
		if a.CallbackID <= 0 {
			bad("callback_id", "required", "reprocessing needs a callback id")
		}
	case ActionRefetchPayment:
		if idProblem(a.PaymentID) != "" {
			bad("payment_id", "required", "re-fetching needs a payment id")
		}
	case ActionReconcileLink:
		if idProblem(a.LinkID) != "" {
			bad("link_id", "required", "reconciling needs a link id")
		}
	case ActionRetryHookRun:
		if a.HookRunID <= 0 {
			bad("hook_run_id", "required", "retrying needs a hook run id")
		}
	default:
		bad("kind", "oneof", fmt.Sprintf("unknown action %.40q", a.Kind))
	}
	if len(fields) > 0 {
		return &Error{Code: CodeInvalidArgument, Op: "provider.Service.Act", Message: "invalid action", Fields: fields}
	}
	return nil
}

// reprocess applies a recorded callback again.
func (s *Service) reprocess(ctx context.Context, rec *OperatorAction) error {
	const op = "provider.Service.Act"
	r, err := s.reader(op)
	if err != nil {
		return err
	}
	cbs, err := r.ListCallbacks(ctx, CallbackFilter{ID: rec.CallbackID, Limit: 1})
	if err != nil {
		return err
	}
	if len(cbs) == 0 {
		return Errorf(CodeNotFound, op, "callback %d not found", rec.CallbackID)
	}
	cb := &cbs[0]
	rec.Provider, rec.PaymentID, rec.LinkID = cb.Provider, cb.PaymentID, cb.LinkID
	p, err := s.lookup(cb.Provider)
	if err != nil {
		return err
	}
	dec, ok := p.(CallbackDecoder)
	if !ok {
		return Unsupported(p.Name() + ".DecodeCallback")
	}
	ev, err := dec.DecodeCallback(ctx, cb.Body)
	if err != nil {
		return err
	}
	if ev.Provider != cb.Provider || ev.Payment.ID != cb.PaymentID {
		return Errorf(CodeFailedPrecondition, op, "callback %d decodes to payment %.40q, recorded as %.40q", cb.ID, ev.Payment.ID, cb.PaymentID)
	}
	ev.Source, ev.ReceivedAt = SourceCallback, s.now()
	out, err := s.ApplyEvent(ctx, ev)
	if out.Verdict != "" {
		rec.Result = string(out.Verdict)
		if out.Payment != nil {
			rec.Result += ", payment " + string(out.Payment.Status)
		}
	}
	return err
}

// refetch re-reads a stored payment's link from the provider.
func (s *Service) refetch(ctx context.Context, rec *OperatorAction) error {
	p, err := s.lookup(rec.Provider)
	if err != nil {
		return err
	}
	rec.Provider = p.Name()
	pay, err := s.store.GetPayment(ctx, p.Name(), rec.PaymentID)
	if err != nil {
		return err
	}
	rec.LinkID = pay.LinkID
	link, err := s.store.GetLink(ctx, p.Name(), pay.LinkID)
	if err != nil {
		return err
	}
	seen, applied, err := s.pull(ctx, p, link, SourceRefresh)
	rec.Result = pulled(seen, applied)
	if err != nil {
		return err
	}
	if now, err := s.store.GetPayment(ctx, p.Name(), rec.PaymentID); err == nil {
		rec.Result += ", payment " + string(now.Status)
	}
	return nil
}

// reconcileOne reconciles one stored link.
func (s *Service) reconcileOne(ctx context.Context, rec *OperatorAction) error {
	p, err := s.lookup(rec.Provider)
	if err != nil {
		return err
	}
	rec.Provider = p.Name()
	link, err := s.store.GetLink(ctx, p.Name(), rec.LinkID)
	if err != nil {
		return err
	}
	seen, applied, err := s.pull(ctx, p, link, SourceReconcile)
	rec.Result = pulled(seen, applied)
	if err != nil {
		return err
	}
	return s.store.SaveLink(ctx, &LinkWrite{Provider: p.Name(), ID: rec.LinkID, ReconciledAt: s.now()})
}

func pulled(seen, applied int) string {
	return strconv.Itoa(seen) + " payments seen, " + strconv.Itoa(applied) + " applied"
}

// retryRun puts a failed hook run back in the queue.
func (s *Service) retryRun(ctx context.Context, rec *OperatorAction) error {
	if s.runner == nil {
		return Errorf(CodeFailedPrecondition, "provider.Service.Act", "no hook queue")
	}
	r, err := s.reader("provider.Service.Act")
	if err != nil {
		return err
	}
	runs, err := r.ListHookRuns(ctx, HookRunFilter{ID: rec.HookRunID, Limit: 1})
	if err != nil {
		return err
	}
	if len(runs) == 1 {
		rec.Provider, rec.PaymentID = runs[0].Provider, runs[0].PaymentID
	}
	if err := s.requeue(ctx, rec.HookRunID); err != nil {
		return err
	}
	rec.Result = "queued again"
	if len(runs) == 1 {
		rec.Result = "hook " + runs[0].Hook + " queued again"
	}
	return nil
}

// truncateText cuts s to at most n bytes at a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
