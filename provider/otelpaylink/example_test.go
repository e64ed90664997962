package otelpaylink_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/otelpaylink"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// An app gives the observer its MeterProvider (here one read by hand; in
// production one with a Prometheus or OTLP exporter) and the Service
// reports every callback through it.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	obs, err := otelpaylink.New(otelpaylink.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		panic(err)
	}
	mem := providertest.NewMemProvider("mem", "secret-token")
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{mem},
		Observer:  obs,
	})
	if err != nil {
		panic(err)
	}

	link, _ := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Order 7", Amount: provider.Rupiah(45000)})
	pay, _ := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	for _, tok := range []string{"secret-token", "secret-token", "forged"} {
		req, _ := providertest.NewCallbackRequest(ctx, "http://shop.example/callback", tok, pay)
		providertest.Deliver(ctx, svc, "mem", req)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "paylink.callbacks" {
			continue
		}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			if dp.Value > 0 {
				v, _ := dp.Attributes.Value(otelpaylink.AttrVerdict)
				r, _ := dp.Attributes.Value(otelpaylink.AttrRefusalReason)
				fmt.Println(v.AsString(), r.AsString(), dp.Value)
			}
		}
	}
	// Unordered output:
	// applied  1
	// duplicate  1
	// refused unauthenticated 1
}
