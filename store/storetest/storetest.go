// Package storetest opens throwaway stores for tests: SQLite in a
// temporary directory, or, when DEIS_TEST_DATABASE names a PostgreSQL
// database, a fresh schema in it that is dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deis/deis/store"
)

// EnvDatabase names the environment variable holding a PostgreSQL URL to
// run store tests against.
const EnvDatabase = "DEIS_TEST_DATABASE"

// Open returns a migrated, empty store that is closed when the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{
		DataDir:     t.TempDir(),
		DatabaseURL: DatabaseURL(t),
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// DatabaseURL returns "" (SQLite) unless DEIS_TEST_DATABASE is a postgres
// URL. Then it creates a schema t_<random> in that database, returns the URL
// with search_path set to it, and drops the schema when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabase)
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return ""
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if err := pgExec(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		if err := pgExec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping test schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing %s: %v", EnvDatabase, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx passes unknown parameters to the server
	u.RawQuery = q.Encode()
	return u.String()
}

// pgExec runs one statement on a short-lived connection.
func pgExec(dbURL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}
