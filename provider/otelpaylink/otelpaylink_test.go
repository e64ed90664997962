package otelpaylink_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/otelpaylink"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

const token = "cb-token-otel"

// shop is a Service over the in-memory store and provider, observed by
// otelpaylink through an in-memory reader and span recorder, with its
// callback route mounted by ginadapter.
type shop struct {
	svc    *provider.Service
	mem    *providertest.MemProvider
	store  *providertest.MemStore
	r      *gin.Engine
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{
		mem: providertest.NewMemProvider("mem", token), store: providertest.NewMemStore(), r: gin.New(),
		reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder(),
	}
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	obs, err := otelpaylink.New(otelpaylink.Options{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader)), TracerProvider: s.tp,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.svc, err = provider.NewService(s.store, provider.ServiceOptions{
		Providers: []provider.Provider{s.mem}, Observer: obs,
		HookPolicy:       provider.HookPolicy{MaxAttempts: 2, Backoff: func(int) time.Duration { return 0 }, Timeout: 10 * time.Second},
		HookPollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.svc.Stop(context.Background()) })
	if err := ginadapter.Mount(s.r, s.svc, ginadapter.Config{CallbackPath: "/callback"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// callback posts p's callback with tok inside a parent span, standing for
// the app's HTTP server span, and returns the status and the parent.
func (s *shop) callback(t *testing.T, p provider.Payment, tok string) (int, sdktrace.ReadOnlySpan) {
	t.Helper()
	ctx, parent := s.tp.Tracer("test").Start(t.Context(), "POST /callback")
	req, err := providertest.NewCallbackRequest(ctx, "/callback", tok, p)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.r.ServeHTTP(w, req)
	parent.End()
	return w.Code, parent.(sdktrace.ReadOnlySpan)
}

func (s *shop) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

func attrs(kv ...string) attribute.Set {
	var out []attribute.KeyValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, attribute.String(kv[i], kv[i+1]))
	}
	return attribute.NewSet(out...)
}

// sum returns the value of the counter name's series with exactly these
// attributes, and whether it exists.
func sum(t *testing.T, rm metricdata.ResourceMetrics, name string, kv ...string) (int64, bool) {
	t.Helper()
	m, ok := find(rm, name)
	if !ok {
		return 0, false
	}
	data, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
	}
	want := attrs(kv...)
	for _, dp := range data.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

func wantSum(t *testing.T, rm metricdata.ResourceMetrics, name string, want int64, kv ...string) {
	t.Helper()
	got, ok := sum(t, rm, name, kv...)
	if !ok {
		t.Errorf("%s%v: no series, want %d", name, kv, want)
	} else if got != want {
		t.Errorf("%s%v = %d, want %d", name, kv, got, want)
	}
}

// count returns how many values the histogram name recorded with these
// attributes.
func count(t *testing.T, rm metricdata.ResourceMetrics, name string, kv ...string) uint64 {
	t.Helper()
	m, ok := find(rm, name)
	if !ok {
		return 0
	}
	data, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is %T, want a float64 histogram", name, m.Data)
	}
	want := attrs(kv...)
	for _, dp := range data.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Count
		}
	}
	return 0
}

func gauge(t *testing.T, rm metricdata.ResourceMetrics, name string) float64 {
	t.Helper()
	m, ok := find(rm, name)
	if !ok {
		t.Fatalf("no gauge %s", name)
	}
	switch data := m.Data.(type) {
	case metricdata.Gauge[int64]:
		if len(data.DataPoints) == 1 {
			return float64(data.DataPoints[0].Value)
		}
	case metricdata.Gauge[float64]:
		if len(data.DataPoints) == 1 {
			return data.DataPoints[0].Value
		}
	}
	t.Fatalf("gauge %s = %+v, want one data point", name, m.Data)
	return 0
}

