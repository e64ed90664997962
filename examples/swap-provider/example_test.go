package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/paylinkgo/paylink/provider"
)

// newGateway is the only place that knows which gateway runs: the rest of
// the app sees a provider.Provider and its name.
func Example_newGateway() {
	log := slog.New(slog.DiscardHandler)
	for _, kind := range []string{"flip", "memory", "paypal"} {
		gw, err := newGateway(kind, "http://127.0.0.1:8080/payments/callback", log)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if link, err := gw.provider.CreateLink(context.Background(), provider.CreateLinkParams{Title: "Tea", Amount: provider.Rupiah(45000)}); err != nil {
			fmt.Println(err)
		} else {
			fmt.Println(gw.provider.Name(), link.Amount)
		}
		gw.close()
	}
	// Output:
	// flip IDR 45000
	// memory IDR 45000
	// PAYMENT_PROVIDER must be flip or memory, not "paypal"
}
