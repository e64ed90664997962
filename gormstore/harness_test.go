package gormstore_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/gormstore/gormstoretest"
)

// testLogger discards logs unless PAYLINK_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("PAYLINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func gormConfig() *gorm.Config {
	return &gorm.Config{Logger: logger.Discard}
}

// testOptions log through the test logger.
func testOptions() gormstore.Options {
	return gormstore.Options{Logger: testLogger()}
}

// openSQLite opens a fresh, configured SQLite database file in a temp dir
// and closes it when the test ends.
func openSQLite(t testing.TB) *gorm.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "paylink.db")
	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(path)), gormConfig())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	if err := gormstore.ConfigureSQLite(db); err != nil {
		t.Fatalf("ConfigureSQLite: %v", err)
	}
	closeOnCleanup(t, db)
	return db
}

func closeOnCleanup(t testing.TB, db *gorm.DB) {
	t.Helper()
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
}

// postgresDSN returns the test server's DSN, or skips the test with the
// reason when none is configured.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(gormstoretest.DSNEnv)
	if dsn == "" {
		t.Skipf("%s is not set: PostgreSQL tests not run (SQLite ran)", gormstoretest.DSNEnv)
	}
	return dsn
}

// newSchema creates a schema of its own for the test on the shared server,
// drops it when the test ends, and returns a DSN whose search_path is it.
func newSchema(t testing.TB) string {
	t.Helper()
	return gormstoretest.PostgresSchema(t, "paylink_gormstore")
}

// openPostgres opens dsn with a pool small enough to share the server.
func openPostgres(t testing.TB, dsn string) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("db.DB: %v", err)
	}
	sqlDB.SetMaxOpenConns(8)
	closeOnCleanup(t, db)
	return db
}

// migrated runs Migrate and New on db.
func migrated(t testing.TB, db *gorm.DB) *gormstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	s, err := gormstore.New(db, testOptions())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// backend is one database family the tests run on.
type backend struct {
	name string
	// open returns a fresh, empty database (not migrated).
	open func(t testing.TB) *gorm.DB
}

// backends returns SQLite always and PostgreSQL, which skips with a
// reason unless PAYLINK_TEST_POSTGRES_DSN is set.
func backends() []backend {
	return []backend{
		{"sqlite", openSQLite},
		{"postgres", func(t testing.TB) *gorm.DB { return openPostgres(t, newSchema(t)) }},
	}
}
