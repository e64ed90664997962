package gormstore_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// writeCount is the rows one table had inserted, updated and deleted.
type writeCount struct{ Ins, Upd, Del int }

func (c writeCount) String() string {
	return fmt.Sprintf("%d ins, %d upd, %d del", c.Ins, c.Upd, c.Del)
}

// countedTables are the tables gormstore owns: every one of them is
// counted, so a write to a table the callback should not touch fails too.
func countedTables(t testing.TB, db *gorm.DB) []string {
	t.Helper()
	var names []string
	for _, m := range gormstore.Models() {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(m); err != nil {
			t.Fatal(err)
		}
		names = append(names, stmt.Schema.Table)
	}
	return names
}

// countWrites installs row-level triggers on every table gormstore owns
// that note each row inserted, updated or deleted in rowcount_writes (a
// table of the test's own, in the same transaction as the write, so the
// count is exact on both databases; ON CONFLICT DO NOTHING that inserts
// nothing notes nothing). It returns a function that reads the notes so
// far, per table, and forgets them.
func countWrites(t testing.TB, db *gorm.DB) func() map[string]writeCount {
	t.Helper()
	pg := db.Name() == "postgres"
	exec := func(q string) {
		t.Helper()
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE rowcount_writes (tbl TEXT NOT NULL, op TEXT NOT NULL)")
	if pg {
		exec(`CREATE FUNCTION rowcount_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO rowcount_writes VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$`)
	}
	for _, tbl := range countedTables(t, db) {
		if pg {
			exec("CREATE TRIGGER rowcount AFTER INSERT OR UPDATE OR DELETE ON " + tbl + " FOR EACH ROW EXECUTE FUNCTION rowcount_note()")
			continue
		}
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			exec(fmt.Sprintf("CREATE TRIGGER rowcount_%s_%s AFTER %s ON %s BEGIN INSERT INTO rowcount_writes VALUES ('%s', '%s'); END",
				tbl, strings.ToLower(op), op, tbl, tbl, op))
		}
	}
	return func() map[string]writeCount {
		t.Helper()
		var rows []struct{ Tbl, Op string }
		if err := db.Raw("SELECT tbl, op FROM rowcount_writes").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		exec("DELETE FROM rowcount_writes")
		got := map[string]writeCount{}
		for _, r := range rows {
			c := got[r.Tbl]
			switch r.Op {
			case "INSERT":
				c.Ins++
			case "UPDATE":
				c.Upd++
			case "DELETE":
				c.Del++
			}
			got[r.Tbl] = c
		}
		return got
	}
}

func formatWrites(m map[string]writeCount) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "\n  %-24s %s", k, m[k])
	}
	return b.String()
}

// waitSucceeded waits until the store holds n succeeded runs of hook.
func waitSucceeded(t testing.TB, store *gormstore.Store, hook string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := store.ListHookRuns(context.Background(), provider.HookRunFilter{Hook: hook, State: provider.HookRunSucceeded, Limit: n + 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs of %q succeeded within 30 s", len(runs), n, hook)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRowsWrittenPerCallback is the specification of what one callback
// writes, hooks included, counted row by row on both databases (see
// docs/benchmarks.md, "Rows and bytes per callback"):
//
//   - a new SUCCESSFUL payment on a MULTIPLE link with one success hook,
//     confirmed with the provider (the default) and its hook run to
//     success: 5 inserts (the callback, the event claim, the payment, its
//     status change, the hook run) and 2 updates (the hook run claimed,
//     then succeeded);
//   - the same on a SINGLE link: 1 more update (the link deactivated);
//   - a repeat of that callback (a duplicate): 1 insert, its callback
//     record, which keeps no body;
//   - a callback the provider does not show (unverified): 1 insert, its
//     callback record, its body cut to provider.MaxUnverifiedBodyBytes.
//
// A change that writes more fails here: cut rows, then lower the figures.
func TestRowsWrittenPerCallback(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			db := be.open(t)
			store := migrated(t, db)
			mem := providertest.NewMemProvider("mem", "tok")
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.On("h", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = svc.Stop(context.Background()) })
			multiple, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Multiple", Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatal(err)
			}
			single, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Single", Type: provider.LinkSingle, Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatal(err)
			}
			writes := countWrites(t, db)
			deliver := func(p provider.Payment) (provider.Outcome, error) {
				t.Helper()
				r, err := providertest.NewCallbackRequest(ctx, "/cb", "tok", p)
				if err != nil {
					t.Fatal(err)
				}
				_, out, err := providertest.Deliver(ctx, svc, "mem", r)
				return out, err
			}
			settle := func(linkID string) provider.Payment {
				t.Helper()
				p, err := mem.Settle(linkID, provider.PaymentSuccessful, 0)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			applied := map[string]writeCount{
				"paylink_callbacks":      {Ins: 1},
				"paylink_events":         {Ins: 1},
				"paylink_payments":       {Ins: 1},
				"paylink_status_changes": {Ins: 1},
				// Inserted leased to this process and run at once: one
				// update, its outcome (the claim's update is gone).
				"paylink_hook_runs": {Ins: 1, Upd: 1},
			}
			runs := 0
			check := func(name string, want map[string]writeCount) {
				t.Helper()
				got := writes()
				t.Logf("%s:%s", name, formatWrites(got))
				if !maps.Equal(got, want) {
					t.Errorf("%s wrote%s\nwant%s", name, formatWrites(got), formatWrites(want))
				}
			}

			p := settle(multiple.ID)
			if out, err := deliver(p); err != nil || out.Verdict != provider.VerdictApplied || out.HookRuns != 1 {
				t.Fatalf("applied: %+v, %v", out, err)
			}
			runs++
			waitSucceeded(t, store, "h", runs)
			check("applied callback with one hook (MULTIPLE link)", applied)

			if out, err := deliver(p); err != nil || out.Verdict != provider.VerdictDuplicate {
				t.Fatalf("duplicate: %+v, %v", out, err)
			}
			check("duplicate", map[string]writeCount{"paylink_callbacks": {Ins: 1}})

			q := settle(single.ID)
			if out, err := deliver(q); err != nil || out.Verdict != provider.VerdictApplied {
				t.Fatalf("applied, single: %+v, %v", out, err)
			}
			runs++
			waitSucceeded(t, store, "h", runs)
			withLink := maps.Clone(applied)
			withLink["paylink_links"] = writeCount{Upd: 1}
			check("applied callback with one hook (SINGLE link, deactivated)", withLink)

			forged := provider.Payment{ID: "FORGED", LinkID: multiple.ID, Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000)}
			if out, err := deliver(forged); provider.CodeOf(err) != provider.CodeUnavailable || out.Verdict != provider.VerdictUnverified {
				t.Fatalf("unverified: %+v, %v", out, err)
			}
			check("unverified", map[string]writeCount{"paylink_callbacks": {Ins: 1}})

			var bodies []struct {
				Verdict string
				N       int
			}
			if err := db.Raw("SELECT verdict, coalesce(length(body), 0) AS n FROM paylink_callbacks ORDER BY id").Scan(&bodies).Error; err != nil {
				t.Fatal(err)
			}
			for _, b := range bodies {
				if b.Verdict == string(provider.VerdictDuplicate) && b.N != 0 {
					t.Errorf("a duplicate's record keeps %d bytes of body, want none", b.N)
				}
			}
		})
	}
}
