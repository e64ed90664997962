package gormstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// TestEnqueuedHooksWakeRiverListenersOnPostgres: every transaction that
// enqueues hook runs sends River's insert notification on the schema's
// channel when it commits, so replicas start the hook at once instead of
// at their next poll.
func TestEnqueuedHooksWakeRiverListenersOnPostgres(t *testing.T) {
	dsn := newSchema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	store := migrated(t, openPostgres(t, dsn))

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `LISTEN "`+schema+`.river_insert"`); err != nil {
		t.Fatal(err)
	}

	mem := providertest.NewMemProvider("mem", "tok")
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.OnSucceeded("receipt", provider.SucceededHookFunc(func(context.Context, *provider.HookEvent) error { return nil })); err != nil {
		t.Fatal(err)
	}
	link, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Order", Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatal(err)
	}
	// Two payments in quick succession: River's own insert notification is
	// rate-limited per queue (one per fetch cooldown), so without the
	// store's notification the second job waits for the next poll.
	for _, id := range []string{"P1", "P2"} {
		if _, err := svc.ApplyEvent(ctx, &provider.Event{Provider: "mem", Payment: provider.Payment{
			ID: id, LinkID: link.ID, Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("notification %d of 2 never came: %v", i+1, err)
		}
		if !strings.Contains(n.Payload, `"paylink_hooks"`) {
			t.Fatalf("notification %q does not name the hook queue", n.Payload)
		}
	}
}
