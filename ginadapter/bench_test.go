package ginadapter_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/gormstore/gormstoretest"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/otelpaylink"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// BenchmarkCallback measures one Flip callback through the mounted route,
// from request to 200, against a baseline handler that only parses the
// form and compares the token (what any hand-written handler must do).
// Each iteration is a new payment on a MULTIPLE link, so every callback is
// applied: lock, claim, upsert, history, one hook run enqueued, commit.
// The "duplicate" cases repeat one callback; the "otel" cases observe the
// Service with otelpaylink over the OTel SDK. Report ratios to the
// baseline: see docs/benchmarks.md.
func BenchmarkCallback(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	const token = "bench-token"
	b.Run("baseline", func(b *testing.B) {
		r := gin.New()
		r.POST("/flip/callback", func(c *gin.Context) {
			if subtle.ConstantTimeCompare([]byte(c.PostForm("token")), []byte(token)) != 1 || c.PostForm("data") == "" {
				c.Status(http.StatusUnauthorized)
				return
			}
			c.Status(http.StatusOK)
		})
		runCallbacks(b, r, token, "1", true)
	})
	stores := []struct {
		name string
		open func(b *testing.B) provider.Store
	}{
		{"memstore", func(*testing.B) provider.Store { return providertest.NewMemStore() }},
		{"sqlite", func(b *testing.B) provider.Store {
			db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(filepath.Join(b.TempDir(), "bench.db"))), &gorm.Config{Logger: logger.Discard})
			if err != nil {
				b.Fatal(err)
			}
			if err := gormstore.ConfigureSQLite(db); err != nil {
				b.Fatal(err)
			}
			return migratedStore(b, db)
		}},
		{"postgres", func(b *testing.B) provider.Store {
			dsn := gormstoretest.PostgresSchema(b, "paylink_bench")
			db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
			if err != nil {
				b.Fatal(err)
			}
			return migratedStore(b, db)
		}},
	}
	for _, s := range stores {
		for _, c := range []struct{ dup, otel bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			name := s.name
			if c.otel {
				name += "/otel"
			}
			if c.dup {
				name += "/duplicate"
			}
			dup := c.dup
			b.Run(name, func(b *testing.B) {
				store := s.open(b)
				fake := fliptest.NewServer(fliptest.Options{SecretKey: "bench-secret", CallbackToken: token})
				b.Cleanup(fake.Close)
				p := flip.NewProvider(fake.Client(), flip.ProviderOptions{CallbackToken: token})
				opts := provider.ServiceOptions{Providers: []provider.Provider{p}}
				if c.otel {
					// The OTel SDK with a reader that is never collected, and
					// spans recorded by a sampler that keeps them all.
					obs, err := otelpaylink.New(otelpaylink.Options{
						MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
						TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder())),
					})
					if err != nil {
						b.Fatal(err)
					}
					opts.Observer = obs
				}
				svc, err := provider.NewService(store, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := svc.On("bench.receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error { return nil }); err != nil {
					b.Fatal(err)
				}
				link, err := svc.CreateLink(b.Context(), "", provider.CreateLinkParams{Title: "Bench", Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
				if err != nil {
					b.Fatal(err)
				}
				r := gin.New()
				if err := ginadapter.Mount(r, svc, ginadapter.DefaultConfig()); err != nil {
					b.Fatal(err)
				}
				runCallbacks(b, r, token, link.ID, dup)
			})
		}
	}
}

func migratedStore(b *testing.B, db *gorm.DB) provider.Store {
	b.Helper()
	b.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if err := gormstore.Migrate(b.Context(), db); err != nil {
		b.Fatal(err)
	}
	s, err := gormstore.New(db, gormstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// runCallbacks sends b.N callbacks, each a new payment unless dup.
func runCallbacks(b *testing.B, h http.Handler, token, linkID string, dup bool) {
	b.Helper()
	body := func(i int) string {
		id := "PGPWFBENCH"
		if !dup {
			id = fmt.Sprintf("PGPWFBENCH%d", i)
		}
		return flip.CallbackForm(token, flip.Callback{ID: id, BillLinkID: flip.ID(linkID), BillTitle: "Bench",
			Amount: 45000, Status: "SUCCESSFUL", SenderBank: "bni", SenderBankType: "virtual_account"}).Encode()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest(http.MethodPost, "/flip/callback", strings.NewReader(body(i)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("callback %d answered %d: %s", i, rec.Code, rec.Body)
		}
	}
}
