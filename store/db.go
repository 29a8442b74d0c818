package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the embedded migrations.
func (s *Store) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	if s.pg {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, s.db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("loading migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	for _, r := range res {
		s.log.Info("applied migration", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// handle runs queries written with ? placeholders on the database or in a
// transaction, rebinding them for PostgreSQL.
type handle struct {
	q  querier
	pg bool
}

func (s *Store) h() handle { return handle{s.db, s.pg} }

func (h handle) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return h.q.ExecContext(ctx, rebind(h.pg, q), args...)
}

func (h handle) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.q.QueryContext(ctx, rebind(h.pg, q), args...)
}

func (h handle) row(ctx context.Context, q string, args ...any) *sql.Row {
	return h.q.QueryRowContext(ctx, rebind(h.pg, q), args...)
}

// forUpdate locks the selected rows until the transaction ends on
// PostgreSQL. SQLite needs nothing: its immediate transactions already
// hold the database's write lock.
func (h handle) forUpdate() string {
	if h.pg {
		return " FOR UPDATE"
	}
	return ""
}

// forShare keeps the selected rows from being changed or deleted until the
// transaction ends (PostgreSQL only, as above).
func (h handle) forShare() string {
	if h.pg {
		return " FOR SHARE"
	}
	return ""
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(h handle) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := fn(handle{tx, s.pg}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// dbErr maps driver errors to the store's sentinels: no rows and a missing
// parent become ErrNotFound, a duplicate key ErrConflict.
func dbErr(err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows), isForeignKey(err):
		return ErrNotFound
	case isUnique(err):
		return ErrConflict
	}
	return err
}

// found turns a single-row lookup's error into whether the row exists.
func found(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, err
}

// affected turns a write that matched no row into ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return dbErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// scanner is a row or rows.
type scanner interface{ Scan(dest ...any) error }

// totalScanner scans the COUNT(*) OVER () column list puts first.
type totalScanner struct {
	rows  *sql.Rows
	total *int
}

func (t totalScanner) Scan(dest ...any) error {
	return t.rows.Scan(append([]any{t.total}, dest...)...)
}

// listQuery describes a page query: SELECT cols FROM from ORDER BY order,
// where from may carry a WHERE clause with args.
type listQuery struct {
	cols, from, order string
	args              []any
}

// list runs q for page p and returns the page and the total count.
func list[T any](ctx context.Context, h handle, p PageReq, q listQuery, scan func(scanner) (T, error)) ([]T, int, error) {
	limit, offset := int64(p.Limit), int64(p.Offset)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	offset = max(offset, 0)
	sqlText := "SELECT COUNT(*) OVER (), " + q.cols + " FROM " + q.from + " ORDER BY " + q.order + " LIMIT ? OFFSET ?"
	rows, err := h.query(ctx, sqlText, append(q.args[:len(q.args):len(q.args)], limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []T{}
	total := 0
	for rows.Next() {
		v, err := scan(totalScanner{rows, &total})
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) == 0 && offset > 0 { // past the end: count separately
		if err := h.row(ctx, "SELECT COUNT(*) FROM "+q.from, q.args...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
