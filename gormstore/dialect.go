package gormstore

import (
	"database/sql"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paylinkgo/paylink/provider"
)

// dialect is the database family behind a *gorm.DB.
type dialect int

const (
	dialectPostgres dialect = iota + 1
	dialectSQLite
)

// dialectOf tells PostgreSQL from SQLite by the dialector's name.
func dialectOf(db *gorm.DB) (dialect, error) {
	switch db.Dialector.Name() {
	case "postgres":
		return dialectPostgres, nil
	case "sqlite":
		return dialectSQLite, nil
	}
	return 0, provider.Errorf(provider.CodeUnimplemented, "gormstore",
		"unsupported database %q: use PostgreSQL or SQLite", db.Dialector.Name())
}

// lock adds FOR UPDATE on PostgreSQL. SQLite has no row locks: with
// _txlock=immediate every transaction holds the database's single writer
// lock from its first statement, which serializes them anyway.
func (d dialect) lock(db *gorm.DB) *gorm.DB {
	if d == dialectPostgres {
		return db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return db
}

// sqlTxOf returns the *sql.Tx inside a GORM transaction.
func sqlTxOf(tx *gorm.DB) (*sql.Tx, bool) {
	switch p := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p, true
	case *gorm.PreparedStmtTX:
		t, ok := p.Tx.(*sql.Tx)
		return t, ok
	}
	return nil, false
}
