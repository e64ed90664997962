package otelpaylink

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/paylinkgo/paylink/provider"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/paylinkgo/paylink/provider/otelpaylink"

// The attribute keys.
const (
	AttrProvider      = attribute.Key("paylink.provider")
	AttrVerdict       = attribute.Key("paylink.verdict")
	AttrRefusalReason = attribute.Key("paylink.refusal.reason")
	AttrHook          = attribute.Key("paylink.hook")
	AttrOutcome       = attribute.Key("paylink.outcome")
	AttrResult        = attribute.Key("paylink.result")
	AttrAttempt       = attribute.Key("paylink.hook.attempt")
	AttrHookRuns      = attribute.Key("paylink.hook_runs")
	// AttrLinkKind says why the reconciler visited a link: "open" (ACTIVE)
	// or "paid" (a paid payment a refund or chargeback may still move; see
	// provider.ServiceOptions.ReconcilePaid).
	AttrLinkKind = attribute.Key("paylink.link.kind")
)

// VerdictRefused is the paylink.verdict of a callback refused before a
// verdict existed; paylink.refusal.reason says why.
const VerdictRefused = "refused"

// Options configures [New]. The zero value uses the global providers.
type Options struct {
	// MeterProvider makes the meter; nil: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider makes the tracer; nil: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}

// Observer is a [provider.Observer] that records OpenTelemetry metrics and
// spans. Give one to one Service (ServiceOptions.Observer). It is safe for
// concurrent use.
type Observer struct {
	meter  metric.Meter
	tracer trace.Tracer

	callbacks    metric.Int64Counter
	callbackTime metric.Float64Histogram
	hookRuns     metric.Int64Counter
	hookTime     metric.Float64Histogram
	hookLag      metric.Float64Histogram
	hookPanics   metric.Int64Counter
	backlog      metric.Int64ObservableGauge
	backlogAge   metric.Float64ObservableGauge
	passes       metric.Int64Counter
	passTime     metric.Float64Histogram
	passLinks    metric.Int64Counter
	passPayments metric.Int64Counter
	passErrors   metric.Int64Counter

	mu        sync.RWMutex
	sets      map[setKey]metric.MeasurementOption // attribute sets, made once each
	backlogOn bool                                // the backlog gauges' callback is registered
}

var _ provider.Observer = (*Observer)(nil)

// setKey names one attribute set.
type setKey struct{ kind, a, b, c string }

// Bucket boundaries, in seconds.
var (
	callbackBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	lagBuckets      = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600}
	hookBuckets     = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	passBuckets     = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}
)

// New returns an Observer that records through the given providers. It
// fails only when an instrument cannot be created.
func New(opts Options) (*Observer, error) {
	mp, tp := opts.MeterProvider, opts.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	o := &Observer{
		meter:  mp.Meter(ScopeName),
		tracer: tp.Tracer(ScopeName),
		sets:   make(map[setKey]metric.MeasurementOption),
	}
	m := o.meter
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	o.callbacks, err = m.Int64Counter("paylink.callbacks", metric.WithUnit("{callback}"),
		metric.WithDescription("Callbacks received, by provider and verdict (refused ones by reason)."))
	check(err)
	o.callbackTime, err = m.Float64Histogram("paylink.callback.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a callback's arrival to its verdict or refusal."),
		metric.WithExplicitBucketBoundaries(callbackBuckets...))
	check(err)
	o.hookRuns, err = m.Int64Counter("paylink.hook.runs", metric.WithUnit("{run}"),
		metric.WithDescription("Hook attempts, by hook and outcome."))
	check(err)
	o.hookTime, err = m.Float64Histogram("paylink.hook.duration", metric.WithUnit("s"),
		metric.WithDescription("How long hook attempts ran."), metric.WithExplicitBucketBoundaries(hookBuckets...))
	check(err)
	o.hookLag, err = m.Float64Histogram("paylink.hook.lag", metric.WithUnit("s"),
		metric.WithDescription("Time from when a hook run was due (the commit that queued it, for a first attempt) to its start."),
		metric.WithExplicitBucketBoundaries(lagBuckets...))
	check(err)
	o.hookPanics, err = m.Int64Counter("paylink.hook.panics", metric.WithUnit("{panic}"),
		metric.WithDescription("Hook attempts that panicked."))
	check(err)
	o.backlog, err = m.Int64ObservableGauge("paylink.hook.backlog", metric.WithUnit("{run}"),
		metric.WithDescription("Hook runs due and not finished (running ones included)."))
	check(err)
	o.backlogAge, err = m.Float64ObservableGauge("paylink.hook.backlog.age", metric.WithUnit("s"),
		metric.WithDescription("How long the oldest due, unfinished hook run has been due; 0 with no backlog."))
	check(err)
	o.passes, err = m.Int64Counter("paylink.reconcile.passes", metric.WithUnit("{pass}"),
		metric.WithDescription("Reconciliation passes, by outcome (ok, error)."))
	check(err)
	o.passTime, err = m.Float64Histogram("paylink.reconcile.duration", metric.WithUnit("s"),
		metric.WithDescription("How long reconciliation passes took."), metric.WithExplicitBucketBoundaries(passBuckets...))
	check(err)
	o.passLinks, err = m.Int64Counter("paylink.reconcile.links", metric.WithUnit("{link}"),
		metric.WithDescription("Links visited by reconciliation passes, by why: open, or paid and still refundable."))
	check(err)
	o.passPayments, err = m.Int64Counter("paylink.reconcile.payments", metric.WithUnit("{payment}"),
		metric.WithDescription("Payments the providers reported to reconciliation, by result: applied (a callback had not arrived) or unchanged."))
	check(err)
	o.passErrors, err = m.Int64Counter("paylink.reconcile.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Links a reconciliation pass could not reconcile."))
	check(err)
	if len(errs) > 0 {
		return nil, provider.Errorf(provider.CodeInternal, "otelpaylink.New", "creating instruments: %w", errs[0])
	}
	return o, nil
}