func TestAScriptedRunIsCountedAndTraced(t *testing.T) {
	s := newShop(t)
	gate := make(chan struct{})
	flakyCalls := 0
	hooks := map[string]provider.HookFunc{
		"receipt": func(ctx context.Context, ev *provider.HookEvent) error { return nil },
		"flaky": func(ctx context.Context, ev *provider.HookEvent) error {
			if flakyCalls++; flakyCalls == 1 {
				return errors.New("mail server down")
			}
			return nil
		},
		"broken": func(ctx context.Context, ev *provider.HookEvent) error { panic("nil map") },
	}
	for _, name := range []string{"receipt", "flaky", "broken"} {
		h := hooks[name]
		if err := s.svc.On(name, provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
			return h(ctx, ev)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Before any event, every series alerts need exists, at zero.
	rm := s.collect(t)
	for _, v := range provider.Verdicts() {
		wantSum(t, rm, "paylink.callbacks", 0, "paylink.provider", "mem", "paylink.verdict", string(v))
	}
	for _, r := range provider.Refusals() {
		wantSum(t, rm, "paylink.callbacks", 0, "paylink.provider", "mem", "paylink.verdict", "refused", "paylink.refusal.reason", string(r))
	}
	for _, h := range []string{"receipt", "flaky", "broken"} {
		for _, out := range provider.HookOutcomes() {
			wantSum(t, rm, "paylink.hook.runs", 0, "paylink.hook", h, "paylink.outcome", string(out))
		}
		wantSum(t, rm, "paylink.hook.panics", 0, "paylink.hook", h)
	}
	wantSum(t, rm, "paylink.reconcile.passes", 0, "paylink.outcome", "error")
	for _, kind := range []string{"open", "paid"} {
		wantSum(t, rm, "paylink.reconcile.links", 0, "paylink.link.kind", kind)
	}
	if got := gauge(t, rm, "paylink.hook.backlog"); got != 0 {
		t.Errorf("backlog before any event = %v, want 0", got)
	}

	// A payment: applied, repeated (duplicate), forged (refused).
	link, err := s.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatal(err)
	}
	pay, err := s.mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	if err != nil {
		t.Fatal(err)
	}
	code, httpSpan := s.callback(t, pay, token)
	if code != http.StatusOK {
		t.Fatalf("callback answered %d, want 200", code)
	}
	if code, _ := s.callback(t, pay, token); code != http.StatusOK {
		t.Fatalf("repeated callback answered %d, want 200", code)
	}
	if code, _ := s.callback(t, pay, "forged"); code != http.StatusUnauthorized {
		t.Fatalf("forged callback answered %d, want 401", code)
	}

	// The three hooks hold their runs: the backlog counts them.
	waitFor(t, "three running hook runs", func() bool {
		return gauge(t, s.collect(t), "paylink.hook.backlog") == 3
	})
	close(gate)
	waitFor(t, "the hook runs to settle", func() bool {
		runs, err := s.svc.Store().(provider.Reader).ListHookRuns(t.Context(), provider.HookRunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, r := range runs {
			if r.State == provider.HookRunSucceeded || r.State == provider.HookRunFailed {
				done++
			}
		}
		return done == 3
	})

	rm = s.collect(t)
	wantSum(t, rm, "paylink.callbacks", 1, "paylink.provider", "mem", "paylink.verdict", "applied")
	wantSum(t, rm, "paylink.callbacks", 1, "paylink.provider", "mem", "paylink.verdict", "duplicate")
	wantSum(t, rm, "paylink.callbacks", 1, "paylink.provider", "mem", "paylink.verdict", "refused", "paylink.refusal.reason", "unauthenticated")
	wantSum(t, rm, "paylink.callbacks", 0, "paylink.provider", "mem", "paylink.verdict", "stale")
	wantSum(t, rm, "paylink.callbacks", 0, "paylink.provider", "mem", "paylink.verdict", "refused", "paylink.refusal.reason", "invalid")
	for _, v := range []string{"applied", "duplicate", "refused"} {
		if n := count(t, rm, "paylink.callback.duration", "paylink.provider", "mem", "paylink.verdict", v); n != 1 {
			t.Errorf("paylink.callback.duration{%s} has %d values, want 1", v, n)
		}
	}
	wantSum(t, rm, "paylink.hook.runs", 1, "paylink.hook", "receipt", "paylink.outcome", "succeeded")
	wantSum(t, rm, "paylink.hook.runs", 1, "paylink.hook", "flaky", "paylink.outcome", "retrying")
	wantSum(t, rm, "paylink.hook.runs", 1, "paylink.hook", "flaky", "paylink.outcome", "succeeded")
	wantSum(t, rm, "paylink.hook.runs", 1, "paylink.hook", "broken", "paylink.outcome", "retrying")
	wantSum(t, rm, "paylink.hook.runs", 1, "paylink.hook", "broken", "paylink.outcome", "failed")
	wantSum(t, rm, "paylink.hook.runs", 0, "paylink.hook", "broken", "paylink.outcome", "succeeded")
	wantSum(t, rm, "paylink.hook.panics", 2, "paylink.hook", "broken")
	wantSum(t, rm, "paylink.hook.panics", 0, "paylink.hook", "flaky")
	for h, attempts := range map[string]uint64{"receipt": 1, "flaky": 2, "broken": 2} {
		if n := count(t, rm, "paylink.hook.lag", "paylink.hook", h); n != attempts {
			t.Errorf("paylink.hook.lag{%s} has %d values, want %d", h, n, attempts)
		}
	}
	if got := gauge(t, rm, "paylink.hook.backlog"); got != 0 {
		t.Errorf("backlog once every run finished = %v, want 0", got)
	}
	if got := gauge(t, rm, "paylink.hook.backlog.age"); got != 0 {
		t.Errorf("backlog age with no backlog = %v, want 0", got)
	}

	// A reconciliation pass over one open link.
	if _, err := s.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order 2", Amount: provider.Rupiah(1000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	rm = s.collect(t)
	wantSum(t, rm, "paylink.reconcile.passes", 1, "paylink.outcome", "ok")
	wantSum(t, rm, "paylink.reconcile.links", 1, "paylink.link.kind", "open")
	wantSum(t, rm, "paylink.reconcile.links", 0, "paylink.link.kind", "paid")
	wantSum(t, rm, "paylink.reconcile.payments", 0, "paylink.result", "applied")

	// Spans: three callbacks under their HTTP spans; five hook attempts,
	// each linked to the applied callback's span.
	var callbacks, runs []sdktrace.ReadOnlySpan
	for _, sp := range s.spans.Ended() {
		switch sp.Name() {
		case "paylink.callback":
			callbacks = append(callbacks, sp)
		case "paylink.hook.run":
			runs = append(runs, sp)
		}
	}
	if len(callbacks) != 3 {
		t.Fatalf("%d paylink.callback spans, want 3", len(callbacks))
	}
	applied := callbacks[0]
	if applied.Parent().SpanID() != httpSpan.SpanContext().SpanID() {
		t.Errorf("the callback span's parent is %v, want the HTTP span %v", applied.Parent().SpanID(), httpSpan.SpanContext().SpanID())
	}
	if !slices.Contains(applied.Attributes(), otelpaylink.AttrVerdict.String("applied")) {
		t.Errorf("the first callback span has %v, want verdict applied", applied.Attributes())
	}
	if len(runs) != 5 {
		t.Fatalf("%d paylink.hook.run spans, want 5", len(runs))
	}
	for _, r := range runs {
		links := r.Links()
		if len(links) != 1 || links[0].SpanContext.TraceID() != applied.SpanContext().TraceID() ||
			links[0].SpanContext.SpanID() != applied.SpanContext().SpanID() {
			t.Errorf("hook run span %v links %v, want the applied callback's span %v", r.Attributes(), links, applied.SpanContext())
		}
		if r.Parent().IsValid() {
			t.Errorf("hook run span has parent %v, want a new root", r.Parent())
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
