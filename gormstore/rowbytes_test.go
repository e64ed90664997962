package gormstore_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// measureEnv, set to a number of callbacks, runs TestMeasureBytesPerCallback.
const measureEnv = "PAYLINK_MEASURE_CALLBACKS"

// measuredTables are the tables a callback writes.
var measuredTables = []string{"paylink_callbacks", "paylink_events", "paylink_payments", "paylink_status_changes", "paylink_hook_runs"}

// TestMeasureBytesPerCallback measures what each row and index of the
// callback path costs on PostgreSQL: it applies n callbacks (n from
// PAYLINK_MEASURE_CALLBACKS; skipped without it), each a new SUCCESSFUL
// payment on one of 1,000 MULTIPLE links with one success hook run to
// success, then n duplicates of them, then n unverified callbacks whose
// bodies (8 KiB of random hex) are cut to 4 KiB, and logs per phase the
// bytes per callback of each table (main fork; TOAST and free space map)
// and index, and the rows inserted, updated (HOT) and deleted per callback
// by pg_stat_user_tables. Autovacuum is off on the tables, so the sizes are
// what was written. Not a timed benchmark; see docs/benchmarks.md.
//
//	PAYLINK_MEASURE_CALLBACKS=20000 go test -run TestMeasureBytesPerCallback -v -timeout 30m ./gormstore/
func TestMeasureBytesPerCallback(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(measureEnv))
	if n <= 0 {
		t.Skipf("%s is not set", measureEnv)
	}
	ctx := t.Context()
	dsn := newSchema(t)
	db := openPostgres(t, dsn)
	store := migrated(t, db)
	admin := openPostgres(t, dsn) // reads sizes and statistics
	for _, tbl := range measuredTables {
		if err := admin.Exec("ALTER TABLE " + tbl + " SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)").Error; err != nil {
			t.Fatal(err)
		}
	}
	var schema string
	if err := admin.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}

	type rel struct {
		Name  string
		Table string
		Bytes int64
	}
	sizes := func() map[string]int64 {
		t.Helper()
		var rels []rel
		err := admin.Raw(`SELECT c.relname AS name, c.relname AS "table", pg_relation_size(c.oid) AS bytes
  FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relname IN ?
UNION ALL SELECT c.relname || '+', c.relname, pg_table_size(c.oid) - pg_relation_size(c.oid)
  FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relname IN ?
UNION ALL SELECT i.relname, c.relname, pg_relation_size(i.oid)
  FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
  WHERE c.relnamespace = ?::regnamespace AND c.relname IN ?`,
			schema, measuredTables, schema, measuredTables, schema, measuredTables).Scan(&rels).Error
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, r := range rels {
			m[r.Table+"\t"+r.Name] = r.Bytes
		}
		return m
	}
	type stat struct {
		Relname               string
		Ins, Upd, HotUpd, Del int64
	}
	stats := func() map[string]stat {
		t.Helper()
		var ss []stat
		if err := admin.Exec("SELECT pg_stat_clear_snapshot()").Error; err != nil {
			t.Fatal(err)
		}
		if err := admin.Raw(`SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot_upd, n_tup_del AS del
  FROM pg_stat_user_tables WHERE schemaname = ?`, schema).Scan(&ss).Error; err != nil {
			t.Fatal(err)
		}
		m := map[string]stat{}
		for _, s := range ss {
			m[s.Relname] = s
		}
		return m
	}
	// settled waits until the pool's backends have flushed their
	// statistics (they do when idle, at most every few seconds): until
	// cond holds of them.
	settled := func(cond func(map[string]stat) bool) map[string]stat {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			s := stats()
			if cond(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("statistics did not settle within a minute: %+v", s)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

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
	links := make([]string, 1000)
	for i := range links {
		l, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: fmt.Sprintf("Link %d", i), Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
		if err != nil {
			t.Fatal(err)
		}
		links[i] = l.ID
	}
	payments := make([]provider.Payment, n)
	for i := range payments {
		if payments[i], err = mem.Settle(links[i%len(links)], provider.PaymentSuccessful, 0); err != nil {
			t.Fatal(err)
		}
	}
	request := func(body []byte) *http.Request {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/cb", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(providertest.CallbackTokenHeader, "tok")
		return r
	}
	// deliver sends n callbacks, four at a time, and checks each verdict.
	deliver := func(body func(i int) []byte, want provider.Verdict) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < n; i += 4 {
					_, out, err := providertest.Deliver(ctx, svc, "mem", request(body(i)))
					if want == provider.VerdictUnverified && provider.CodeOf(err) == provider.CodeUnavailable {
						err = nil
					}
					if err == nil && out.Verdict != want {
						err = fmt.Errorf("callback %d: verdict %s, want %s", i, out.Verdict, want)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	marshal := func(i int) []byte {
		b, err := json.Marshal(payments[i])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	forged := func(i int) []byte {
		p := provider.Payment{ID: fmt.Sprintf("FORGED%d", i), LinkID: links[i%len(links)], Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000)}
		raw := make([]byte, 4<<10) // 8 KiB of hex
		rnd := rand.New(rand.NewPCG(uint64(i), 1))
		for j := range raw {
			raw[j] = byte(rnd.Uint32())
		}
		b, _ := json.Marshal(p)
		return append(b[:len(b)-1], `,"pad":"`+hex.EncodeToString(raw)+`"}`...)
	}

	var report strings.Builder
	fmt.Fprintf(&report, "%d callbacks per phase; bytes per callback; rows per callback (pg_stat_user_tables)\n", n)
	phase := func(name string, run func(), want func(before, after map[string]stat) bool) {
		before, s0 := sizes(), stats()
		start := time.Now()
		run()
		took := time.Since(start)
		s1 := settled(func(s map[string]stat) bool { return want(s0, s) })
		after := sizes()
		fmt.Fprintf(&report, "\n## %s (%s)\n| relation | bytes/callback |\n|---|---|\n", name, took.Round(time.Millisecond))
		var total int64
		for _, tbl := range measuredTables {
			var tblTotal int64
			for _, suffix := range []string{"", "+"} {
				k := tbl + "\t" + tbl + suffix
				d := after[k] - before[k]
				tblTotal += d
				label := tbl + " (heap)"
				if suffix == "+" {
					label = tbl + " (TOAST, free space map)"
				}
				if d == 0 && suffix == "+" {
					continue
				}
				fmt.Fprintf(&report, "| %s | %.1f |\n", label, float64(d)/float64(n))
			}
			for _, k := range slices.Sorted(maps.Keys(after)) {
				v := after[k]
				tb, ix, _ := strings.Cut(k, "\t")
				if tb != tbl || ix == tbl || ix == tbl+"+" {
					continue
				}
				d := v - before[k]
				tblTotal += d
				if d == 0 && after[tbl+"\t"+tbl] == before[tbl+"\t"+tbl] {
					continue
				}
				fmt.Fprintf(&report, "| %s / %s | %.1f |\n", tbl, ix, float64(d)/float64(n))
			}
			fmt.Fprintf(&report, "| **%s total** | **%.1f** |\n", tbl, float64(tblTotal)/float64(n))
			total += tblTotal
		}
		fmt.Fprintf(&report, "| **all** | **%.1f** |\n\n| table | ins | upd | hot upd | del |\n|---|---|---|---|---|\n", float64(total)/float64(n))
		for _, tbl := range measuredTables {
			a, b := s0[tbl], s1[tbl]
			f := func(x int64) float64 { return float64(x) / float64(n) }
			fmt.Fprintf(&report, "| %s | %.2f | %.2f | %.2f | %.2f |\n", tbl, f(b.Ins-a.Ins), f(b.Upd-a.Upd), f(b.HotUpd-a.HotUpd), f(b.Del-a.Del))
		}
	}
	callbacks := func(before, after map[string]stat) bool {
		return after["paylink_callbacks"].Ins-before["paylink_callbacks"].Ins >= int64(n)
	}
	phase("applied, one hook run to success", func() {
		deliver(marshal, provider.VerdictApplied)
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
			var done int64
			if err := admin.Raw("SELECT count(*) FROM paylink_hook_runs WHERE state = 'succeeded'").Scan(&done).Error; err != nil {
				t.Fatal(err)
			}
			if done == int64(n) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d hook runs succeeded", done, n)
			}
		}
	}, func(before, after map[string]stat) bool {
		return callbacks(before, after) && after["paylink_hook_runs"].Upd-before["paylink_hook_runs"].Upd >= int64(n) // at least each run's outcome
	})
	phase("duplicate (the same callbacks again)", func() { deliver(marshal, provider.VerdictDuplicate) }, callbacks)
	phase("unverified (8 KiB of random hex padding, kept 4 KiB)", func() { deliver(forged, provider.VerdictUnverified) }, callbacks)

	var avg []struct {
		Verdict string
		Body    float64
	}
	if err := admin.Raw("SELECT verdict, avg(coalesce(length(body), 0)) AS body FROM paylink_callbacks GROUP BY verdict ORDER BY verdict").Scan(&avg).Error; err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&report, "\nmean body bytes kept per callback record: %+v\n", avg)
	var payload float64
	if err := admin.Raw("SELECT avg(coalesce(length(payload), 0)) FROM paylink_events").Scan(&payload).Error; err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&report, "mean hook event payload bytes per event claim: %.0f\n", payload)
	t.Log("\n" + report.String())
}
