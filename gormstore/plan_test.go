package gormstore_test

import (
	"fmt"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

// The statements a callback reads with use their indexes however much the
// tables grew since a connection first ran them, with no statistics at
// all (autovacuum off, or a fresh deploy before its first ANALYZE): a
// plan made while the tables were empty and kept for the connection would
// scan them whole on every call. Measured in blocks read from the tables
// and their indexes per LoadApply and per claim, lease extension and outcome of the hook queue, from
// pg_statio_user_tables.
func TestHotStatementsReadByIndexHoweverTheTablesGrew(t *testing.T) {
	db := openPostgres(t, newSchema(t))
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1) // one connection: every call reuses what it kept
	s := migrated(t, db)
	ctx := t.Context()
	load := func(n int, prefix string) {
		t.Helper()
		for i := range n {
			if _, err := s.LoadApply(ctx, "flip", "link-1", fmt.Sprintf("%s-%d", prefix, i)); err != nil {
				t.Fatalf("LoadApply: %v", err)
			}
			if _, err := s.ClaimHookRuns(ctx, []string{"h"}, 4, provider.DefaultHookLease); err != nil {
				t.Fatalf("ClaimHookRuns: %v", err)
			}
			gone := []provider.HookLease{{ID: int64(1e9 + i), Token: "t"}}
			if err := s.ExtendHookLeases(ctx, gone, provider.DefaultHookLease); err != nil {
				t.Fatalf("ExtendHookLeases: %v", err)
			}
			if _, err := s.FinishHookRuns(ctx, []provider.HookResult{{HookLease: gone[0], State: provider.HookRunSucceeded}}); err != nil {
				t.Fatalf("FinishHookRuns: %v", err)
			}
		}
	}
	load(12, "warm") // more than the 5 calls after which PostgreSQL may keep a generic plan

	const rows = 20000
	for _, q := range []string{
		`INSERT INTO paylink_events (event_id, provider, payment_id, status, payload, created_at)
		 SELECT 'flip:p' || i || ':SUCCESSFUL', 'flip', 'p' || i, 'SUCCESSFUL', convert_to(repeat('x', 600), 'UTF8'), now() FROM generate_series(1, ?) AS i`,
		`INSERT INTO paylink_payments (provider, payment_id, link_id, amount, currency, status, raw_status, refunded_amount, sender_name, sender_email,
		 sender_phone, sender_address, method_bank, method_type, va_number, payment_url, recorded_at, updated_at)
		 SELECT 'flip', 'p' || i, 'link-' || (i % 1000), 10000, 'IDR', 'SUCCESSFUL', 'SUCCESSFUL', 0, 'n', 'e', 'p', 'a', 'bca', 'va', '', '', now(), now()
		 FROM generate_series(1, ?) AS i`,
		`INSERT INTO paylink_hook_runs (event_id, provider, payment_id, hook, state, attempts, last_error, idempotency_key, lease_token, next_at, created_at, updated_at)
		 SELECT 'flip:p' || i || ':SUCCESSFUL', 'flip', 'p' || i, 'h', 'succeeded', 1, '', 'k' || i, '', now(), now(), now() FROM generate_series(1, ?) AS i`,
	} {
		if err := db.Exec(q, rows).Error; err != nil {
			t.Fatalf("filling the tables: %v", err)
		}
	}
	blocks := func() int64 {
		t.Helper()
		if err := db.Exec("SELECT pg_stat_force_next_flush()").Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		err := db.Raw(`SELECT coalesce(sum(heap_blks_hit + coalesce(idx_blks_hit, 0) + heap_blks_read + coalesce(idx_blks_read, 0)), 0)
			FROM pg_statio_user_tables WHERE schemaname = current_schema()
			AND relname IN ('paylink_events', 'paylink_payments', 'paylink_links', 'paylink_hook_runs')`).Scan(&n).Error
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const calls = 20
	before := blocks()
	load(calls, "after")
	per := float64(blocks()-before) / calls
	// By index: a few blocks per table and index touched. A scan of any
	// one of the tables is hundreds.
	if per > 60 {
		t.Fatalf("LoadApply + the hook queue's three read %.0f blocks a call over %d rows a table; want a few dozen (index lookups)", per, rows)
	}
	t.Logf("%.1f blocks a call (LoadApply + the hook queue's three) over %d rows a table", per, rows)
}
