package gormstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// querier is what the hot paths run their SQL on: the pool, or the
// caller's transaction. They use database/sql directly: GORM's reflection
// costs more per statement than the statement itself on a callback.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlBuilder builds one statement with numbered parameters ($1, $2, ...).
// On SQLite, rebind turns them into "?" in order of appearance.
type sqlBuilder struct {
	b    strings.Builder
	args []any
}

// arg adds a parameter and returns its placeholder.
func (q *sqlBuilder) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// args returns placeholders for vs, comma-separated.
func (q *sqlBuilder) list(vs ...any) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q.arg(v))
	}
	return b.String()
}

func (q *sqlBuilder) WriteString(s string) { q.b.WriteString(s) }

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

// stmt is a fixed statement prepared for a dialect once.
type stmt struct {
	sql   string
	order []int // SQLite: which argument each "?" takes
}

func newStmt(d dialect, query string) stmt {
	if d == dialectPostgres {
		return stmt{sql: query}
	}
	idx := make([]any, 0, 16)
	for i := 1; i <= 64; i++ {
		idx = append(idx, i-1)
	}
	q, order := rebind(d, query, idx)
	st := stmt{sql: q, order: make([]int, len(order))}
	for i, o := range order {
		st.order[i] = o.(int)
	}
	return st
}

// bind returns the statement and its arguments in placeholder order.
func (s stmt) bind(args ...any) (string, []any) {
	if s.order == nil {
		return s.sql, args
	}
	out := make([]any, len(s.order))
	for i, o := range s.order {
		out[i] = args[o]
	}
	return s.sql, out
}
