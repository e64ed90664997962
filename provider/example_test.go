package provider_test

import (
	"context"
	"fmt"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// A hook runs once per payment event, with a key that stays the same across
// retries, restarts and replicas.
func ExampleService_On() {
	ctx := context.Background()
	mem := providertest.NewMemProvider("mem", "token")
	store := providertest.NewMemStore()
	svc, _ := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})

	done := make(chan string, 1)
	_ = svc.On("mark-order-paid", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		done <- fmt.Sprintf("link %s paid %v (attempt %d)", ev.Link.ID, ev.Payment.Amount, ev.Attempt)
		return nil
	})
	_ = svc.Start(ctx)
	defer svc.Stop(ctx)

	link, _ := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
	pay, _ := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	_, _ = svc.ApplyEvent(ctx, &provider.Event{Provider: "mem", Payment: pay})
	fmt.Println(<-done)
	// Output: link 1 paid IDR 45000 (attempt 1)
}

// A refund through the provider is applied at once; the refund hook runs
// once per new cumulative amount, with what this refund returned.
func ExampleService_Refund() {
	ctx := context.Background()
	mem := providertest.NewMemProvider("mem", "token")
	svc, _ := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{mem}})

	done := make(chan string, 2)
	_ = svc.On("credit-refund", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), func(ctx context.Context, ev *provider.HookEvent) error {
		done <- fmt.Sprintf("%s: %v back, %v in all", ev.Status, ev.RefundedDelta, ev.Payment.RefundedAmount)
		return nil
	})
	_ = svc.Start(ctx)
	defer svc.Stop(ctx)

	link, _ := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
	pay, _ := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	_, _ = svc.ApplyEvent(ctx, &provider.Event{Provider: "mem", Payment: pay})

	_, _ = svc.Refund(ctx, "mem", pay.ID, provider.RefundParams{Amount: provider.Rupiah(15000), Reason: "one item out of stock"})
	fmt.Println(<-done)
	out, _ := svc.Refund(ctx, "mem", pay.ID, provider.RefundParams{}) // the rest
	fmt.Println(<-done)
	fmt.Println(out.Payment.Status)
	// Output:
	// PARTIALLY_REFUNDED: IDR 15000 back, IDR 15000 in all
	// REFUNDED: IDR 30000 back, IDR 45000 in all
	// REFUNDED
}