// set returns the measurement option for an attribute set, made once.
func (o *Observer) set(k setKey) metric.MeasurementOption {
	o.mu.RLock()
	opt, ok := o.sets[k]
	o.mu.RUnlock()
	if ok {
		return opt
	}
	var kvs []attribute.KeyValue
	switch k.kind {
	case "callback":
		kvs = []attribute.KeyValue{AttrProvider.String(k.a), AttrVerdict.String(k.b)}
		if k.c != "" {
			kvs = append(kvs, AttrRefusalReason.String(k.c))
		}
	case "hook":
		kvs = []attribute.KeyValue{AttrHook.String(k.a)}
		if k.b != "" {
			kvs = append(kvs, AttrOutcome.String(k.b))
		}
	case "pass":
		kvs = []attribute.KeyValue{AttrOutcome.String(k.a)}
	case "payments":
		kvs = []attribute.KeyValue{AttrResult.String(k.a)}
	case "links":
		kvs = []attribute.KeyValue{AttrLinkKind.String(k.a)}
	}
	opt = metric.WithAttributeSet(attribute.NewSet(kvs...))
	o.mu.Lock()
	o.sets[k] = opt
	o.mu.Unlock()
	return opt
}

func callbackKey(c provider.CallbackObservation) setKey {
	if c.Verdict == "" {
		return setKey{kind: "callback", a: c.Provider, b: VerdictRefused, c: string(c.Refusal)}
	}
	return setKey{kind: "callback", a: c.Provider, b: string(c.Verdict)}
}

// Describe creates every counter series at zero and, the first time it is
// given a hook queue, starts reading the backlog gauges from it.
func (o *Observer) Describe(ctx context.Context, d provider.ServiceDescription) {
	for _, p := range d.Providers {
		for _, v := range provider.Verdicts() {
			o.callbacks.Add(ctx, 0, o.set(setKey{kind: "callback", a: p, b: string(v)}))
		}
		for _, r := range provider.Refusals() {
			o.callbacks.Add(ctx, 0, o.set(setKey{kind: "callback", a: p, b: VerdictRefused, c: string(r)}))
		}
	}
	for _, h := range d.Hooks {
		for _, out := range provider.HookOutcomes() {
			o.hookRuns.Add(ctx, 0, o.set(setKey{kind: "hook", a: h, b: string(out)}))
		}
		o.hookPanics.Add(ctx, 0, o.set(setKey{kind: "hook", a: h}))
	}
	for _, out := range []string{"ok", "error"} {
		o.passes.Add(ctx, 0, o.set(setKey{kind: "pass", a: out}))
	}
	for _, res := range []string{"applied", "unchanged"} {
		o.passPayments.Add(ctx, 0, o.set(setKey{kind: "payments", a: res}))
	}
	for _, kind := range []string{"open", "paid"} {
		o.passLinks.Add(ctx, 0, o.set(setKey{kind: "links", a: kind}))
	}
	o.passErrors.Add(ctx, 0)
	if d.HookRuns != nil {
		o.observeBacklog(d.HookRuns, d.Now)
	}
}

// backlogTimeout bounds one read of the backlog.
const backlogTimeout = 5 * time.Second

// observeBacklog registers the backlog gauges' callback, once.
func (o *Observer) observeBacklog(q provider.Reader, now func() time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.backlogOn {
		return
	}
	if now == nil {
		now = time.Now
	}
	o.backlogOn = true
	_, err := o.meter.RegisterCallback(func(ctx context.Context, m metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, backlogTimeout)
		defer cancel()
		t := now()
		b, err := q.HookBacklog(ctx)
		if err != nil {
			return err
		}
		m.ObserveInt64(o.backlog, b.Runs)
		age := 0.0
		if b.Runs > 0 && !b.OldestDue.IsZero() {
			age = max(t.Sub(b.OldestDue).Seconds(), 0)
		}
		m.ObserveFloat64(o.backlogAge, age)
		return nil
	}, o.backlog, o.backlogAge)
	if err != nil {
		otel.Handle(err)
	}
}

