package provider

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ServiceOptions configures a [Service]. The zero value of every field is
// the safe default; the one field that weakens a money rule is named
// Insecure.
type ServiceOptions struct {
	// Providers are the gateways the service may use, keyed by Name().
	Providers []Provider
	// Logger receives structured logs; nil logs to slog.Default(). Give
	// slog.New(slog.DiscardHandler) to discard them.
	Logger *slog.Logger
	// HookPolicy says how hook runs are retried; zero fields take
	// DefaultHookPolicy's values.
	HookPolicy HookPolicy
	// HookWorkers is how many hooks this process runs at once (default
	// DefaultHookWorkers).
	HookWorkers int
	// HookLease is how long a claimed run is held without renewal (default
	// DefaultHookLease): after a crash, another process takes it over
	// within about HookLease + HookPollInterval.
	HookLease time.Duration
	// HookPollInterval is how often the runner looks for runs it was not
	// woken for (default DefaultHookPollInterval): runs queued by other
	// replicas, retries coming due, runs of crashed processes.
	HookPollInterval time.Duration
	// InsecureSkipVerify, when true, applies a callback as its body says,
	// trusting the provider's callback credentials alone (Flip's token is
	// static and in every callback). By default (false) every callback
	// that would change a payment, run a hook or record a money fact
	// (a flagged amount, a reversal) is first confirmed with the
	// provider's API, and what is stored and handed to hooks is the
	// provider's answer: a callback the provider does not show is
	// recorded with VerdictUnverified and answered with a CodeUnavailable
	// error, so the provider retries it. Providers whose callbacks do not
	// sign the payment's status ([UnsignedCallbacks], Midtrans) are
	// confirmed whatever this says. Turning it on saves one provider
	// request per new status; a leaked callback secret then moves money.
	InsecureSkipVerify bool
	// ReconcileLookback bounds which links the reconciler visits: links
	// created longer ago are left alone. Default 30 days.
	ReconcileLookback time.Duration
	// ReconcileBatch is how many links one Reconcile pass visits per
	// provider. Default 200.
	ReconcileBatch int
	// ReconcilePaid, when positive, makes the reconciler also visit links
	// created within it that hold a payment which may still be refunded
	// or charged back (SUCCESSFUL, or partly returned), so that a refund
	// or chargeback whose callback was lost is applied too: a paid SINGLE
	// link is INACTIVE, and the reconciler otherwise visits ACTIVE links
	// only. Each visit costs a provider request; set it for providers
	// with refunds or chargebacks (Midtrans), to how long after a payment
	// they may come (e.g. 120 days). Zero, the default, visits open links
	// only. ReconcileBatch bounds these visits too, per provider and pass.
	ReconcilePaid time.Duration
	// LinkIntentWindow is how long a CreateLink with an IdempotencyKey may
	// still be running (default DefaultLinkIntentWindow). Its call to the
	// provider is given at most half of it. A retry within the window that
	// finds the first call's intent, but neither its stored link nor a
	// matching link at the provider, answers CodeUnavailable rather than
	// create a second link; after the window, such a retry creates the link.
	LinkIntentWindow time.Duration
	// Retention, when positive, is how long raw callbacks, succeeded hook
	// runs and event payloads are kept: [Service.RunReconciler] prunes what
	// is older after each pass (see [Service.Reconcile]). Zero never prunes.
	Retention time.Duration
	// FlaggedRetention is how long pruning keeps the callbacks operators
	// work from, those whose verdict is [Verdict.KeptForOperators] (every
	// flagged verdict but unverified). Zero, the default, keeps them
	// forever; when positive, they go once older than it, even when that
	// is sooner than Retention. Unverified callbacks follow Retention.
	// Pruning runs only when Retention is set.
	FlaggedRetention time.Duration
	// PruneBatch is how many rows of each kind one pruning statement
	// removes (default DefaultPruneBatch): smaller batches hold their row
	// locks for less time, larger ones finish sooner.
	PruneBatch int
	// Observer, when set, is told about callbacks, hook runs and
	// reconciliation passes, for metrics and traces (provider/otelpaylink
	// implements it with OpenTelemetry). Nil observes nothing, at no cost.
	Observer Observer
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service is the one place the payment rules live. Adapters (ginadapter,
// your own handlers, the reconciler) call it; it calls providers and the
// store. It is safe for concurrent use.
type Service struct {
	store     Store
	providers map[string]Provider
	names     []string
	log       *slog.Logger
	runner    *hookRunner
	verify    bool
	lookback  time.Duration
	paidFor   time.Duration
	batch     int
	window    time.Duration // LinkIntentWindow
	retention time.Duration // Retention
	keptFor   time.Duration // FlaggedRetention
	pruneMax  int           // PruneBatch
	now       func() time.Time
	obs       Observer    // nil: nothing is observed
	lookups   lookupGroup // confirmations in flight

	mu    sync.RWMutex
	hooks []registeredHook
}

type registeredHook struct {
	name string
	trig Trigger
	call HookFunc
}

// Outcome is what ApplyEvent did with an event.
type Outcome struct {
	Verdict Verdict
	// Previous is the payment's status before the event ("" if new).
	Previous PaymentStatus
	// Payment is the payment as stored after the event; nil for flagged events.
	Payment *Payment
	// HookRuns is how many hook runs were enqueued.
	HookRuns int
}

// NewService returns a Service over store and the given providers.
func NewService(store Store, opts ServiceOptions) (*Service, error) {
	const op = "provider.NewService"
	if store == nil {
		return nil, Errorf(CodeInvalidArgument, op, "store is nil")
	}
	if len(opts.Providers) == 0 {
		return nil, Errorf(CodeInvalidArgument, op, "no providers")
	}
	s := &Service{
		store:     store,
		providers: make(map[string]Provider, len(opts.Providers)),
		log:       opts.Logger,
		verify:    !opts.InsecureSkipVerify,
		lookback:  opts.ReconcileLookback,
		paidFor:   opts.ReconcilePaid,
		batch:     opts.ReconcileBatch,
		window:    opts.LinkIntentWindow,
		retention: opts.Retention,
		keptFor:   opts.FlaggedRetention,
		pruneMax:  opts.PruneBatch,
		now:       opts.Now,
		obs:       opts.Observer,
	}
	for _, p := range opts.Providers {
		if p == nil || p.Name() == "" {
			return nil, Errorf(CodeInvalidArgument, op, "a provider is nil or has no name")
		}
		if _, dup := s.providers[p.Name()]; dup {
			return nil, Errorf(CodeInvalidArgument, op, "two providers are named %q", p.Name())
		}
		s.providers[p.Name()] = p
		s.names = append(s.names, p.Name())
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.lookback <= 0 {
		s.lookback = 30 * 24 * time.Hour
	}
	if s.batch <= 0 {
		s.batch = 200
	}
	if s.window <= 0 {
		s.window = DefaultLinkIntentWindow
	}
	if s.now == nil {
		s.now = time.Now
	}
	if _, ok := store.(Pruner); s.retention > 0 && !ok {
		return nil, Errorf(CodeInvalidArgument, op, "Retention is set but the store is not a provider.Pruner")
	}
	if s.pruneMax <= 0 {
		s.pruneMax = DefaultPruneBatch
	}
	// The hook runs live in the store, queued in the same atomic write as
	// the event that causes them; a store that is no HookQueue runs none.
	if q, ok := store.(HookQueue); ok {
		s.runner = newHookRunner(s, q, opts)
	}
	s.describe(context.Background())
	return s, nil
}

// Store returns the service's store. Its optional capabilities are found
// by type assertion: reads through [Reader], the action log through
// [ActionLog].
func (s *Service) Store() Store { return s.store }

// Providers returns the configured providers, in the order given.
func (s *Service) Providers() []Provider {
	out := make([]Provider, len(s.names))
	for i, n := range s.names {
		out[i] = s.providers[n]
	}
	return out
}

// lookup returns the provider called name. An empty name selects the
// only provider when there is exactly one.
func (s *Service) lookup(name string) (Provider, error) {
	if name == "" && len(s.names) == 1 {
		name = s.names[0]
	}
	p, ok := s.providers[name]
	if !ok {
		return nil, Errorf(CodeNotFound, "provider.Service", "no provider named %q", name)
	}
	return p, nil
}

// On registers fn under name to run once for every event trig selects
// (see [When] and [WhenFlagged]):
//
//	svc.On("orders.mark-paid", provider.When(provider.PaymentSuccessful), markPaid)
//
// The name identifies the hook's runs in the store: keep it stable across
// deploys. It must be 1 to 200 characters and unique in the service: a
// second registration under the same name fails with [CodeConflict]. A
// nil fn, a blank name, the zero Trigger or a status When does not know
// fail with [CodeInvalidArgument]. Register hooks before [Service.Start].
func (s *Service) On(name string, trig Trigger, fn HookFunc) error {
	const op = "provider.Service.On"
	if fn == nil {
		return Errorf(CodeInvalidArgument, op, "hook %q is nil", name)
	}
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		return Errorf(CodeInvalidArgument, op, "a hook needs a name of 1 to 200 characters")
	}
	if err := trig.check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.hooks {
		if r.name == name {
			return Errorf(CodeConflict, op, "a hook named %q is already registered", name)
		}
	}
	s.hooks = append(s.hooks, registeredHook{name: name, trig: trig, call: fn})
	return nil
}

// hooksFor returns the names of the hooks that want an applied event with
// status st, or, with flagged, a flagged event.
func (s *Service) hooksFor(st PaymentStatus, flagged bool) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names []string
	for _, r := range s.hooks {
		if r.trig.selects(st, flagged) {
			names = append(names, r.name)
		}
	}
	return names
}

// Start begins running hooks in the background, until Stop or until ctx
// is done: it claims due hook runs from the queue (including those left by
// a crash or queued by other replicas), only of hooks registered here, and
// runs them under the HookPolicy. Register hooks before Start.
func (s *Service) Start(ctx context.Context) error {
	if err := s.runner.start(ctx); err != nil {
		return err
	}
	s.describe(ctx)
	return nil
}

// Stop stops running hooks: no new run starts, running ones may finish
// until ctx is done, when they are cancelled and given back to the queue
// (that attempt does not count). It returns once their outcomes are
// recorded.
func (s *Service) Stop(ctx context.Context) error { return s.runner.stop(ctx) }

// requeue puts a FAILED hook run back in the queue, due now, with a fresh
// attempt budget.
func (s *Service) requeue(ctx context.Context, id int64) error {
	if s.runner == nil {
		return Errorf(CodeFailedPrecondition, "provider.Service.Act", "no hook queue")
	}
	if _, err := s.runner.queue.FinishHookRuns(ctx, []HookResult{{HookLease: HookLease{ID: id}, Requeue: true}}); err != nil {
		return err
	}
	s.runner.wake()
	return nil
}

// hookCall returns the registered hook called name, or nil.
func (s *Service) hookCall(name string) func(context.Context, *HookEvent) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.hooks {
		if r.name == name {
			return r.call
		}
	}
	return nil
}

