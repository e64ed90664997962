package gormstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// BenchmarkPruneMillionCallbacks fills paylink_callbacks on PostgreSQL with
// 1,000,000 callbacks received 30 days ago, then measures Service.Prune of
// everything older than 7 days while 8 goroutines apply new callbacks
// (ApplyEvent of new payments) as fast as they can, and the same load for
// 5 s without a prune just before it. It reports the prune's duration and
// the p99 latency of ApplyEvent with and without it. Run it alone, once:
//
//	PAYLINK_TEST_POSTGRES_DSN=... go test ./gormstore -run '^$' \
//	  -bench BenchmarkPruneMillionCallbacks -benchtime 1x -timeout 30m
//
// See docs/operations.md. Without the DSN it is skipped.
func BenchmarkPruneMillionCallbacks(b *testing.B) {
	const (
		rows    = 1_000_000
		workers = 8
		quiet   = 5 * time.Second
	)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store := migrated(b, openPostgres(b, newSchema(b)))
		mem := providertest.NewMemProvider("mem", "tok")
		svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})
		if err != nil {
			b.Fatal(err)
		}
		// The same store with a week's retention: its Reconcile prunes.
		pruner, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, Retention: 7 * 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		link, err := svc.CreateLink(b.Context(), "", provider.CreateLinkParams{Title: "Load", Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
		if err != nil {
			b.Fatal(err)
		}
		fillStart := time.Now()
		db := store.DB().WithContext(b.Context())
		if err := db.Exec(`INSERT INTO paylink_callbacks (provider, payment_id, link_id, status, amount, currency, body, verdict, received_at)
SELECT 'mem', 'old-' || g, 'old-link', 'SUCCESSFUL', 45000, 'IDR', convert_to(repeat('x', 300), 'UTF8'), 'applied',
 now() - interval '30 days' + g * interval '1 millisecond' FROM generate_series(1, ?) AS g`, rows).Error; err != nil {
			b.Fatalf("filling: %v", err)
		}
		if err := db.Exec("ANALYZE paylink_callbacks").Error; err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %d callbacks in %s", rows, time.Since(fillStart).Round(time.Millisecond))

		load := &applyLoad{svc: svc, linkID: link.ID}
		base := load.run(b, workers, func() { time.Sleep(quiet) })

		b.StartTimer()
		var rep provider.PruneReport
		var took time.Duration
		during := load.run(b, workers, func() {
			start := time.Now()
			var pass provider.ReconcileReport
			pass, err = pruner.Reconcile(b.Context())
			rep = pass.Pruned
			took = time.Since(start)
		})
		b.StopTimer()
		if err != nil {
			b.Fatalf("Prune: %v", err)
		}
		if rep.Callbacks != rows {
			b.Fatalf("Prune removed %d callbacks, want %d", rep.Callbacks, rows)
		}
		b.Logf("pruned %+v in %s", rep, took.Round(time.Millisecond))
		b.Logf("ApplyEvent without prune: %d calls in %s, p50 %s, p99 %s, max %s", base.n, quiet, base.p(50), base.p(99), base.max)
		b.Logf("ApplyEvent during prune:  %d calls in %s, p50 %s, p99 %s, max %s", during.n, took.Round(time.Millisecond), during.p(50), during.p(99), during.max)
		b.ReportMetric(took.Seconds(), "prune-s")
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.ReportMetric(ms(base.p(99)), "p99-ms-quiet")
		b.ReportMetric(ms(during.p(99)), "p99-ms-pruning")
		b.ReportMetric(ms(during.max), "max-ms-pruning")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// applyLoad applies callbacks about new payments of one link.
type applyLoad struct {
	svc    *provider.Service
	linkID string
	next   atomic.Int64
}

type latencies struct {
	n   int
	all []time.Duration
	max time.Duration
}

func (l latencies) p(q int) time.Duration {
	if len(l.all) == 0 {
		return 0
	}
	return l.all[min(len(l.all)-1, len(l.all)*q/100)]
}

// run applies callbacks from workers goroutines while during runs, and
// returns their latencies.
func (a *applyLoad) run(b *testing.B, workers int, during func()) latencies {
	ctx, cancel := context.WithCancel(b.Context())
	var (
		mu  sync.Mutex
		out latencies
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				out.all = append(out.all, mine...)
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				id := fmt.Sprintf("new-%d", a.next.Add(1))
				start := time.Now()
				_, err := a.svc.ApplyEvent(ctx, &provider.Event{Provider: "mem", Source: provider.SourceCallback, Raw: []byte(`{"id":"` + id + `"}`),
					Payment: provider.Payment{ID: id, LinkID: a.linkID, Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000)}})
				if err != nil {
					if ctx.Err() == nil {
						b.Errorf("ApplyEvent: %v", err)
					}
					return
				}
				mine = append(mine, time.Since(start))
			}
		})
	}
	during()
	cancel()
	wg.Wait()
	slices.Sort(out.all)
	out.n = len(out.all)
	if out.n > 0 {
		out.max = out.all[out.n-1]
	}
	return out
}
