package gormstore

import (
	"github.com/paylinkgo/paylink/provider"
	"gorm.io/gorm"
)

// OpenSQLiteDSN returns the recommended DSN for a SQLite database file at
// path, for github.com/glebarez/sqlite:
//
//   - journal_mode(WAL): readers do not block the writer;
//   - busy_timeout(10000): a writer waits up to 10 s for the lock instead of
//     failing at once with SQLITE_BUSY;
//   - synchronous(FULL): every commit is on disk before it returns, so a
//     callback answered 200 survives a power loss (with NORMAL, the usual
//     WAL setting, the last commits can vanish). Concurrent callbacks
//     share one commit (see Store.Apply), which keeps the cost down;
//   - foreign_keys(1);
//   - _txlock=immediate: every transaction takes the write lock when it
//     begins, so two transactions never deadlock upgrading a read lock.
//
// Open the database with it, then call [ConfigureSQLite] to allow a single
// connection (SQLite has one writer; more connections only trade waiting
// for SQLITE_BUSY errors under write load):
//
//	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN("paylink.db")), &gorm.Config{})
//	if err == nil {
//		err = gormstore.ConfigureSQLite(db)
//	}
//
// Do not add _time_format to the DSN: the driver stops reading parameters
// after it, dropping _txlock.
func OpenSQLiteDSN(path string) string {
	return path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// ConfigureSQLite sets the pool of a SQLite *gorm.DB to one connection that
// is kept open. Everything, the application's queries and the hook runner's
// included, then takes turns on it, which is what SQLite does internally
// anyway. It fails on any database that is not SQLite.
//
// With one connection, never call the store while a transaction of your
// own is open on the same *gorm.DB in the same goroutine: the call waits
// for the connection the transaction holds.
func ConfigureSQLite(db *gorm.DB) error {
	if d, err := dialectOf(db); err != nil || d != dialectSQLite {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore.ConfigureSQLite", "not a SQLite database")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return provider.Errorf(provider.CodeInvalidArgument, "gormstore.ConfigureSQLite", "gorm has no *sql.DB: %w", err)
	}
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)
	return nil
}
