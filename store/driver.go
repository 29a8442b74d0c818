package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	"github.com/mattn/go-sqlite3"
)

// This file is the only place that knows driver names, DSNs and how each
// back end reports errors.

const (
	sqliteDriver = "sqlite3"
	pgDriver     = "pgx"
	sqliteFile   = "deis.db"
	// _stmt_cache_size keeps each connection's prepared statements (the API
	// runs a few queries over and over; preparing dominated reads).
	// _txlock=immediate makes every transaction take the write lock at
	// BEGIN, so read-then-write transactions wait on busy_timeout instead
	// of failing with SQLITE_BUSY.
	sqliteParams = "_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_foreign_keys=on&_stmt_cache_size=64"
)

// isPostgresURL reports whether u selects the PostgreSQL back end.
func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// openDB opens and pings the database and sets its pool limits.
func openDB(ctx context.Context, opts Options) (db *sql.DB, pg bool, err error) {
	switch {
	case isPostgresURL(opts.DatabaseURL):
		db, err = sql.Open(pgDriver, opts.DatabaseURL)
		if err != nil {
			return nil, false, fmt.Errorf("opening postgres: %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(8)
		db.SetConnMaxIdleTime(5 * time.Minute)
		db.SetConnMaxLifetime(time.Hour)
		pg = true
	case opts.DatabaseURL != "":
		return nil, false, fmt.Errorf("unsupported database URL (want postgres:// or empty for SQLite)")
	default:
		dsn, err := sqliteDSN(opts.DataDir)
		if err != nil {
			return nil, false, err
		}
		if db, err = sql.Open(sqliteDriver, dsn); err != nil {
			return nil, false, fmt.Errorf("opening sqlite: %w", err)
		}
		// WAL lets readers run alongside the one writer; writers queue on
		// the immediate lock. Idle connections keep their page cache.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, false, fmt.Errorf("connecting to database: %w", err)
	}
	return db, pg, nil
}

// sqliteDSN is file:DataDir/deis.db with the parameters above.
func sqliteDSN(dataDir string) (string, error) {
	if dataDir == "" {
		return "", errors.New("no data directory for the SQLite database")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating data directory: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dataDir, sqliteFile))
	if err != nil {
		return "", fmt.Errorf("resolving database path: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: sqliteParams}
	return u.String(), nil
}

// rebind turns ? placeholders into $1..$n for PostgreSQL. Queries never
// hold a literal '?'.
func rebind(pg bool, q string) string {
	if !pg || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// isUnique reports a duplicate primary or unique key.
func isUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKey reports a foreign key violation: on insert, a missing parent.
func isForeignKey(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintForeignKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