// CreateLink validates params, asks the provider for a link and stores it.
// An empty providerName selects the only provider.
//
// With an IdempotencyKey, a retried call returns the link the first call
// made, and never makes a second one, even when the first call's process
// died between the provider's answer and the store:
//
//   - Before asking the provider, CreateLink stores a [LinkIntent]: the
//     key, the provider, [CreateLinkParams.Fingerprint] of params, and the
//     title, type, amount and time. The link is stored and the intent
//     completed in one transaction.
//   - A call whose key was used with other parameters or another provider
//     is refused with CodeConflict; the error names the key.
//   - A call whose key has a stored link returns it; the provider is not
//     asked.
//   - A call whose key has an intent but no stored link (the first call
//     died after recording it, or lost the provider's answer, or is still
//     running) looks for the link at the provider, if it is a
//     [LinkFinder], among the links with the intent's title, type and
//     amount, created at or after the intent (where the provider records
//     creation times; Flip does not), that the store does not hold for
//     another key. One such link is stored and returned. None: the first
//     call never made one, and CreateLink makes it, unless the first call
//     may still be running (see ServiceOptions.LinkIntentWindow), which is
//     CodeUnavailable: retry. Several: CodeFailedPrecondition, naming them,
//     since picking one might hand the customer another order's link. A
//     provider that cannot search its links is asked again once the first
//     call cannot be running any more: whatever that call made was never
//     returned to anyone, and the provider is told so
//     (CreateLinkParams.KeyNeverReturned; Midtrans then uses the next
//     order id).
//   - A provider's refusal (CodeInvalidArgument, CodeUnauthenticated,
//     CodePermissionDenied, CodeFailedPrecondition, CodeUnimplemented,
//     CodeTooLarge, CodeNotFound) means no link was made: the intent is
//     deleted and the key can be used again, with other parameters too.
//
// Give links titles that tell orders apart (include the order id): the
// title is what a search at the provider goes by.
func (s *Service) CreateLink(ctx context.Context, providerName string, params CreateLinkParams) (*Link, error) {
	p, err := s.lookup(providerName)
	if err != nil {
		return nil, err
	}
	params, err = normalizeCreate(params)
	if err != nil {
		return nil, err
	}
	if params.IdempotencyKey == "" {
		return s.createAndStore(ctx, p, params, nil)
	}
	return s.createOnce(ctx, p, params)
}

