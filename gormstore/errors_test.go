package gormstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/provider"
)

// requireOneCode checks that CodeOf reports want and that errors.Is
// matches want and no other code.
func requireOneCode(t *testing.T, err error, want provider.ErrorCode) {
	t.Helper()
	if got := provider.CodeOf(err); got != want {
		t.Errorf("CodeOf = %v, want %v", got, want)
	}
	for c := provider.CodeUnknown; !strings.HasPrefix(c.String(), "ErrorCode("); c++ {
		if got := errors.Is(err, c); got != (c == want) {
			t.Errorf("errors.Is(err, %v) = %v, want %v", c, got, c == want)
		}
	}
}

// requireCauseOnce checks that err reaches cause with errors.Is and holds
// its text exactly once.
func requireCauseOnce(t *testing.T, err, cause error) {
	t.Helper()
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, %q) = false: the cause left the chain", cause)
	}
	if n := strings.Count(err.Error(), cause.Error()); n != 1 {
		t.Errorf("Error() holds the cause's text %q %d times, want once: %q", cause, n, err)
	}
}

// sqliteError has the shape of a SQLite driver's error: a message and an
// extended result code.
type sqliteError struct {
	code int
	msg  string
}

func (e *sqliteError) Error() string { return e.msg }
func (e *sqliteError) Code() int     { return e.code }

// quietError wraps an error without printing it.
type quietError struct{ err error }

func (e *quietError) Error() string { return "query failed" }
func (e *quietError) Unwrap() error { return e.err }

func TestWrapGivesOneCodeAndKeepsTheCause(t *testing.T) {
	t.Parallel()
	pg := func(code, msg string) *pgconn.PgError {
		return &pgconn.PgError{Severity: "ERROR", Code: code, Message: msg}
	}
	duplicate := pg("23505", `duplicate key value violates unique constraint "paylink_links_pkey"`)
	undefined := pg("42P01", `relation "paylink_links" does not exist`)
	busy := &sqliteError{code: 5, msg: "database is locked (5) (SQLITE_BUSY)"}
	nested := provider.Errorf(provider.CodeNotFound, "gormstore.GetLink", "link not found")
	tests := []struct {
		name  string
		cause error
		code  provider.ErrorCode
		// text is the exact Error() text, or "" when the cause is returned as it is.
		text string
	}{
		{"a missing row is CodeNotFound", gorm.ErrRecordNotFound, provider.CodeNotFound,
			"gormstore.Op: not found: record not found"},
		{"a wrapped missing row too", fmt.Errorf("first: %w", gorm.ErrRecordNotFound), provider.CodeNotFound,
			"gormstore.Op: not found: first: record not found"},
		{"a PostgreSQL unique violation is CodeConflict, its SQLSTATE named once", duplicate, provider.CodeConflict,
			`gormstore.Op: conflicts with an existing row: ERROR: duplicate key value violates unique constraint "paylink_links_pkey" (SQLSTATE 23505)`},
		{"a wrapped unique violation too", fmt.Errorf("insert: %w", duplicate), provider.CodeConflict,
			`gormstore.Op: conflicts with an existing row: insert: ERROR: duplicate key value violates unique constraint "paylink_links_pkey" (SQLSTATE 23505)`},
		{"gorm's own duplicate key error", gorm.ErrDuplicatedKey, provider.CodeConflict,
			"gormstore.Op: conflicts with an existing row: duplicated key not allowed"},
		{"a SQLite unique violation", &sqliteError{code: 2067, msg: "constraint failed: UNIQUE constraint failed: paylink_links.id (2067)"}, provider.CodeConflict,
			"gormstore.Op: conflicts with an existing row: constraint failed: UNIQUE constraint failed: paylink_links.id (2067)"},
		{"a serialization failure may succeed when retried", pg("40001", "could not serialize access due to concurrent update"), provider.CodeUnavailable,
			"gormstore.Op: database unavailable: ERROR: could not serialize access due to concurrent update (SQLSTATE 40001)"},
		{"a server shutting down", pg("57P01", "terminating connection due to administrator command"), provider.CodeUnavailable,
			"gormstore.Op: database unavailable: ERROR: terminating connection due to administrator command (SQLSTATE 57P01)"},
		{"an undefined table is a bug, named by its SQLSTATE", undefined, provider.CodeInternal,
			`gormstore.Op: database error: ERROR: relation "paylink_links" does not exist (SQLSTATE 42P01)`},
		{"a wrapper that hides the PgError's text still shows its SQLSTATE", &quietError{undefined}, provider.CodeInternal,
			"gormstore.Op: database error (SQLSTATE 42P01): query failed"},
		{"SQLite busy", busy, provider.CodeUnavailable,
			"gormstore.Op: database unavailable: database is locked (5) (SQLITE_BUSY)"},
		{"a bad connection", driver.ErrBadConn, provider.CodeUnavailable,
			"gormstore.Op: database unavailable: driver: bad connection"},
		{"a canceled context", fmt.Errorf("query: %w", context.Canceled), provider.CodeCanceled,
			"gormstore.Op: canceled: query: context canceled"},
		{"a passed deadline", context.DeadlineExceeded, provider.CodeDeadlineExceeded,
			"gormstore.Op: deadline exceeded: context deadline exceeded"},
		{"anything else is CodeInternal", errors.New("sql: Scan error on column index 2"), provider.CodeInternal,
			"gormstore.Op: database error: sql: Scan error on column index 2"},
		{"an error that has a code keeps it", nested, provider.CodeNotFound, ""},
	}
	// Translate needs no connection.
	s := &Store{db: &gorm.DB{Config: &gorm.Config{Dialector: postgres.Dialector{Config: &postgres.Config{}}}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.wrap("Op", tt.cause)
			requireOneCode(t, err, tt.code)
			if tt.text == "" {
				if err != tt.cause {
					t.Errorf("wrap = %v, want the coded error unchanged", err)
				}
				return
			}
			if got := err.Error(); got != tt.text {
				t.Errorf("Error() = %q\nwant      %q", got, tt.text)
			}
			requireCauseOnce(t, err, tt.cause)
			var pgErr *pgconn.PgError
			if errors.As(tt.cause, &pgErr) {
				var got *pgconn.PgError
				if !errors.As(err, &got) || got != pgErr {
					t.Errorf("errors.As does not reach the *pgconn.PgError")
				}
				if n := strings.Count(err.Error(), "SQLSTATE "+pgErr.Code); n != 1 {
					t.Errorf("Error() names the SQLSTATE %d times, want once: %q", n, err)
				}
			}
		})
	}
	if err := s.wrap("Op", nil); err != nil {
		t.Errorf("wrap(nil) = %v", err)
	}
}