// StartCallback starts the paylink.callback span.
func (o *Observer) StartCallback(ctx context.Context, providerName string) context.Context {
	ctx, _ = o.tracer.Start(ctx, "paylink.callback", trace.WithAttributes(AttrProvider.String(providerName)))
	return ctx
}

// EndCallback counts the callback and ends its span.
func (o *Observer) EndCallback(ctx context.Context, c provider.CallbackObservation) {
	k := callbackKey(c)
	set := o.set(k)
	o.callbacks.Add(ctx, 1, set)
	o.callbackTime.Record(ctx, c.Duration.Seconds(), o.set(setKey{kind: "callback", a: c.Provider, b: k.b}))
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(AttrVerdict.String(k.b), AttrHookRuns.Int(c.HookRuns))
	switch {
	case c.Verdict == "":
		span.SetAttributes(AttrRefusalReason.String(k.c))
		span.SetStatus(codes.Error, "callback refused: "+k.c)
	case c.Verdict == provider.VerdictUnverified:
		span.SetStatus(codes.Error, "callback not confirmed by the provider")
	}
	span.End()
}

// EventTrace returns the W3C traceparent of the span in ctx, or "".
func (o *Observer) EventTrace(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c.Get("traceparent")
}

// StartHookRun starts the paylink.hook.run span, a new root linked to the
// span that queued the run.
func (o *Observer) StartHookRun(ctx context.Context, r provider.HookRunObservation) context.Context {
	opts := []trace.SpanStartOption{
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(AttrHook.String(r.Hook), AttrAttempt.Int(r.Attempt)),
	}
	if r.Trace != "" {
		queued := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": r.Trace})
		if sc := trace.SpanContextFromContext(queued); sc.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	ctx, _ = o.tracer.Start(ctx, "paylink.hook.run", opts...)
	o.hookLag.Record(ctx, r.Lag.Seconds(), o.set(setKey{kind: "hook", a: r.Hook}))
	return ctx
}

// EndHookRun counts the attempt and ends its span.
func (o *Observer) EndHookRun(ctx context.Context, r provider.HookRunObservation) {
	set := o.set(setKey{kind: "hook", a: r.Hook, b: string(r.Outcome)})
	o.hookRuns.Add(ctx, 1, set)
	o.hookTime.Record(ctx, r.Duration.Seconds(), set)
	if r.Panicked {
		o.hookPanics.Add(ctx, 1, o.set(setKey{kind: "hook", a: r.Hook}))
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(AttrOutcome.String(string(r.Outcome)))
	switch r.Outcome {
	case provider.HookOutcomeRetrying, provider.HookOutcomeFailed:
		msg := "hook failed"
		if r.Panicked {
			msg = "hook panicked"
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// StartReconcile starts the paylink.reconcile span.
func (o *Observer) StartReconcile(ctx context.Context) context.Context {
	ctx, _ = o.tracer.Start(ctx, "paylink.reconcile")
	return ctx
}

// EndReconcile counts the pass and what it found, and ends its span.
func (o *Observer) EndReconcile(ctx context.Context, rep provider.ReconcileReport, d time.Duration) {
	outcome := "ok"
	if len(rep.Errors) > 0 {
		outcome = "error"
	}
	o.passes.Add(ctx, 1, o.set(setKey{kind: "pass", a: outcome}))
	o.passTime.Record(ctx, d.Seconds())
	o.passLinks.Add(ctx, int64(rep.Links-rep.PaidLinks), o.set(setKey{kind: "links", a: "open"}))
	o.passLinks.Add(ctx, int64(rep.PaidLinks), o.set(setKey{kind: "links", a: "paid"}))
	o.passPayments.Add(ctx, int64(rep.Applied), o.set(setKey{kind: "payments", a: "applied"}))
	o.passPayments.Add(ctx, int64(rep.Payments-rep.Applied), o.set(setKey{kind: "payments", a: "unchanged"}))
	o.passErrors.Add(ctx, int64(len(rep.Errors)))
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.Int("paylink.reconcile.links", rep.Links),
		attribute.Int("paylink.reconcile.paid_links", rep.PaidLinks),
		attribute.Int("paylink.reconcile.payments", rep.Payments),
		attribute.Int("paylink.reconcile.applied", rep.Applied),
		attribute.Int("paylink.reconcile.errors", len(rep.Errors)))
	if outcome == "error" {
		span.SetStatus(codes.Error, "some links could not be reconciled")
	}
	span.End()
}
