// Package layers owns what a layer is beyond its row: the defaults and rules
// of its settings and the SSH key pair the controller generates for it, with
// which it reaches every node of the layer.
package layers

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"

	"github.com/deis/deis"
	"golang.org/x/crypto/ssh"
)

// Defaults for a new layer.
const (
	DefaultSSHUser = "root"
	DefaultSSHPort = 22
)

var sshUserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// New builds a layer of formation from a create request, applying defaults
// (proxy and runtime on, root, port 22), and checks it.
func New(formation string, req deis.LayerCreateRequest) (deis.Layer, error) {
	l := deis.Layer{
		Formation: formation,
		ID:        req.ID,
		Flavor:    req.Flavor,
		Proxy:     true,
		Runtime:   true,
		SSHUser:   DefaultSSHUser,
		SSHPort:   DefaultSSHPort,
	}
	if req.Proxy != nil {
		l.Proxy = *req.Proxy
	}
	if req.Runtime != nil {
		l.Runtime = *req.Runtime
	}
	if req.SSHUser != "" {
		l.SSHUser = req.SSHUser
	}
	if req.SSHPort != 0 {
		l.SSHPort = req.SSHPort
	}
	return l, Check(l)
}

// Update applies an update request to l and checks the result.
func Update(l deis.Layer, req deis.LayerUpdateRequest) (deis.Layer, error) {
	if req.Flavor != nil {
		l.Flavor = *req.Flavor
	}
	if req.Proxy != nil {
		l.Proxy = *req.Proxy
	}
	if req.Runtime != nil {
		l.Runtime = *req.Runtime
	}
	if req.SSHUser != nil {
		l.SSHUser = *req.SSHUser
	}
	if req.SSHPort != nil {
		l.SSHPort = *req.SSHPort
	}
	return l, Check(l)
}

// Check reports what is wrong with a layer's settings, in one line.
func Check(l deis.Layer) error {
	switch {
	case !deis.ValidID(l.ID):
		return fmt.Errorf("layer id %q must be 1 to 63 of a-z, 0-9 and '-'", l.ID)
	case !deis.ValidID(l.Flavor):
		return fmt.Errorf("flavor %q is not a valid flavor id", l.Flavor)
	case !l.Proxy && !l.Runtime:
		return fmt.Errorf("layer %q must be a proxy, a runtime or both", l.ID)
	case !sshUserRE.MatchString(l.SSHUser):
		return fmt.Errorf("ssh user %q is not a valid user name", l.SSHUser)
	case l.SSHPort < 1 || l.SSHPort > 65535:
		return fmt.Errorf("ssh port %d must be from 1 to 65535", l.SSHPort)
	}
	return nil
}

// NewKeyPair generates an ed25519 key pair for a layer: the public key as an
// authorized_keys line and the private key as OpenSSH PEM.
func NewKeyPair(comment string) (public, private string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generating layer key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", "", fmt.Errorf("encoding layer key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", "", fmt.Errorf("encoding layer public key: %w", err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if comment != "" {
		line += " " + comment
	}
	return line, string(pem.EncodeToMemory(block)), nil
}
