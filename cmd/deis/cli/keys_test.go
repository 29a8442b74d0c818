package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// writeKey writes an ed25519 public key with comment to dir/name.
func writeKey(t *testing.T, dir, name, comment string) (path, public string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	public = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(public+" "+comment+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, public
}

func TestReadPublicKey(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file, comment, flagID, wantID string
	}{
		{"id_ed25519.pub", "alice@laptop.local", "", "alice-laptop-local"},
		{"id_ed25519.pub", "deploy", "", "deploy"},
		{"work_key.pub", "", "", "work-key"},
		{"id_ed25519.pub", "alice@laptop", "ci", "ci"},
		{"id_ed25519.pub", "--", "", "id-ed25519"},
	}
	for _, tt := range tests {
		path, public := writeKey(t, dir, tt.file, tt.comment)
		req, err := readPublicKey(path, tt.flagID)
		if err != nil {
			t.Errorf("%s %q: %v", tt.file, tt.comment, err)
			continue
		}
		if req.ID != tt.wantID || req.Public != public {
			t.Errorf("%s %q: got id %q public %q; want %q %q", tt.file, tt.comment, req.ID, req.Public, tt.wantID, public)
		}
	}
	if _, err := readPublicKey(filepath.Join(dir, "missing.pub"), ""); err == nil {
		t.Error("missing file: no error")
	}
	priv := filepath.Join(dir, "id_rsa")
	os.WriteFile(priv, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n"), 0o600)
	if _, err := readPublicKey(priv, ""); err == nil || !strings.Contains(err.Error(), "is not an SSH public key") {
		t.Errorf("private key file: err = %v", err)
	}
	if _, err := readPublicKey(filepath.Join(dir, "work_key.pub"), "Bad_ID"); err == nil {
		t.Error("bad --id: no error")
	}
}

// TestKeyPathDefaults checks keys:add picks the first default key present
// and honours an explicit path.
func TestKeyPathDefaults(t *testing.T) {
	home := t.TempDir()
	ssh := filepath.Join(home, ".ssh")
	os.Mkdir(ssh, 0o700)
	c := &cli{getenv: func(k string) string { return map[string]string{"HOME": home}[k] }}
	if _, err := c.keyPath(nil); err == nil {
		t.Error("no keys: no error")
	}
	writeKey(t, ssh, "id_rsa.pub", "")
	writeKey(t, ssh, "id_ecdsa.pub", "")
	if p, err := c.keyPath(nil); err != nil || p != filepath.Join(ssh, "id_ecdsa.pub") {
		t.Errorf("keyPath = %q, %v; want id_ecdsa.pub", p, err)
	}
	if p, _ := c.keyPath([]string{"/x/y.pub"}); p != "/x/y.pub" {
		t.Errorf("explicit path ignored: %q", p)
	}
}

func TestShortKey(t *testing.T) {
	got := shortKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0dhZ3mYn7Zq1qfQ8u0xJt3bUJ/1Zk alice")
	if got != "ssh-ed25519 AAAAC3NzaC1lZDI1...Jt3bUJ/1Zk" {
		t.Errorf("shortKey = %q", got)
	}
	if got := shortKey("ssh-ed25519 AAAA"); got != "ssh-ed25519 AAAA" {
		t.Errorf("short key shortened: %q", got)
	}
}
