package gormstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// SQLite primary result codes that mean "try again later" (the engine's
// extended codes keep the primary code in the low byte).
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteIOErr    = 10
	sqliteCantOpen = 14
	sqliteProtocol = 15

	// Extended result codes of a unique and a primary key violation.
	sqliteConstraintUnique     = 2067
	sqliteConstraintPrimaryKey = 1555
)

// wrap turns a database error into a *provider.Error with a portable code
// and op "gormstore."+op. An error that already reports a code (a
// *provider.Error from a nested call, say) is returned as it is, so its
// code is the one the caller sees.
//
// The message names the category, and Error() adds the driver's own text
// after it: "gormstore.GetLink: database error: ERROR: relation
// \"paylink_links\" does not exist (SQLSTATE 42P01)". Driver errors carry
// no SQL statement and no credentials: PostgreSQL's name the severity, the
// server's message and the SQLSTATE; a failed connection names the user and
// database, never the password; SQLite's name the result code.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var coded interface{ ErrorCode() provider.ErrorCode }
	if errors.As(err, &coded) {
		return err
	}
	code := s.classify(err)
	msg := "database error"
	switch code {
	case provider.CodeNotFound:
		msg = "not found"
	case provider.CodeConflict:
		msg = "conflicts with an existing row"
	case provider.CodeUnavailable:
		msg = "database unavailable"
	case provider.CodeCanceled:
		msg = "canceled"
	case provider.CodeDeadlineExceeded:
		msg = "deadline exceeded"
	}
	// PostgreSQL's SQLSTATE names the failure, and gives whoever is paged
	// something to go on. A *pgconn.PgError prints it already; name it here
	// only when a wrapper around the PgError does not.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code != "" && !strings.Contains(err.Error(), "SQLSTATE "+pgErr.Code) {
		msg += " (SQLSTATE " + pgErr.Code + ")"
	}
	return &provider.Error{Code: code, Op: "gormstore." + op, Message: msg, Err: err}
}

// classify maps a database error to a provider.ErrorCode.
func (s *Store) classify(err error) provider.ErrorCode {
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return provider.CodeNotFound
	case errors.Is(err, context.Canceled):
		return provider.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return provider.CodeDeadlineExceeded
	case duplicateKey(err), errors.Is(s.translate(err), gorm.ErrDuplicatedKey):
		return provider.CodeConflict
	case unavailable(err):
		return provider.CodeUnavailable
	}
	return provider.CodeInternal
}

// duplicateKey reports whether err, anywhere in its chain, is a unique or
// primary key violation. The dialectors' translators look at the outermost
// error only, so a violation wrapped on its way here would go unnoticed.
func duplicateKey(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return true
		}
	}
	return false
}

// translate asks the dialector to map a driver error to a gorm error.
func (s *Store) translate(err error) error {
	if t, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}

// unavailable reports whether err means the database cannot be reached or
// is too busy right now, so that retrying later may succeed.
func unavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),                                 // insufficient resources
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutting down, cannot connect now
			pgErr.Code == "40001", pgErr.Code == "40P01", // serialization failure, deadlock
			pgErr.Code == "55P03": // lock not available
			return true
		}
		return false
	}
	// SQLite drivers expose the result code through a Code method; reading it
	// through an interface keeps every SQLite package out of this one.
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteCantOpen, sqliteProtocol:
			return true
		}
	}
	// database/sql reports a closed pool with an unexported error value.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// notFound returns a CodeNotFound error for op.
func notFound(op, what string) error {
	return &provider.Error{Code: provider.CodeNotFound, Op: "gormstore." + op, Message: what + " not found"}
}
