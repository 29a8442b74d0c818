package slugs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestStore(t *testing.T) {
	t.Parallel()
	s := Store{Dir: t.TempDir() + "/slugs"}
	body := "not really a tar.gz"
	h := sha256.Sum256([]byte(body))
	want := hex.EncodeToString(h[:])

	refused := errors.New("refused")
	if _, _, err := s.Put(strings.NewReader(body), func(*os.File) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("Put with a refusing check: %v", err)
	}
	if s.Has(want) {
		t.Fatal("a refused slug was stored")
	}
	var seen string
	sum, size, err := s.Put(strings.NewReader(body), func(f *os.File) error {
		b, err := io.ReadAll(f)
		seen = string(b)
		return err
	})
	if err != nil || sum != want || size != int64(len(body)) || seen != body {
		t.Fatalf("Put = %s, %d, %v (check saw %q); want %s, %d", sum, size, err, seen, want, len(body))
	}
	f, err := s.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != body {
		t.Errorf("Open read %q", b)
	}
	if left, _ := os.ReadDir(s.Dir); len(left) != 1 {
		t.Errorf("the store holds %d files, want 1 (no temp files)", len(left))
	}
	for _, bad := range []string{"../etc/passwd", strings.Repeat("a", 64)} {
		if _, err := s.Open(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	if err := s.Remove(sum); err != nil || s.Has(sum) {
		t.Errorf("Remove: %v, still there: %v", err, s.Has(sum))
	}
	if err := s.Remove(sum); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	if got := URL("http://10.0.0.5:8000/", "web", sum); got != "http://10.0.0.5:8000/v1/apps/web/slugs/"+sum+".tgz" {
		t.Errorf("URL = %s", got)
	}
}
