package gormstore

import (
	"context"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// migrateLockClass is the first half of the PostgreSQL advisory lock key
// that serializes Migrate ("plnk"); the second half is a hash of the
// current schema, so migrations of different schemas do not wait for each
// other.
const migrateLockClass int32 = 0x706c6e6b

// Migrate creates or updates the paylink_ tables (GORM AutoMigrate of
// [Models]) and, on PostgreSQL, the function paylink_write_conflict() that
// Apply raises to refuse a write, in the schema the connection uses
// (PostgreSQL's search_path). It is idempotent. On PostgreSQL it holds a session advisory
// lock for its whole run, so several replicas may call it at once at
// startup: one migrates, the others wait and then find nothing to do. The
// lock needs a dedicated connection, so the pool must allow at least two.
//
// Migrate never runs on its own: call it at startup or from a deploy step.
func Migrate(ctx context.Context, db *gorm.DB) error {
	const op = "gormstore.Migrate"
	if db == nil {
		return provider.Errorf(provider.CodeInvalidArgument, op, "nil *gorm.DB")
	}
	d, err := dialectOf(db)
	if err != nil {
		return err
	}
	s := &Store{db: db}
	if d == dialectSQLite {
		return s.wrap("Migrate", migrate(ctx, db.WithContext(ctx), d))
	}
	err = db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		const lockArgs = "?, hashtext(coalesce(current_schema(), ''))"
		if err := conn.Exec("SELECT pg_advisory_lock("+lockArgs+")", migrateLockClass).Error; err != nil {
			return err
		}
		defer func() {
			// Unlock even if ctx is done; closing the connection would too.
			conn.WithContext(context.WithoutCancel(ctx)).Exec("SELECT pg_advisory_unlock("+lockArgs+")", migrateLockClass)
		}()
		return migrate(ctx, conn, d)
	})
	return s.wrap("Migrate", err)
}

// conflictFunctionSQL creates the function an Apply statement calls to
// roll itself back when its claim or precondition did not hold.
const conflictFunctionSQL = `CREATE OR REPLACE FUNCTION paylink_write_conflict() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '` + conflictSQLState + `', MESSAGE = '` + conflictMessage + `';
END
$$`

// migrate runs GORM's migrations, and creates the conflict function on
// PostgreSQL, on db (on PostgreSQL the connection holding the lock).
func migrate(ctx context.Context, db *gorm.DB, d dialect) error {
	if err := db.AutoMigrate(Models()...); err != nil {
		return err
	}
	if d == dialectPostgres {
		return db.WithContext(ctx).Exec(conflictFunctionSQL).Error
	}
	return nil
}
