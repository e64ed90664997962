package main

import (
	"context"
	"errors"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider/otelpaylink"
)

// newPaylinkOTel is newPaylink with paylink's OpenTelemetry observer on the
// SDK, as an app exporting its telemetry would run it, at the most it can
// cost: every trace sampled and batched to an exporter, metrics aggregated
// for a reader that collects when scraped (the load runs between scrapes).
// The exporter drops the spans, so what is measured is paylink's
// instrumentation and the SDK, not a network.
func newPaylinkOTel(ctx context.Context, db *gorm.DB, token string, links int) (*target, error) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardSpans{}))
	shutdown := func(ctx context.Context) error {
		return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
	}
	obs, err := otelpaylink.New(otelpaylink.Options{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("observer: %w", err), shutdown(ctx))
	}
	t, err := newPaylink(ctx, db, token, links, obs)
	if err != nil {
		return nil, errors.Join(err, shutdown(ctx))
	}
	stop := t.stop
	t.stop = func(ctx context.Context) error { return errors.Join(stop(ctx), shutdown(ctx)) }
	return t, nil
}

// discardSpans is a span exporter that drops what it is given.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }
