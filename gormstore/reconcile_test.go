package gormstore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
)

// TestReconcilerAppliesACallbackFlipNeverDelivered: the fake Flip drops the
// callback entirely (no attempt at all, as if Flip's 5 retries ran out);
// the reconciler finds the payment through Flip's API and applies it, and
// the hook runs once.
func TestReconcilerAppliesACallbackFlipNeverDelivered(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			store := migrated(t, b.open(t))
			fake := fliptest.NewServer(fliptest.Options{SecretKey: "secret", CallbackToken: "token", CallbackURL: "http://127.0.0.1:1/never"})
			t.Cleanup(fake.Close)
			fake.SetCallbackMode(fliptest.CallbackMode{Drop: true})
			p := flip.NewProvider(fake.Client(), flip.ProviderOptions{CallbackToken: "token"})
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{p}})
			if err != nil {
				t.Fatal(err)
			}
			var paid atomic.Int32
			if err := svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
				paid.Add(1)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = svc.Stop(context.Background()) })

			link, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Order 9", Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatal(err)
			}
			pay, err := fake.Pay(ctx, link.ID, fliptest.PayOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(fake.Callbacks()); n != 1 {
				t.Fatalf("the fake made %d callbacks, want 1", n)
			}
			if d := fake.Deliveries(); len(d) != 0 {
				t.Fatalf("the dropped callback was delivered: %+v", d)
			}

			rep, err := svc.Reconcile(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Links != 1 || rep.Applied != 1 {
				t.Fatalf("report = %+v, want 1 link visited and 1 payment applied", rep)
			}
			got, err := store.GetPayment(ctx, "flip", pay.ID)
			if err != nil || got.Status != provider.PaymentSuccessful || got.Amount.Amount != 45000 {
				t.Fatalf("payment = %+v, %v", got, err)
			}
			waitUntil(t, ctx, "the hook", func() bool { return paid.Load() == 1 })

			// The SINGLE link is paid and closed: the next pass has nothing to do.
			rep, err = svc.Reconcile(ctx)
			if err != nil || rep.Links != 0 {
				t.Fatalf("second pass = %+v, %v; want no open links", rep, err)
			}
			runs, _ := store.ListHookRuns(ctx, provider.HookRunFilter{Hook: "receipt"})
			if len(runs) != 1 || paid.Load() != 1 {
				t.Fatalf("%d runs, %d calls; want 1 and 1", len(runs), paid.Load())
			}
		})
	}
}
