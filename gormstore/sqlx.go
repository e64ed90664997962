package gormstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// querier is what the hot paths run their SQL on: the pool, or a
// transaction of the store's own. They use database/sql directly: GORM's reflection
// costs more per statement than the statement itself on a callback.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// replanned returns args, on PostgreSQL with the instruction to plan the
// statement for these arguments on every call (pgx's
// QueryExecModeCacheDescribe: an unnamed statement, its description
// cached). For the statements whose best plan depends on the tables'
// sizes: a prepared statement's generic plan, made once per connection,
// keeps what suited the tables when it was made, and without statistics
// (autovacuum off, or a fresh deploy before its first ANALYZE) a plan
// made while they were empty scans them whole forever after: LoadApply
// read 4,000 buffers a call after 17,000 callbacks, 1.5 ms instead of
// 0.1. Apply's inserts use their unique indexes whatever the plan, and
// keep the prepared statement.
func (s *Store) replanned(args ...any) []any {
	if s.dialect != dialectPostgres {
		return args
	}
	return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
}

// sqlBuilder builds one statement with numbered parameters ($1, $2, ...).
// On SQLite, rebind turns them into "?" in order of appearance.
type sqlBuilder struct {
	b    strings.Builder
	args []any
	// dry builds the arguments only: placeholders and text are skipped.
	dry bool
}

// arg adds a parameter and returns its placeholder.
func (q *sqlBuilder) arg(v any) string {
	q.args = append(q.args, v)
	if q.dry {
		return ""
	}
	return "$" + strconv.Itoa(len(q.args))
}

// list adds parameters and returns their placeholders, comma-separated.
func (q *sqlBuilder) list(vs ...any) string {
	if q.dry {
		q.args = append(q.args, vs...)
		return ""
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q.arg(v))
	}
	return b.String()
}

func (q *sqlBuilder) WriteString(s string) {
	if !q.dry {
		q.b.WriteString(s)
	}
}

// rebind returns the statement and its arguments for d: unchanged on
// PostgreSQL; with "?" placeholders and the arguments in order of
// appearance on SQLite.
func rebind(d dialect, query string, args []any) (string, []any) {
	if d == dialectPostgres {
		return query, args
	}
	var b strings.Builder
	out := make([]any, 0, len(args))
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '$' || i+1 >= len(query) || query[i+1] < '0' || query[i+1] > '9' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		out = append(out, args[n-1])
		b.WriteByte('?')
		i = j - 1
	}
	return b.String(), out
}

// pgxRow runs a one-row query and scans it (see pgxQuery); no row is
// sql.ErrNoRows.
func (s *Store) pgxRow(ctx context.Context, query string, args, dest []any) error {
	found := false
	err := s.pgxQuery(ctx, s.querier(ctx), query, args, func(scan func(...any) error) error {
		if found {
			return nil
		}
		found = true
		return scan(dest...)
	})
	if err == nil && !found {
		return sql.ErrNoRows
	}
	return err
}

// pgxQuery runs a query on db and calls each for every row. When db is
// the pool of a pgx connection, it talks pgx directly: its native scan
// costs a fraction of database/sql's allocations per column, which on the
// callback path are most of them. Otherwise (a transaction,
// SQLite) it goes through database/sql.
func (s *Store) pgxQuery(ctx context.Context, db querier, query string, args []any, each func(scan func(dest ...any) error) error) error {
	if _, pool := db.(*sql.DB); pool && s.dialect == dialectPostgres {
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		native := false
		err = conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return nil
			}
			native = true
			rows, err := c.Conn().Query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := each(rows.Scan); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if native || err != nil {
			return err
		}
		db = conn
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
