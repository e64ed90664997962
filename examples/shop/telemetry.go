package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/paylinkgo/paylink/provider/otelpaylink"
)

// otlpInterval is how often metrics are pushed over OTLP.
const otlpInterval = 30 * time.Second

// telemetry is the shop's OpenTelemetry SDK, held by run rather than set
// as the process's globals: a MeterProvider read by the Prometheus exporter
// behind GET /metrics (on a registry of its own) and, when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, pushed over OTLP/HTTP with the
// traces.
type telemetry struct {
	meters  *sdkmetric.MeterProvider
	tracers trace.TracerProvider
	// metrics serves the Prometheus text format.
	metrics http.Handler
	// observer reports paylink's callbacks, hooks and reconciliation.
	observer *otelpaylink.Observer
	// otlp is the OTLP endpoint, "" when OTLP is off.
	otlp     string
	shutdown []func(context.Context) error
}

// newTelemetry builds the shop's telemetry. The OTLP exporters read their
// other settings (OTEL_EXPORTER_OTLP_HEADERS, ...) from the process's
// environment themselves.
func newTelemetry(ctx context.Context, getenv func(string) string) (*telemetry, error) {
	t := &telemetry{tracers: noop.NewTracerProvider()}
	reg := promclient.NewRegistry()
	prom, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("shop: the Prometheus exporter: %w", err)
	}
	t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	res := resource.NewSchemaless(attribute.String("service.name", cmp.Or(strings.TrimSpace(getenv("OTEL_SERVICE_NAME")), "paylink-shop")))
	readers := []sdkmetric.Option{sdkmetric.WithReader(prom), sdkmetric.WithResource(res)}

	if ep := strings.TrimRight(strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")), "/"); ep != "" {
		t.otlp = ep
		me, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(ep+"/v1/metrics"))
		if err != nil {
			return nil, fmt.Errorf("shop: the OTLP metric exporter: %w", err)
		}
		readers = append(readers, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(otlpInterval))))
		te, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(ep+"/v1/traces"))
		if err != nil {
			return nil, fmt.Errorf("shop: the OTLP trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
		t.tracers = tp
		t.shutdown = append(t.shutdown, tp.Shutdown)
	}
	t.meters = sdkmetric.NewMeterProvider(readers...)
	t.shutdown = append(t.shutdown, t.meters.Shutdown)
	t.observer, err = otelpaylink.New(otelpaylink.Options{MeterProvider: t.meters, TracerProvider: t.tracers})
	if err != nil {
		return nil, fmt.Errorf("shop: %w", err)
	}
	return t, nil
}

// httpClient returns a client for a payment provider's API whose requests
// are measured (http.client.request.duration) and traced.
func (t *telemetry) httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: otelhttp.NewTransport(http.DefaultTransport, t.httpOptions()...)}
}

// handler wraps the shop's routes: http.server.request.duration, and a
// server span (continuing the caller's trace context) for every request.
//
// listenAddr ("host:port", the listener's address) names the server in
// the server.address and server.port attributes. Without it otelhttp
// takes them from the request's Host header, which the client chooses:
// every distinct Host would be a new series in /metrics, kept for the
// life of the process. With a port in it, the Host header is not read.
func (t *telemetry) handler(h http.Handler, listenAddr string) http.Handler {
	return otelhttp.NewHandler(h, "shop", append(t.httpOptions(),
		otelhttp.WithServerName(listenAddr),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))...)
}

func (t *telemetry) httpOptions() []otelhttp.Option {
	return []otelhttp.Option{
		otelhttp.WithMeterProvider(t.meters), otelhttp.WithTracerProvider(t.tracers),
		otelhttp.WithPropagators(propagation.TraceContext{}),
	}
}

// close flushes and stops the exporters.
func (t *telemetry) close(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}