// discard deactivates a link the provider made but the store does not
// hold, as the provider answered it, and reports whether it could.
func (s *Service) discard(ctx context.Context, p Provider, link *Link) bool {
	if _, err := DeactivateLink(context.WithoutCancel(ctx), p, link); err != nil {
		s.log.WarnContext(ctx, "paylink: could not deactivate an unstored link", "provider", p.Name(), "link", link.ID, "err", err)
		return false
	}
	return true
}

func normalizeCreate(p CreateLinkParams) (CreateLinkParams, error) {
	var fields []FieldError
	bad := func(field, rule, msg string) {
		fields = append(fields, FieldError{Field: field, Rule: rule, Message: msg})
	}
	p = p.withDefaults()
	if strings.TrimSpace(p.Title) == "" {
		bad("title", "required", "title is required")
	}
	if !p.Type.Valid() {
		bad("type", "oneof", "type must be SINGLE or MULTIPLE")
	}
	if !p.Step.Valid() {
		bad("step", "oneof", "step must be 1, 2 or 3")
	}
	if p.Amount.Amount < 0 {
		bad("amount", "min", "amount must not be negative")
	}
	if len(p.IdempotencyKey) > 255 {
		bad("idempotency_key", "max", "idempotency key must be at most 255 characters")
	}
	if len(fields) > 0 {
		return p, &Error{Code: CodeInvalidArgument, Op: "provider.CreateLink", Message: "invalid link parameters", Fields: fields}
	}
	return p, nil
}