// The same promises hold for errors that real databases give.
func TestWrapOnRealDatabaseErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-password"
	type probe struct {
		name string
		code provider.ErrorCode
		run  func(ctx context.Context, db *gorm.DB) error
		// says is text the message must hold (the driver's explanation).
		says string
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelExpired()
	probes := []probe{
		{"missing table", provider.CodeInternal, func(ctx context.Context, db *gorm.DB) error {
			return db.WithContext(ctx).Exec("SELECT * FROM paylink_no_such_table").Error
		}, "paylink_no_such_table"},
		{"no row", provider.CodeNotFound, func(ctx context.Context, db *gorm.DB) error {
			var n int
			return db.WithContext(ctx).Raw("SELECT 1 WHERE 1 = 0").Row().Scan(&n)
		}, "no rows"},
		{"duplicate key", provider.CodeConflict, func(ctx context.Context, db *gorm.DB) error {
			// A rolled-back transaction keeps the table to one connection
			// and leaves nothing behind.
			var err error
			db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				for _, q := range []string{
					"CREATE TEMPORARY TABLE paylink_dup (id integer PRIMARY KEY)",
					"INSERT INTO paylink_dup (id) VALUES (1)",
					"INSERT INTO paylink_dup (id) VALUES (1)",
				} {
					if err = tx.Exec(q).Error; err != nil {
						return err
					}
				}
				return errors.New("not reached")
			})
			return err
		}, "paylink_dup"},
		{"canceled context", provider.CodeCanceled, func(_ context.Context, db *gorm.DB) error {
			return db.WithContext(canceled).Exec("SELECT 1").Error
		}, "context canceled"},
		{"passed deadline", provider.CodeDeadlineExceeded, func(_ context.Context, db *gorm.DB) error {
			return db.WithContext(expired).Exec("SELECT 1").Error
		}, "context deadline exceeded"},
	}
	open := map[string]func(t *testing.T) *gorm.DB{
		"sqlite": func(t *testing.T) *gorm.DB {
			db, err := gorm.Open(sqlite.Open(OpenSQLiteDSN(filepath.Join(t.TempDir(), "errors.db"))), &gorm.Config{Logger: logger.Discard})
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			t.Cleanup(func() { closeDB(db) })
			return db
		},
		"postgres": func(t *testing.T) *gorm.DB {
			dsn := os.Getenv("PAYLINK_TEST_POSTGRES_DSN")
			if dsn == "" {
				t.Skip("PAYLINK_TEST_POSTGRES_DSN is not set: PostgreSQL tests not run (SQLite ran)")
			}
			db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			t.Cleanup(func() { closeDB(db) })
			return db
		},
		"postgres refused": func(t *testing.T) *gorm.DB {
			// Nothing listens on port 1; the dialector connects on first use.
			dsn := "host=127.0.0.1 port=1 user=paylink password=" + secret + " dbname=paylink sslmode=disable connect_timeout=5"
			db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard, DisableAutomaticPing: true})
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			t.Cleanup(func() { closeDB(db) })
			return db
		},
	}
	for name, openDB := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := openDB(t)
			s := &Store{db: db}
			ps := probes
			if name == "postgres refused" {
				ps = []probe{{"connection refused", provider.CodeUnavailable, func(ctx context.Context, db *gorm.DB) error {
					return db.WithContext(ctx).Exec("SELECT 1").Error
				}, "connection refused"}}
			}
			for _, p := range ps {
				t.Run(p.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					cause := p.run(ctx, db)
					if cause == nil {
						t.Fatal("the statement succeeded")
					}
					err := s.wrap("Probe", cause)
					requireOneCode(t, err, p.code)
					requireCauseOnce(t, err, cause)
					msg := err.Error()
					t.Log(msg)
					if !strings.HasPrefix(msg, "gormstore.Probe: ") || !strings.Contains(msg, p.says) {
						t.Errorf("Error() = %q; want the op and %q", msg, p.says)
					}
					if strings.Contains(msg, "SELECT") || strings.Contains(msg, "INSERT") || strings.Contains(msg, secret) {
						t.Errorf("Error() = %q carries SQL or a password", msg)
					}
					var pgErr *pgconn.PgError
					if errors.As(cause, &pgErr) && strings.Count(msg, "SQLSTATE "+pgErr.Code) != 1 {
						t.Errorf("Error() = %q; want SQLSTATE %s once", msg, pgErr.Code)
					}
				})
			}
		})
	}
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}
