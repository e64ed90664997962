package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/gormstore/gormstoretest"
)

// postgresEnv names the PostgreSQL server the tests may use, as a
// postgres:// URL. CI always sets it.
const postgresEnv = "PAYLINK_TEST_POSTGRES_DSN"

// postgresSchemaURL creates a schema of the test's own on the shared
// server (other packages' tests run there at the same time), drops it when
// the test ends, and returns a DATABASE_URL whose search_path is it.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	dsn := gormstoretest.PostgresSchema(t, "paylink_shop")
	if u, err := url.Parse(dsn); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL for the shop's DATABASE_URL", gormstoretest.DSNEnv)
	}
	t.Logf("PostgreSQL run in %s", dsn)
	return dsn
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
