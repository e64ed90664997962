package gormstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// BenchmarkHookLatency measures the time from ApplyEvent (a new SUCCESSFUL
// payment) to the moment its hook runs, one at a time. The runner is woken
// by the ApplyEvent of its own process; the poll interval is set to 2 s, so
// a figure far below it can only come from the wake-up. See
// docs/benchmarks.md.
func BenchmarkHookLatency(b *testing.B) {
	cases := []struct {
		name string
		open func(b *testing.B) (*gorm.DB, gormstore.Options)
	}{
		{"sqlite", func(b *testing.B) (*gorm.DB, gormstore.Options) { return openSQLite(b), gormstore.Options{} }},
		{"postgres", func(b *testing.B) (*gorm.DB, gormstore.Options) {
			return openPostgres(b, newSchema(b)), gormstore.Options{}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			db, opts := c.open(b)
			if err := gormstore.Migrate(b.Context(), db); err != nil {
				b.Fatal(err)
			}
			store, err := gormstore.New(db, opts)
			if err != nil {
				b.Fatal(err)
			}
			mem := providertest.NewMemProvider("mem", "tok")
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, HookPollInterval: 2 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			ran := make(chan string, 1)
			if err := svc.On("bench", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
				ran <- ev.Payment.ID
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			if err := svc.Start(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = svc.Stop(context.Background()) })
			link, err := svc.CreateLink(b.Context(), "", provider.CreateLinkParams{Title: "Bench", Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("P%d", i)
				if _, err := svc.ApplyEvent(b.Context(), &provider.Event{Provider: "mem",
					Payment: provider.Payment{ID: id, LinkID: link.ID, Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000)}}); err != nil {
					b.Fatal(err)
				}
				select {
				case got := <-ran:
					if got != id {
						b.Fatalf("hook ran for %s, want %s", got, id)
					}
				case <-time.After(30 * time.Second):
					b.Fatal("the hook did not run within 30 s")
				}
			}
		})
	}
}

// BenchmarkReconcilePass measures one reconciliation pass over 1,000 open
// MULTIPLE links whose payments the store already holds as the provider
// (an in-memory one, so only paylink's own cost is measured) reports them:
// per link, one read of its stored payments and the mark of the visit.
func BenchmarkReconcilePass(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(b *testing.B) *gorm.DB
	}{
		{"sqlite", func(b *testing.B) *gorm.DB { return openSQLite(b) }},
		{"postgres", func(b *testing.B) *gorm.DB { return openPostgres(b, newSchema(b)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			store := migrated(b, c.open(b))
			mem := providertest.NewMemProvider("mem", "tok")
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, ReconcileBatch: 1000})
			if err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				l, err := svc.CreateLink(b.Context(), "", provider.CreateLinkParams{Title: fmt.Sprintf("Link %d", i), Type: provider.LinkMultiple})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := mem.Settle(l.ID, provider.PaymentSuccessful, 10000); err != nil {
					b.Fatal(err)
				}
			}
			if rep, err := svc.Reconcile(b.Context()); err != nil || rep.Applied != 1000 {
				b.Fatalf("first pass: %+v, %v", rep, err)
			}
			for b.Loop() {
				rep, err := svc.Reconcile(b.Context())
				if err != nil || rep.Links != 1000 || rep.Applied != 0 {
					b.Fatalf("pass: %+v, %v", rep, err)
				}
			}
		})
	}
}
