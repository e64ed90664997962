package gormstore

import (
	"context"
	"database/sql"
	"log/slog"

	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// migrateLockClass is the first half of the PostgreSQL advisory lock key
// that serializes Migrate ("plnk"); the second half is a hash of the
// current schema, so migrations of different schemas do not wait for each
// other.
const migrateLockClass int32 = 0x706c6e6b

// Migrate creates or updates the paylink_ tables (GORM AutoMigrate of
// [Models]) and River's tables (rivermigrate, up to the version this build
// of River needs), in the schema the connection uses (PostgreSQL's
// search_path). It is idempotent. On PostgreSQL it holds a session advisory
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
	sqlDB, err := db.DB()
	if err != nil {
		return provider.Errorf(provider.CodeInvalidArgument, op, "gorm has no *sql.DB: %w", err)
	}
	s := &Store{db: db}
	if d == dialectSQLite {
		return s.wrap("Migrate", migrate(ctx, db.WithContext(ctx), d, sqlDB))
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
		return migrate(ctx, conn, d, sqlDB)
	})
	return s.wrap("Migrate", err)
}

// migrate runs GORM's and River's migrations. GORM's run on db (on
// PostgreSQL the connection holding the lock); River's on the pool.
func migrate(ctx context.Context, db *gorm.DB, d dialect, sqlDB *sql.DB) error {
	if err := db.AutoMigrate(Models()...); err != nil {
		return err
	}
	migrator, err := rivermigrate.New(d.riverDriver(sqlDB), &rivermigrate.Config{
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
