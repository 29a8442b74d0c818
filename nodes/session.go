package nodes

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/deis/deis"
	"github.com/pkg/sftp"
)

// Session reaches one node over its pooled SSH connection: commands and
// file uploads. The converge uses it to install the agent, slugs and
// images, and to run the agent.
type Session struct {
	pool *Pool
	t    Target
	Node deis.Node
}

// Session opens a session on node n of formation f.
func (m *Manager) Session(ctx context.Context, f deis.Formation, n deis.Node) (*Session, error) {
	li, err := m.layerInfo(ctx, f, n.Layer)
	if err != nil {
		return nil, err
	}
	if n.Address == "" || n.HostKey == "" {
		return nil, fmt.Errorf("node %s has not been reached yet", n.ID)
	}
	return &Session{pool: m.Pool, t: m.target(li, n), Node: n}, nil
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
