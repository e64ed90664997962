package gormstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// queryCounter is a pgx tracer that counts the statements a connection
// sends and the statements it prepares.
type queryCounter struct{ queries, prepares atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *queryCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.prepares.Add(1)
	return ctx
}

func (c *queryCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// On PostgreSQL an applied callback costs two statements, each its own
// round trip (read; one atomic write), and so does a duplicate (read;
// record the callback): no BEGIN, no COMMIT, no lock.
func TestACallbackCostsTwoRoundTripsOnPostgres(t *testing.T) {
	t.Parallel()
	cfg, err := pgx.ParseConfig(newSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	cfg.Tracer = counter
	sqlDB := stdlib.OpenDB(*cfg)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, db)
	store := migrated(t, db)
	mem := providertest.NewMemProvider("mem", "tok")
	// Without verification: this counts the store's statements per
	// callback, and confirming with the fake would add none of them.
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	// A hook is registered (so the write queues a run) but not started,
	// so its runner sends nothing while the statements are counted.
	if err := svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	link, err := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Donations", Type: provider.LinkMultiple})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(id string, want provider.Verdict) (queries, prepares int64) {
		t.Helper()
		ev := successEvent("mem", link, id)
		ev.Payment.Amount = provider.Rupiah(10000)
		before, beforeP := counter.queries.Load(), counter.prepares.Load()
		out, err := svc.ApplyEvent(ctx, &ev)
		if err != nil || out.Verdict != want {
			t.Fatalf("ApplyEvent %s: %v, %v; want %s", id, out.Verdict, err, want)
		}
		return counter.queries.Load() - before, counter.prepares.Load() - beforeP
	}
	apply("warm-up", provider.VerdictApplied) // prepares the statements once per connection
	apply("warm-up", provider.VerdictDuplicate)
	for range 3 { // every pooled connection has them
		apply("warm-up", provider.VerdictDuplicate)
	}
	if q, p := apply("P1", provider.VerdictApplied); q != 2 || p != 0 {
		t.Errorf("an applied callback: %d statements, %d prepares; want 2 and 0", q, p)
	}
	if q, p := apply("P1", provider.VerdictDuplicate); q != 2 || p != 0 {
		t.Errorf("a duplicate: %d statements, %d prepares; want 2 and 0", q, p)
	}
	if runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{Hook: "receipt"}); err != nil || len(runs) != 2 {
		t.Fatalf("hook runs: %d, %v; want 2 (warm-up and P1)", len(runs), err)
	}
}
