package provider

import (
	"context"
	"slices"
	"time"
)

// Observer is told what a [Service] does, for metrics and traces. The
// provider/otelpaylink package implements it with OpenTelemetry; set it in
// ServiceOptions.Observer. A nil Observer costs nothing.
//
// The Service calls it synchronously on the paths it observes, so its
// methods must be fast, safe for concurrent use, and must not fail. The
// values it passes are bounded sets (provider and hook names, verdicts,
// refusals, outcomes), never ids or error text, so they can become metric
// attributes. Embed [NopObserver] to implement only some methods.
type Observer interface {
	// Describe tells the observer what the service is made of, so it can
	// create its series at zero before the first event. The Service calls
	// it from NewService (no hooks yet) and again from Start (with the
	// hooks registered by then).
	Describe(ctx context.Context, d ServiceDescription)

	// StartCallback is called when a callback for providerName arrives,
	// before it is verified. The returned context (carrying a span, say)
	// is used for the rest of the callback, and given to EndCallback.
	StartCallback(ctx context.Context, providerName string) context.Context
	// EndCallback is called once per callback, with what became of it.
	EndCallback(ctx context.Context, c CallbackObservation)

	// EventTrace returns text that identifies the trace in ctx (a W3C
	// traceparent, say), or "". The Service stores it with the hook event
	// an ApplyEvent queues and gives it back to StartHookRun, however
	// much later and in whichever process the run happens.
	EventTrace(ctx context.Context) string

	// StartHookRun is called before an attempt of a hook run. The returned
	// context is the one the hook is called with, and given to EndHookRun.
	StartHookRun(ctx context.Context, r HookRunObservation) context.Context
	// EndHookRun is called once per attempt, with its outcome.
	EndHookRun(ctx context.Context, r HookRunObservation)

	// StartReconcile is called before a [Service.Reconcile] pass; the
	// returned context is the pass's, and given to EndReconcile.
	StartReconcile(ctx context.Context) context.Context
	// EndReconcile is called once per pass with what it found.
	EndReconcile(ctx context.Context, rep ReconcileReport, d time.Duration)
}

// ServiceDescription is what [Observer.Describe] is told.
type ServiceDescription struct {
	// Providers are the names of the service's providers.
	Providers []string
	// Hooks are the names of the registered hooks.
	Hooks []string
	// HookRuns reads the service's hook queue, nil when there is none or
	// it cannot be read: an observer may read [Reader.HookBacklog]
	// from it.
	HookRuns Reader
	// Now is the service's clock.
	Now func() time.Time
}

// CallbackObservation is what [Observer.EndCallback] is told.
type CallbackObservation struct {
	Provider string
	// Verdict is what the Service decided, empty when the callback was
	// refused before a verdict existed (see Refusal). A callback recorded
	// as VerdictUnverified has a verdict, though it is answered with an
	// error.
	Verdict Verdict
	// Refusal says why a callback without a verdict was refused.
	Refusal Refusal
	// Duration is the time from arrival to the decision.
	Duration time.Duration
	// HookRuns is how many hook runs the callback queued.
	HookRuns int
}

// Refusal says, in a small fixed set, why a callback was refused: nothing
// of it was stored, and the provider delivers it again (or gives up).
type Refusal string

// The refusals.
const (
	// RefusalUnauthenticated: the callback's token or signature is wrong
	// or missing (CodeUnauthenticated): forged, or a misconfigured token.
	RefusalUnauthenticated Refusal = "unauthenticated"
	// RefusalPermissionDenied: the client is outside the allowed networks.
	RefusalPermissionDenied Refusal = "permission_denied"
	// RefusalTooLarge: the body is over the size limit.
	RefusalTooLarge Refusal = "too_large"
	// RefusalInvalid: the body is not a callback the provider sends
	// (malformed, wrong media type, missing or impossible fields).
	RefusalInvalid Refusal = "invalid"
	// RefusalUnavailable: the callback could not be handled now (the store
	// or the provider is unreachable, a deadline passed); the provider's
	// retry may succeed.
	RefusalUnavailable Refusal = "unavailable"
	// RefusalInternal: any other error.
	RefusalInternal Refusal = "internal"
)

// Refusals lists every refusal.
func Refusals() []Refusal {
	return []Refusal{RefusalUnauthenticated, RefusalPermissionDenied, RefusalTooLarge,
		RefusalInvalid, RefusalUnavailable, RefusalInternal}
}

// RefusalOf returns the refusal a callback's error stands for, by its
// [ErrorCode]; "" for nil.
func RefusalOf(err error) Refusal {
	if err == nil {
		return ""
	}
	switch CodeOf(err) {
	case CodeUnauthenticated:
		return RefusalUnauthenticated
	case CodePermissionDenied:
		return RefusalPermissionDenied
	case CodeTooLarge:
		return RefusalTooLarge
	case CodeInvalidArgument, CodeNotFound:
		return RefusalInvalid
	case CodeUnavailable, CodeDeadlineExceeded, CodeCanceled:
		return RefusalUnavailable
	}
	return RefusalInternal
}

// HookOutcome is how one attempt of a hook run ended.
type HookOutcome string

