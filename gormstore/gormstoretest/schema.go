package gormstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DSNEnv names the environment variable holding the DSN of the shared
// PostgreSQL server (a postgres:// URL or a keyword/value DSN).
const DSNEnv = "PAYLINK_TEST_POSTGRES_DSN"

// PostgresSchema creates the schema prefix_<12 random hex digits> on the
// server DSNEnv names, drops it (and all it holds) when t ends, and returns
// the server's DSN with search_path set to it, in the form DSNEnv uses.
// Without DSNEnv, t is skipped with the reason.
func PostgresSchema(t testing.TB, prefix string) string {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		t.Skipf("%s is not set: PostgreSQL tests not run (the SQLite ones were)", DSNEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	withSchema, err := WithSearchPath(dsn, schema)
	if err != nil {
		t.Fatalf("%s: %v", DSNEnv, err)
	}
	admin, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("opening %s: %v", DSNEnv, err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin.WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return withSchema
}

// WithSearchPath returns dsn, a postgres:// URL or a keyword/value DSN,
// with its search_path set to schema.
func WithSearchPath(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