// reader returns the store's read side, or a CodeUnimplemented error
// naming op when the store has none.
func (s *Service) reader(op string) (Reader, error) {
	if r, ok := s.store.(Reader); ok {
		return r, nil
	}
	return nil, &Error{Code: CodeUnimplemented, Op: op, Message: "the store is not a provider.Reader", Err: errors.ErrUnsupported}
}

// RefreshLink asks the provider for the link's payments, applies what it
// finds through the same rules as a callback (SourceRefresh), and returns
// the stored link and payments. Use it when a customer returns from the
// checkout page before the callback has arrived.
func (s *Service) RefreshLink(ctx context.Context, providerName, linkID string) (*Link, []Payment, error) {
	p, err := s.lookup(providerName)
	if err != nil {
		return nil, nil, err
	}
	stored, err := s.store.GetLink(ctx, p.Name(), linkID)
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := s.pull(ctx, p, stored, SourceRefresh); err != nil {
		return nil, nil, err
	}
	link, err := s.store.GetLink(ctx, p.Name(), linkID)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.reader("provider.Service.RefreshLink")
	if err != nil {
		return nil, nil, err
	}
	pays, err := r.ListLinkPayments(ctx, p.Name(), linkID)
	return link, pays, err
}

// pull applies every payment the provider reports for a stored link
// (read with its Raw: the provider is handed it as stored).
// Payments the store already holds with the status the provider reports
// are skipped: a pass over a link costs one read of its stored payments
// plus one ApplyEvent per payment that changed.
func (s *Service) pull(ctx context.Context, p Provider, link *Link, src Source) (seen, applied int, err error) {
	linkID := link.ID
	pays, err := p.ListLinkPayments(ctx, link)
	if err != nil {
		return 0, 0, err
	}
	if len(pays) == 0 {
		return 0, 0, nil
	}
	// Without a Reader every payment is applied again: the duplicates
	// cost a read each and change nothing.
	var stored []Payment
	if r, ok := s.store.(Reader); ok {
		if stored, err = r.ListLinkPayments(ctx, p.Name(), linkID); err != nil {
			return len(pays), 0, err
		}
	}
	known := make(map[string]PaymentState, len(stored))
	for _, sp := range stored {
		known[sp.ID] = sp.State()
	}
	for _, pay := range pays {
		if st, ok := known[pay.ID]; ok && (st.Status == pay.Status &&
			(st.Refunded == pay.RefundedAmount.Amount || !pay.Status.Partial()) ||
			// a reversal the provider still shows as deny or cancel
			st.Status == PaymentReversed && (pay.Status == PaymentCancelled || pay.Status == PaymentFailed)) {
			continue
		}
		pay.Provider = p.Name()
		if pay.LinkID == "" {
			pay.LinkID = linkID
		}
		out, err := s.ApplyEvent(ctx, &Event{Provider: p.Name(), Payment: pay, Source: src, ReceivedAt: s.now()})
		if err != nil {
			return len(pays), applied, err
		}
		if out.Verdict == VerdictApplied {
			applied++
		}
	}
	return len(pays), applied, nil
}
