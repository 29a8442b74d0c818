package nodes

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/deis/deis"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Session reaches one node over its pooled SSH connection: commands and
// file uploads. The converge uses it to install the agent, slugs and
// images, and to run the agent.
type Session struct {
	pool *Pool
	t    Target
	Node deis.Node
}

// Session opens a session on node n of formation f. It needs only the
// node and its layer's SSH user and key: no provider is opened.
func (m *Manager) Session(ctx context.Context, f deis.Formation, n deis.Node) (*Session, error) {
	if n.Address == "" || n.HostKey == "" {
		return nil, fmt.Errorf("node %s has not been reached yet", n.ID)
	}
	l, err := m.Store.GetLayer(ctx, f.ID, n.Layer)
	if err != nil {
		return nil, err
	}
	signer, err := m.layerSigner(ctx, f.ID, n.Layer)
	if err != nil {
		return nil, err
	}
	t := Target{Node: n.ID, Addr: n.Address, User: l.SSHUser, Signer: signer, HostKey: n.HostKey}
	return &Session{pool: m.Pool, t: t, Node: n}, nil
}

// layerSigner is the parsed private key of a layer.
func (m *Manager) layerSigner(ctx context.Context, formation, layer string) (ssh.Signer, error) {
	key, err := m.Store.LayerPrivateKey(ctx, formation, layer)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("layer %s key: %w", layer, err)
	}
	return signer, nil
}

// Run runs cmd on the node with stdin.
func (s *Session) Run(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	return s.pool.Run(ctx, s.t, cmd, stdin)
}

// Upload writes r to the node at dst with mode, atomically: a temp file in
// the same directory renamed over dst.
func (s *Session) Upload(ctx context.Context, dst string, r io.Reader, mode os.FileMode) error {
	c, _, err := s.pool.Dial(ctx, s.t)
	if err != nil {
		return err
	}
	sc, err := sftp.NewClient(c)
	if err != nil {
		return fmt.Errorf("sftp to node %s: %w", s.Node.ID, err)
	}
	defer sc.Close()
	done := make(chan error, 1)
	go func() { done <- upload(sc, dst, r, mode) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("uploading %s to node %s: %w", dst, s.Node.ID, err)
		}
		return nil
	case <-ctx.Done():
		sc.Close()
		return fmt.Errorf("uploading %s to node %s: %w", dst, s.Node.ID, ctx.Err())
	}
}

func upload(sc *sftp.Client, dst string, r io.Reader, mode os.FileMode) error {
	if err := sc.MkdirAll(path.Dir(dst)); err != nil {
		return err
	}
	tmp := dst + ".upload"
	f, err := sc.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(r); err != nil {
		f.Close()
		sc.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := sc.Chmod(tmp, mode); err != nil {
		return err
	}
	return sc.PosixRename(tmp, dst)
}
