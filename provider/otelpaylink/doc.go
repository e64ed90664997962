// Package otelpaylink reports what a [provider.Service] does as
// OpenTelemetry metrics and traces.
//
// It imports only the OpenTelemetry API: the app chooses the SDK and the
// exporters (Prometheus, OTLP, ...) and hands this package a MeterProvider
// and a TracerProvider, or lets it use the globals:
//
//	obs, err := otelpaylink.New(otelpaylink.Options{}) // otel.GetMeterProvider(), otel.GetTracerProvider()
//	if err != nil {
//		return err
//	}
//	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: ps, Observer: obs})
//
// # Metrics
//
// Every instrument is named paylink.* and carries a unit. Counters are
// created at zero for every provider × verdict (and refusal), every
// registered hook × outcome and every reconcile result, when the Service
// is built and again when it starts its hooks, so alerts work before the
// first event:
//
//	paylink.callbacks          {callback}  paylink.provider, paylink.verdict, paylink.refusal.reason
//	paylink.callback.duration  s           paylink.provider, paylink.verdict
//	paylink.hook.runs          {run}       paylink.hook, paylink.outcome
//	paylink.hook.duration      s           paylink.hook, paylink.outcome
//	paylink.hook.lag           s           paylink.hook
//	paylink.hook.panics        {panic}     paylink.hook
//	paylink.hook.backlog       {run}       (gauge, read from the hook queue on each collection)
//	paylink.hook.backlog.age   s           (gauge: how long the oldest due run has waited)
//	paylink.reconcile.passes   {pass}      paylink.outcome (ok, error)
//	paylink.reconcile.duration s
//	paylink.reconcile.links    {link}
//	paylink.reconcile.payments {payment}   paylink.result (applied, unchanged)
//	paylink.reconcile.errors   {error}
//
// A callback's paylink.verdict is the Service's verdict (applied,
// duplicate, stale, unknown_link, amount_mismatch, unverified,
// unknown_status) or "refused", with paylink.refusal.reason saying why
// ([provider.Refusal]). Attribute values come from small fixed sets and
// the names of providers and hooks, never from ids or error text.
// docs/operations.md says what to alert on.
//
// # Traces
//
// A callback is a span, paylink.callback, child of the span in the
// request's context (an HTTP server span, when the app has one). Its hook
// runs happen later, possibly in another process: the callback's W3C
// trace context is stored with the event, and each attempt is a new root
// span, paylink.hook.run, linked to the callback's span. A reconciliation
// pass is a span, paylink.reconcile, and the hook runs of what it applied
// link to it.
//
// Hook runs are paylink's own runner (see provider/runner.go), not River,
// so there is no otelriver middleware to add.
package otelpaylink
