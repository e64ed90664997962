package gormstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func TestStoreConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.name == "postgres" {
				postgresDSN(t) // skip the whole suite, with the reason, when unset
			}
			providertest.TestStore(t, func(t *testing.T) provider.Store {
				return migrated(t, b.open(t))
			})
		})
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			ctx := context.Background()
			for i := range 2 {
				if err := gormstore.Migrate(ctx, db); err != nil {
					t.Fatalf("Migrate #%d: %v", i+1, err)
				}
			}
			for _, m := range gormstore.Models() {
				if !db.Migrator().HasTable(m) {
					t.Errorf("table for %T missing", m)
				}
			}
		})
	}
}

func TestOpenSQLiteDSNIsDurable(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	var sync int
	var mode string
	if err := db.Raw("PRAGMA synchronous").Scan(&sync).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if sync != 2 || mode != "wal" {
		t.Fatalf("synchronous = %d, journal_mode = %s; want 2 (FULL) and wal", sync, mode)
	}
}

func TestDatabaseDownIsUnavailable(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-password"
	tests := []struct {
		name string
		open func(t *testing.T) *gorm.DB
	}{
		{"postgres refused", func(t *testing.T) *gorm.DB {
			// Nothing listens on port 1; the dialector does not connect on open.
			dsn := "host=127.0.0.1 port=1 user=paylink password=" + secret + " dbname=paylink sslmode=disable connect_timeout=5"
			db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{DisableAutomaticPing: true, Logger: gormConfig().Logger})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			closeOnCleanup(t, db)
			return db
		}},
		{"sqlite closed", func(t *testing.T) *gorm.DB {
			db := openSQLite(t)
			if err := gormstore.Migrate(context.Background(), db); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			sqlDB, _ := db.DB()
			sqlDB.Close()
			return db
		}},
		{"sqlite busy", func(t *testing.T) *gorm.DB {
			path := t.TempDir() + "/busy.db"
			holder, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(path)), gormConfig())
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			closeOnCleanup(t, holder)
			if err := gormstore.Migrate(context.Background(), holder); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			// Another process holds the write lock for the rest of the test.
			lock := holder.Begin()
			if err := lock.Exec("INSERT INTO paylink_events (event_id, provider, payment_id, status, created_at) VALUES ('x','x','x','x', CURRENT_TIMESTAMP)").Error; err != nil {
				t.Fatalf("take the write lock: %v", err)
			}
			t.Cleanup(func() { lock.Rollback() })
			dsn := path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(50)&_txlock=immediate"
			db, err := gorm.Open(sqlite.Open(dsn), gormConfig())
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			closeOnCleanup(t, db)
			return db
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := gormstore.New(tt.open(t), testOptions())
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			link := provider.Link{ID: "1", Provider: "test", Status: provider.LinkActive}
			errs := map[string]error{
				"SaveLink": s.SaveLink(ctx, &provider.LinkWrite{Provider: link.Provider, ID: link.ID, Link: &link}),
			}
			if !strings.Contains(tt.name, "busy") { // WAL readers are never blocked by a writer
				_, errs["GetLink"] = s.GetLink(ctx, "test", "1")
			}
			for op, err := range errs {
				if !errors.Is(err, provider.CodeUnavailable) {
					t.Errorf("%s: got %v (code %v), want CodeUnavailable", op, err, provider.CodeOf(err))
				}
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("%s: error message leaks the password: %v", op, err)
				}
			}
		})
	}
}

func TestNewRejectsANilDB(t *testing.T) {
	t.Parallel()
	if _, err := gormstore.New(nil, gormstore.Options{}); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("nil db: %v, want CodeInvalidArgument", err)
	}
}

// provider.Service accepts hook names of up to 200 characters; the store
// must keep every one of them, or each callback that enqueues such a hook
// fails and the payment is never recorded.
func TestLongestHookNameIsStored(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store := migrated(t, b.open(t))
			mem := providertest.NewMemProvider("mem", "token")
			// A synthetic event: what is checked is the hook name's column.
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, InsecureSkipVerify: true})
			if err != nil {
				t.Fatalf("NewService: %v", err)
			}
			name := strings.Repeat("h", 200)
			if err := svc.On(name, provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error { return nil }); err != nil {
				t.Fatalf("On with a 200-character name: %v", err)
			}
			ctx := context.Background()
			link, err := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatalf("CreateLink: %v", err)
			}
			ev := successEvent("mem", link, "pay-long")
			out, err := svc.ApplyEvent(ctx, &ev)
			if err != nil || out.Verdict != provider.VerdictApplied {
				t.Fatalf("ApplyEvent: %v, %v; want applied", out.Verdict, err)
			}
			runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{Hook: name})
			if err != nil || len(runs) != 1 {
				t.Fatalf("runs of the long-named hook: %d, %v; want 1", len(runs), err)
			}
		})
	}
}

func TestPostgresErrorsNameTheirSQLSTATEButNoSQL(t *testing.T) {
	dsn := newSchema(t)
	db := openPostgres(t, dsn)
	store, err := gormstore.New(db, testOptions()) // not migrated: the tables are missing
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.GetLink(t.Context(), "flip", "1")
	if err == nil {
		t.Fatal("reading from a missing table succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "SQLSTATE 42P01") {
		t.Errorf("error %q does not name the SQLSTATE of an undefined table", msg)
	}
	// The driver's text (which names the missing table) is part of the
	// message; the SQL statement is not.
	if strings.Contains(strings.ToUpper(msg), "SELECT") {
		t.Errorf("error %q carries SQL", msg)
	}
}
