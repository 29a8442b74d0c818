package gitreceive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type tarEntry struct {
	Type byte
	Mode int64
	Body string // file content or symlink target
}

func TestArchiveTree(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	src := filepath.Join(dir, "src")
	git := func(args ...string) string {
		t.Helper()
		out, err := runGitCLI(src, home, nil, args...)
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(out)
	}
	files := map[string]struct {
		body string
		mode os.FileMode
	}{
		"Procfile":       {"web: bin/run\n", 0o644},
		"bin/run":        {"#!/bin/sh\necho hi\n", 0o755},
		"lib/deep/a.txt": {"a\n", 0o600},
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	for name, f := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("bin/run", filepath.Join(src, "current")); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("a", 40)+",vendor/sub")
	git("commit", "-q", "-m", "init")
	sha := git("rev-parse", "HEAD")
	packed := filepath.Join(dir, "packed.git")
	git("clone", "-q", "--bare", src, packed)
	git("--git-dir", packed, "gc", "-q", "--aggressive")

	want := map[string]tarEntry{
		"Procfile":       {tar.TypeReg, 0o644, "web: bin/run\n"},
		"bin/":           {tar.TypeDir, 0o755, ""},
		"bin/run":        {tar.TypeReg, 0o755, "#!/bin/sh\necho hi\n"},
		"current":        {tar.TypeSymlink, 0o777, "bin/run"},
		"lib/":           {tar.TypeDir, 0o755, ""},
		"lib/deep/":      {tar.TypeDir, 0o755, ""},
		"lib/deep/a.txt": {tar.TypeReg, 0o644, "a\n"},
		"vendor/":        {tar.TypeDir, 0o755, ""},
	}
	for _, repo := range []struct{ name, path string }{
		{"loose objects", filepath.Join(src, ".git")},
		{"packed after gc", packed},
	} {
		t.Run(repo.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := ArchiveTree(repo.path, sha, &buf); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, readTar(t, &buf)); diff != "" {
				t.Errorf("archive (-want +got):\n%s", diff)
			}
		})
	}

	for _, bad := range []struct{ name, repo, sha string }{
		{"not a sha", packed, "main"},
		{"unknown commit", packed, strings.Repeat("0", 40)},
		{"no repo", filepath.Join(dir, "missing.git"), sha},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if err := ArchiveTree(bad.repo, bad.sha, io.Discard); err == nil {
				t.Error("ArchiveTree succeeded")
			}
		})
	}
}

func readTar(t *testing.T, r io.Reader) map[string]tarEntry {
	t.Helper()
	got := map[string]tarEntry{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.ModTime.IsZero() || hdr.ModTime.Year() < 2000 {
			t.Errorf("%s: mod time %v, want the commit time", hdr.Name, hdr.ModTime)
		}
		body := hdr.Linkname
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			body = string(b)
		}
		got[hdr.Name] = tarEntry{hdr.Typeflag, hdr.Mode, body}
	}
}
