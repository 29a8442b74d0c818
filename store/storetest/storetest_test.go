package storetest_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/deis/deis/store/storetest"
)

// TestDatabaseURLSchema checks that the search_path parameter reaches the
// server, so each test's tables live in its own schema.
func TestDatabaseURLSchema(t *testing.T) {
	u := storetest.DatabaseURL(t)
	if u == "" {
		t.Skip("no " + storetest.EnvDatabase)
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schema string
	if err := db.QueryRowContext(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if len(schema) != 18 || schema[:2] != "t_" {
		t.Errorf("current_schema() = %q, want t_<16 hex>", schema)
	}
}

func TestOpen(t *testing.T) {
	s := storetest.Open(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
