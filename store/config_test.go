package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// awkward are config values that must come back byte for byte.
var awkward = map[string]string{
	"EMPTY":     "",
	"EQUALS":    "a=b==c=",
	"QUOTES":    `"double" 'single' \"escaped\" ` + "`back`",
	"SPACES":    "  leading and trailing \t ",
	"NEWLINES":  "line 1\nline 2\r\nline 3\n",
	"UNICODE":   "ünïcødé ☃ 🚀 日本語 \u200b\u202e",
	"NUL":       "before\x00after\x00",
	"INVALID":   "\xff\xfe\xc3\x28 not utf-8",
	"SHELL":     "$HOME ${X:-y} $(rm -rf /) ; | & > <",
	"JSONISH":   `{"a": [1, 2, null], "b": "\u0000"}`,
	"PERCENT":   "%s %d %% %!",
	"BACKSLASH": `C:\path\to\n`,
	"LONG":      strings.Repeat("0123456789abcdef", 8192),
}

func TestConfigValuesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	changes := map[string]*string{}
	for k, v := range awkward {
		changes[k] = ptr(v)
	}
	c, _, err := s.UpdateConfig(ctx, "web", changes, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConfig(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]deis.Config{"returned": c, "read back": got} {
		for k, want := range awkward {
			if cfg.Values[k] != want {
				t.Errorf("%s %s = %q, want %q", name, k, cfg.Values[k], want)
			}
		}
		if len(cfg.Values) != len(awkward) {
			t.Errorf("%s has %d values, want %d", name, len(cfg.Values), len(awkward))
		}
	}
	// Awkward keys too: the store does not validate names, the API does.
	_, _, err = s.UpdateConfig(ctx, "web", map[string]*string{"WITH SPACE=": ptr("x"), "\xff": ptr("y")}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConfig(ctx, "web"); got.Values["WITH SPACE="] != "x" || got.Values["\xff"] != "y" {
		t.Errorf("awkward keys did not round-trip: %q", got.Values)
	}
}

// TestEncryptedAtRest checks that config values, provider credentials and
// layer private keys never reach the database in clear.
func TestEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, dbURL := t.TempDir(), storetest.DatabaseURL(t)
	s, err := store.Open(ctx, store.Options{DataDir: dir, DatabaseURL: dbURL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const secret, plain = "Sup3rS3cretMarker", "PlainMarker"
	if _, err := s.CreateUser(ctx, deis.User{Username: "alice", Email: plain}, "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateProvider(ctx, deis.Provider{ID: "p1", Owner: "alice", Type: deis.ProviderEC2},
		map[string]string{"secret": secret + "-cred"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFlavor(ctx, deis.Flavor{ID: "f1", Owner: "alice", Provider: "p1"}); err != nil {
		t.Fatal(err)
	}
	layer := store.LayerSpec{Layer: deis.Layer{ID: "runtime", Flavor: "f1"}, PrivateKey: secret + "-key"}
	if _, err := s.CreateFormation(ctx, deis.Formation{ID: "dev", Owner: "alice"}, layer); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateApp(ctx, deis.App{ID: "web", Formation: "dev", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateConfig(ctx, "web", map[string]*string{"DB_PASSWORD": ptr(secret + "-config")}, "alice"); err != nil {
		t.Fatal(err)
	}

	driver, dsn := "sqlite3", "file:"+filepath.Join(dir, "deis.db")+"?mode=ro"
	if dbURL != "" {
		driver, dsn = "pgx", dbURL
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, "SELECT vals FROM configs UNION ALL SELECT creds FROM providers UNION ALL SELECT ssh_private_key FROM layers")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if n++; !strings.HasPrefix(v, "v1:") || strings.Contains(v, secret) {
			t.Errorf("stored secret %q: want sealed v1:... text", v)
		}
	}
	if n != 4 { // configs v1, v2, one provider, one layer
		t.Errorf("read %d sealed values, want 4", n)
	}
	if dbURL == "" { // and not in any file either (database, WAL)
		files, _ := filepath.Glob(filepath.Join(dir, "deis.db*"))
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if bytes.Contains(all, []byte(secret)) || !bytes.Contains(all, []byte(plain)) {
			t.Errorf("database files %v: secret found %v, plain marker found %v (want false, true)",
				files, bytes.Contains(all, []byte(secret)), bytes.Contains(all, []byte(plain)))
		}
	}
	if c, err := s.GetConfig(ctx, "web"); err != nil || !cmp.Equal(map[string]string{"DB_PASSWORD": secret + "-config"}, c.Values) {
		t.Errorf("GetConfig = %+v, %v", c, err)
	}
}
