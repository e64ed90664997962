package gormstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// Why goose, and not gormigrate or AutoMigrate: paylink's schema is a money
// ledger, and its changes must be read before they run. goose keeps each
// step a plain SQL file, per dialect, that a reviewer and a DBA can read;
// it can run a step outside a transaction (CREATE INDEX CONCURRENTLY, which
// does not block writes to a busy table, cannot run inside one); it records
// the applied steps in a table of its own; and its Provider takes a session
// lock on the one connection it runs on. gormigrate runs Go functions
// against GORM, which keeps the DDL implicit in struct tags; AutoMigrate
// has no record of versions, builds indexes with a blocking CREATE INDEX
// and never changes an index whose definition changed.

// MigrationsTable is the table, in the same schema as paylink's tables, in
// which [Migrate] records each step it applied (goose's version table):
// one row per step, version_id being the step's number.
const MigrationsTable = "paylink_schema_migrations"

// migrationFiles holds the steps: migrations/<dialect>/NNNNN_name.sql.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// migrateLockClass is the first half of the PostgreSQL advisory lock key
// that serializes Migrate ("plnk"); the second half is a hash of the
// current schema, so migrations of different schemas do not wait for each
// other. Releases before versioned migrations took the same lock, so an old
// and a new replica starting at once take turns too.
const migrateLockClass int32 = 0x706c6e6b

// Migrate brings paylink's tables (see [Models]) to the schema this
// release needs, in the schema the connection uses (PostgreSQL's
// search_path), by running the steps in gormstore/migrations that the
// database has not recorded yet, in order, and recording each one in
// [MigrationsTable]. On PostgreSQL it also creates the function
// paylink_write_conflict() that Apply raises to refuse a write.
//
// Migrate is idempotent: a database that has every step changes nothing.
// A database written by a release before versioned migrations (tables
// made by GORM AutoMigrate, no [MigrationsTable]) is adopted: step 1 finds
// its tables and indexes in place and is recorded. Databases of the
// release before refunds (no refunded amounts) are no longer upgraded:
// migrate them with that release's successor first.
//
// On PostgreSQL every step runs on one connection that holds a session
// advisory lock keyed by the current schema, so several replicas may call
// Migrate at once at startup: one migrates, the others wait and then find
// nothing to do. A pool of one connection is enough. Indexes of the large
// tables are built with CREATE INDEX CONCURRENTLY, outside a transaction,
// so writes go on while they build; an INVALID paylink_ index left by a
// build that failed is dropped first and built again.
//
// On SQLite the steps run on one connection too (so [ConfigureSQLite]'s
// single connection works), each step in a transaction; run Migrate from
// one process.
//
// Migrate never runs on its own: call it at startup or from a deploy step.
// db must not be a transaction.
func Migrate(ctx context.Context, db *gorm.DB) error {
	const op = "gormstore.Migrate"
	if db == nil {
		return provider.Errorf(provider.CodeInvalidArgument, op, "nil *gorm.DB")
	}
	d, err := dialectOf(db)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return provider.Errorf(provider.CodeInvalidArgument, op, "no *sql.DB (a transaction?): %w", err)
	}
	if err := checkAdoptable(db.WithContext(ctx)); err != nil {
		return err
	}
	p, err := newMigrator(d, sqlDB)
	if err != nil {
		return provider.Errorf(provider.CodeInternal, op, "loading the migration steps: %w", err)
	}
	_, err = p.Up(ctx)
	return migrateError((&Store{db: db}).wrap("Migrate", err), err)
}

// checkAdoptable refuses a database that step 1 would record without
// making it whole: one with no [MigrationsTable] whose paylink_ tables lack
// a column of [Models]. Step 1 creates missing tables but never alters an
// existing one, so such a database, made by a release before refunds, must
// first be migrated by a release that still runs AutoMigrate.
func checkAdoptable(db *gorm.DB) error {
	m := db.Migrator()
	if m.HasTable(MigrationsTable) {
		return nil
	}
	for _, model := range Models() {
		if !m.HasTable(model) {
			continue
		}
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(model); err != nil {
			return provider.Errorf(provider.CodeInternal, "gormstore.Migrate", "parsing %T: %w", model, err)
		}
		for _, f := range stmt.Schema.Fields {
			if f.DBName != "" && !slices.Contains(addedAfterV1[stmt.Schema.Table], f.DBName) && !m.HasColumn(model, f.DBName) {
				return provider.Errorf(provider.CodeFailedPrecondition, "gormstore.Migrate",
					"table %s has no column %s: it was made by a release older than the last one before versioned migrations; migrate it with that release first (see docs/operations.md)",
					stmt.Schema.Table, f.DBName)
			}
		}
	}
	return nil
}