// The hook outcomes.
const (
	// HookOutcomeSucceeded: the hook returned nil.
	HookOutcomeSucceeded HookOutcome = "succeeded"
	// HookOutcomeRetrying: the hook failed (an error, a panic or a timeout)
	// and will be tried again.
	HookOutcomeRetrying HookOutcome = "retrying"
	// HookOutcomeFailed: the hook failed for good (attempts used up, or
	// its event cannot be delivered); the run waits for a human.
	HookOutcomeFailed HookOutcome = "failed"
	// HookOutcomeReleased: the attempt was given back unfinished, not
	// counted (the process is stopping, or the hook was unregistered).
	HookOutcomeReleased HookOutcome = "released"
)

// HookOutcomes lists every hook outcome.
func HookOutcomes() []HookOutcome {
	return []HookOutcome{HookOutcomeSucceeded, HookOutcomeRetrying, HookOutcomeFailed, HookOutcomeReleased}
}

// HookRunObservation is what [Observer.StartHookRun] and
// [Observer.EndHookRun] are told about one attempt.
type HookRunObservation struct {
	// Hook is the registered name of the hook.
	Hook string
	// Attempt is 1 on the first attempt, 2 on the first retry, and so on.
	Attempt int
	// Lag is how long after it was due the attempt started: for a first
	// attempt, the time from the commit that queued it.
	Lag time.Duration
	// Trace is what [Observer.EventTrace] returned when the event was
	// applied ("" if nothing).
	Trace string
	// Outcome, Panicked and Duration are set for EndHookRun only.
	Outcome HookOutcome
	// Panicked reports that the hook panicked (Outcome is retrying or
	// failed).
	Panicked bool
	// Duration is how long the hook ran.
	Duration time.Duration
}

// NopObserver is an [Observer] that does nothing. Embed it in an observer
// that implements only some methods.
type NopObserver struct{}

var _ Observer = NopObserver{}

// Describe does nothing.
func (NopObserver) Describe(context.Context, ServiceDescription) {}

// StartCallback returns ctx.
func (NopObserver) StartCallback(ctx context.Context, _ string) context.Context { return ctx }

// EndCallback does nothing.
func (NopObserver) EndCallback(context.Context, CallbackObservation) {}

// EventTrace returns "".
func (NopObserver) EventTrace(context.Context) string { return "" }

// StartHookRun returns ctx.
func (NopObserver) StartHookRun(ctx context.Context, _ HookRunObservation) context.Context {
	return ctx
}

// EndHookRun does nothing.
func (NopObserver) EndHookRun(context.Context, HookRunObservation) {}

// StartReconcile returns ctx.
func (NopObserver) StartReconcile(ctx context.Context) context.Context { return ctx }

// EndReconcile does nothing.
func (NopObserver) EndReconcile(context.Context, ReconcileReport, time.Duration) {}

// callbackObserved marks a context whose callback is observed already (by
// [Service.ObserveCallback]), so ApplyEvent does not count it again.
type callbackObserved struct{}

// ObserveCallback tells the service's Observer that a callback for
// providerName arrived, and returns the context to handle it with and the
// function to call, exactly once, with what became of it: the outcome of
// [Service.ApplyEvent] (or a zero Outcome) and its error (or the error
// that refused the callback before: see [RefusalOf]). ginadapter's
// callback route and providertest.Deliver call it; call it in a callback
// handler of your own. Without an Observer it costs nothing.
//
// ApplyEvent called with the returned context does not observe the
// callback again; called without it, it observes a SourceCallback event
// itself.
func (s *Service) ObserveCallback(ctx context.Context, providerName string) (context.Context, func(Outcome, error)) {
	if s.obs == nil {
		return ctx, endNothing
	}
	if p, err := s.lookup(providerName); err == nil {
		providerName = p.Name()
	} else {
		providerName = "unknown" // never the caller's text: it becomes an attribute
	}
	start := s.now()
	ctx = context.WithValue(s.obs.StartCallback(ctx, providerName), callbackObserved{}, true)
	return ctx, func(out Outcome, err error) {
		c := CallbackObservation{Provider: providerName, Verdict: out.Verdict, Duration: s.now().Sub(start), HookRuns: out.HookRuns}
		if c.Verdict == "" {
			c.Refusal = RefusalOf(err)
			if c.Refusal == "" {
				c.Refusal = RefusalInternal
			}
		}
		s.obs.EndCallback(ctx, c)
	}
}

func endNothing(Outcome, error) {}

// observeApply starts observing a callback that ApplyEvent was given
// without [Service.ObserveCallback]; it returns ctx and endNothing for any
// other event.
func (s *Service) observeApply(ctx context.Context, ev *Event) (context.Context, func(Outcome, error)) {
	if s.obs == nil || (ev.Source != "" && ev.Source != SourceCallback) || ctx.Value(callbackObserved{}) != nil {
		return ctx, endNothing
	}
	return s.ObserveCallback(ctx, ev.Provider)
}

// describe tells the observer what the service is made of.
func (s *Service) describe(ctx context.Context) {
	if s.obs == nil {
		return
	}
	d := ServiceDescription{Providers: slices.Clone(s.names), Now: s.now}
	if s.runner != nil {
		d.Hooks, d.HookRuns = s.runner.hookNames(), s.runner.reader
	}
	s.obs.Describe(ctx, d)
}
