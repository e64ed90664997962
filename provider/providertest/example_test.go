package providertest_test

import (
	"context"
	"fmt"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// The in-memory provider and store run the whole payment flow with no
// gateway and no database.
func Example() {
	ctx := context.Background()
	mem := providertest.NewMemProvider("mem", "secret-token")
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{mem}})
	if err != nil {
		panic(err)
	}
	link, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Coffee table", Amount: provider.Rupiah(45000)})
	if err != nil {
		panic(err)
	}

	// The customer pays; the provider calls back.
	pay, _ := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	req, _ := providertest.NewCallbackRequest(ctx, "https://shop.example.com/callback", "secret-token", pay)
	_, out, err := providertest.Deliver(ctx, svc, "mem", req)
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Verdict, out.Payment.Status, out.Payment.Amount)

	// The provider repeats itself; nothing happens twice.
	req, _ = providertest.NewCallbackRequest(ctx, "https://shop.example.com/callback", "secret-token", pay)
	_, out, _ = providertest.Deliver(ctx, svc, "mem", req)
	fmt.Println(out.Verdict)
	// Output:
	// applied SUCCESSFUL IDR 45000
	// duplicate
}