// addedAfterV1 are the columns of [Models] that steps after step 1 add,
// by table: a database of the last release before versioned migrations
// lacks them, and Migrate adds them.
var addedAfterV1 = map[string][]string{
	"paylink_hook_runs": {"provider", "payment_id"}, // step 3
}

// newMigrator returns the goose Provider of d's steps on db. It never
// closes db (Provider.Close would).
func newMigrator(d dialect, db *sql.DB) (*goose.Provider, error) {
	opts := []goose.ProviderOption{
		goose.WithTableName(MigrationsTable),
		// Only paylink's own steps, even if the application registers Go
		// migrations of its own with goose's global registry.
		goose.WithDisableGlobalRegistry(true),
	}
	var gd goose.Dialect
	var dir string
	switch d {
	case dialectPostgres:
		gd, dir = goose.DialectPostgres, "migrations/postgres"
		opts = append(opts, goose.WithSessionLocker(postgresMigrateLock{}))
	case dialectSQLite:
		gd, dir = goose.DialectSQLite3, "migrations/sqlite"
	default:
		return nil, fmt.Errorf("no migrations for dialect %d", d)
	}
	fsys, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db, fsys, opts...)
}

// migrateError names the step that failed in wrapped, the coded error
// of raw.
func migrateError(wrapped, raw error) error {
	var partial *goose.PartialError
	var coded *provider.Error
	if errors.As(raw, &partial) && partial.Failed != nil && partial.Failed.Source != nil && errors.As(wrapped, &coded) {
		coded.Message = "step " + path.Base(partial.Failed.Source.Path) + ": " + coded.Message
	}
	return wrapped
}

// postgresMigrateLock is goose's session locker on PostgreSQL: the
// advisory lock (migrateLockClass, hash of the current schema) that the
// releases before goose took too, rather than goose's one global key, so
// replicas migrating different schemas do not wait for each other and an
// old and a new release starting at once take turns.
//
// Like goose's own locker it polls pg_try_advisory_lock instead of waiting
// in pg_advisory_lock: CREATE INDEX CONCURRENTLY waits for every
// transaction in the database that is older than it, a waiting
// pg_advisory_lock statement included, while that statement waits for the
// lock the building session holds; PostgreSQL reports the deadlock and
// aborts one of them. Polls are short statements, so the build only waits
// for each one to end. The wait is bounded by ctx alone.
//
// Holding the lock, it drops INVALID paylink_ indexes, so that the
// CONCURRENTLY steps that left them build them again.
type postgresMigrateLock struct{}

var _ lock.SessionLocker = postgresMigrateLock{}

const migrateLockArgs = "$1, hashtext(coalesce(current_schema(), ''))"

// SessionLock takes the lock on conn and drops INVALID paylink_ indexes.
func (l postgresMigrateLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var locked bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+migrateLockArgs+")", migrateLockClass).Scan(&locked); err != nil {
			return err
		}
		if locked {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := dropInvalidIndexes(ctx, conn); err != nil {
		// goose only closes conn when locking fails, which returns it to
		// the pool still locked: unlock here.
		return errors.Join(err, l.SessionUnlock(ctx, conn))
	}
	return nil
}

// SessionUnlock releases the lock, even when ctx is done.
func (postgresMigrateLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+migrateLockArgs+")", migrateLockClass)
	return err
}

// dropInvalidIndexes drops, CONCURRENTLY, every INVALID index named
// paylink_* in the current schema. Only a CREATE INDEX CONCURRENTLY that
// failed leaves one, and the step that ran it was then not recorded, so
// it runs again and builds the index anew (IF NOT EXISTS would skip the
// invalid one, leaving an index the planner never uses).
func dropInvalidIndexes(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, `SELECT n.nspname, c.relname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND n.nspname = current_schema() AND c.relname LIKE 'paylink\_%'`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			rows.Close()
			return err
		}
		names = append(names, quoteIdent(schema)+"."+quoteIdent(name))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := conn.ExecContext(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name); err != nil {
			return err
		}
	}
	return nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
