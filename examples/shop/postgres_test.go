package main

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

// postgresEnv names the PostgreSQL server the tests may use, as a
// postgres:// URL. CI always sets it.
const postgresEnv = "PAYLINK_TEST_POSTGRES_DSN"

// postgresSchemaURL creates a schema of the test's own on the shared
// server (other packages' tests run there at the same time), drops it when
// the test ends, and returns a DATABASE_URL whose search_path is it.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skipf("%s is not set: the PostgreSQL run of the shop was not made (the SQLite runs were)", postgresEnv)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL for the shop's DATABASE_URL", postgresEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "paylink_shop_" + hex.EncodeToString(b[:])

	admin, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("opening %s: %v", postgresEnv, err)
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
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	t.Logf("PostgreSQL run in schema %s", schema)
	return u.String()
}

func TestOrderIsPaidOnceOnPostgreSQL(t *testing.T) {
	t.Parallel()
	env := shopEnv(t.TempDir())
	env["DATABASE_URL"] = postgresSchemaURL(t)
	s := startShop(t, env)
	if !strings.Contains(s.logs.String(), "dialect=postgres") {
		t.Fatalf("the shop did not run on PostgreSQL:\n%s", s.logs)
	}
	checkPaidOnce(t, s)
}

func TestMidtransOrderIsPaidOnceOnPostgreSQL(t *testing.T) {
	t.Parallel()
	env := midtransEnv(t.TempDir())
	env["DATABASE_URL"] = postgresSchemaURL(t)
	s := startShop(t, env)
	if logs := s.logs.String(); !strings.Contains(logs, "dialect=postgres") || !strings.Contains(logs, "fake Midtrans") {
		t.Fatalf("the shop did not run on PostgreSQL and the fake Midtrans:\n%s", logs)
	}
	checkPaidOnce(t, s)
}
