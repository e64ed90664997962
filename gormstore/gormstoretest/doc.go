// Package gormstoretest gives a test a PostgreSQL schema of its own on a
// server that other tests, of this and other packages, use at the same
// time: [PostgresSchema] creates it under a random name, returns a DSN
// whose search_path is it, and drops it when the test ends. The server is
// the one PAYLINK_TEST_POSTGRES_DSN names; without it the test is skipped,
// with the reason, so `go test ./...` passes on a machine with no
// PostgreSQL (and CI, which sets it, runs every PostgreSQL suite).
package gormstoretest
