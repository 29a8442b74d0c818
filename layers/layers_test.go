package layers

import (
	"strings"
	"testing"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/ssh"
)

func ptr[T any](v T) *T { return &v }

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		req     deis.LayerCreateRequest
		want    deis.Layer
		wantErr string
	}{
		{"defaults", deis.LayerCreateRequest{ID: "runtime", Flavor: "docker"},
			deis.Layer{Formation: "f", ID: "runtime", Flavor: "docker", Proxy: true, Runtime: true, SSHUser: "root", SSHPort: 22}, ""},
		{"proxy only", deis.LayerCreateRequest{ID: "proxy", Flavor: "docker", Runtime: ptr(false), SSHUser: "ubuntu", SSHPort: 2200},
			deis.Layer{Formation: "f", ID: "proxy", Flavor: "docker", Proxy: true, SSHUser: "ubuntu", SSHPort: 2200}, ""},
		{"no role", deis.LayerCreateRequest{ID: "x", Flavor: "docker", Runtime: ptr(false), Proxy: ptr(false)}, deis.Layer{}, "must be a proxy, a runtime or both"},
		{"bad id", deis.LayerCreateRequest{ID: "Bad_ID", Flavor: "docker"}, deis.Layer{}, "layer id"},
		{"bad port", deis.LayerCreateRequest{ID: "x", Flavor: "docker", SSHPort: 70000}, deis.Layer{}, "ssh port"},
		{"bad user", deis.LayerCreateRequest{ID: "x", Flavor: "docker", SSHUser: "root;rm"}, deis.Layer{}, "ssh user"},
		{"no flavor", deis.LayerCreateRequest{ID: "x"}, deis.Layer{}, "flavor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New("f", tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("New() mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	l, _ := New("f", deis.LayerCreateRequest{ID: "runtime", Flavor: "docker"})
	got, err := Update(l, deis.LayerUpdateRequest{Proxy: ptr(false), SSHPort: ptr(2222)})
	if err != nil || got.Proxy || got.SSHPort != 2222 || !got.Runtime {
		t.Fatalf("Update() = %+v, %v", got, err)
	}
	if _, err := Update(got, deis.LayerUpdateRequest{Runtime: ptr(false)}); err == nil {
		t.Fatal("Update() to no role succeeded")
	}
}

func TestNewKeyPair(t *testing.T) {
	t.Parallel()
	pub, priv, err := NewKeyPair("deis-f-runtime")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(priv))
	if err != nil {
		t.Fatalf("private key does not parse: %v", err)
	}
	parsed, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatalf("public key does not parse: %v", err)
	}
	if comment != "deis-f-runtime" || parsed.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("public key = %q", pub)
	}
	if string(parsed.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Error("public key does not match the private key")
	}
	pub2, _, _ := NewKeyPair("")
	if pub2 == pub {
		t.Error("two key pairs are the same")
	}
}
