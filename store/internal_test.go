package store

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pg      bool
		in, out string
	}{
		{false, "SELECT ? FROM t WHERE a = ?", "SELECT ? FROM t WHERE a = ?"},
		{true, "SELECT 1", "SELECT 1"},
		{true, "SELECT a FROM t WHERE a = ? AND b IN (?, ?)", "SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{true, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
	} {
		if got := rebind(tc.pg, tc.in); got != tc.out {
			t.Errorf("rebind(%v, %q) = %q, want %q", tc.pg, tc.in, got, tc.out)
		}
	}
}

func TestSealing(t *testing.T) {
	t.Parallel()
	box, err := loadSecretBox(Options{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]string{
		{},
		{"": ""},
		{"A": "1", "B": "", "\xff\x00": "\x00\xff\n=\"", "LONG": string(make([]byte, 300))},
	} {
		sealed := box.sealMap("l", m)
		got, err := box.openMap("l", sealed)
		if diff := cmp.Diff(m, got); err != nil || diff != "" {
			t.Errorf("openMap(sealMap(%q)): %v (-want +got):\n%s", m, err, diff)
		}
		if _, err := box.openMap("other label", sealed); !errors.Is(err, ErrWrongKey) {
			t.Errorf("opening with another label: %v, want ErrWrongKey", err)
		}
	}
	other, _ := loadSecretBox(Options{SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if _, err := other.open("l", box.seal("l", []byte("x"))); !errors.Is(err, ErrWrongKey) {
		t.Errorf("opening with another key: %v, want ErrWrongKey", err)
	}
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:AAAA", "plain text"} {
		if _, err := box.open("l", bad); err == nil {
			t.Errorf("open(%q) succeeded", bad)
		}
	}
	if _, err := decodeMap([]byte{5, 'a'}); err == nil {
		t.Error("decodeMap of a truncated map succeeded")
	}
}
