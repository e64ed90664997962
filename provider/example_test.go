package provider_test

import (
	"context"
	"fmt"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// A hook runs once per payment event, with a key that stays the same across
// retries, restarts and replicas.
func ExampleService_OnSucceeded() {
	ctx := context.Background()
	mem := providertest.NewMemProvider("mem", "token")
	store := providertest.NewMemStore()
	svc, _ := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})

	done := make(chan string, 1)
	_ = svc.OnSucceeded("mark-order-paid", provider.SucceededHookFunc(func(ctx context.Context, ev *provider.HookEvent) error {
		done <- fmt.Sprintf("link %s paid %v (attempt %d)", ev.Link.ID, ev.Payment.Amount, ev.Attempt)
		return nil
	}))
	_ = svc.Start(ctx)
	defer svc.Stop(ctx)

	link, _ := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
	pay, _ := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	_, _ = svc.ApplyEvent(ctx, &provider.Event{Provider: "mem", Payment: pay})
	fmt.Println(<-done)
	// Output: link 1 paid IDR 45000 (attempt 1)
}
