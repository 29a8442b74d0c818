package nodes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// ErrHostKeyChanged is returned when a node presents another host key than
// the one pinned on first contact.
var ErrHostKeyChanged = errors.New("host key changed")

// Target is how to reach one node over SSH.
type Target struct {
	Node    string // node id, for messages and the pool key
	Addr    string // host:port
	User    string
	Signer  ssh.Signer
	HostKey string // pinned key (authorized_keys format); empty: trust on first use
}

// Result is the outcome of one command.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Pool keeps one SSH connection per node and runs commands on it. A
// connection that breaks is dropped and dialed again on next use.
type Pool struct {
	DialTimeout time.Duration
	Log         *slog.Logger

	mu    sync.Mutex
	conns map[string]*ssh.Client
}

// NewPool returns an empty pool.
func NewPool(log *slog.Logger) *Pool {
	return &Pool{DialTimeout: 10 * time.Second, Log: log, conns: map[string]*ssh.Client{}}
}

// Dial returns the pooled connection to t, dialing it when needed. The host
// key it presented is returned so a first contact can be pinned.
func (p *Pool) Dial(ctx context.Context, t Target) (*ssh.Client, string, error) {
	key := t.Node + "@" + t.Addr
	p.mu.Lock()
	c := p.conns[key]
	p.mu.Unlock()
	if c != nil {
		return c, t.HostKey, nil
	}
	var seen string
	cfg := &ssh.ClientConfig{
		User:    t.User,
		Auth:    []ssh.AuthMethod{ssh.PublicKeys(t.Signer)},
		Timeout: p.DialTimeout,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			seen = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
			if t.HostKey != "" && seen != t.HostKey {
				return fmt.Errorf("node %s presented %s, pinned %s: %w (if the machine was rebuilt, run deis nodes:trust %s)",
					t.Node, fingerprint(seen), fingerprint(t.HostKey), ErrHostKeyChanged, t.Node)
			}
			return nil
		},
	}
	d := net.Dialer{Timeout: p.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, "", fmt.Errorf("dialing node %s at %s: %w", t.Node, t.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(p.DialTimeout))
	}
	cc, chans, reqs, err := ssh.NewClientConn(conn, t.Addr, cfg)
	if err != nil {
		conn.Close()
		if errors.Is(err, ErrHostKeyChanged) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("ssh handshake with node %s at %s as %s: %w", t.Node, t.Addr, t.User, err)
	}
	conn.SetDeadline(time.Time{})
	c = ssh.NewClient(cc, chans, reqs)
	p.mu.Lock()
	if old := p.conns[key]; old != nil {
		p.mu.Unlock()
		c.Close()
		return old, seen, nil
	}
	p.conns[key] = c
	p.mu.Unlock()
	go func() {
		c.Wait()
		p.drop(key, c)
	}()
	return c, seen, nil
}

func (p *Pool) drop(key string, c *ssh.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[key] == c {
		delete(p.conns, key)
	}
}

// Run runs cmd on the node with stdin, until it exits or ctx ends. A
// non-zero exit is not an error: it is in Result.ExitCode.
func (p *Pool) Run(ctx context.Context, t Target, cmd string, stdin io.Reader) (Result, error) {
	c, _, err := p.Dial(ctx, t)
	if err != nil {
		return Result{}, err
	}
	sess, err := c.NewSession()
	if err != nil {
		// The pooled connection may be dead: drop it and dial once more.
		p.drop(t.Node+"@"+t.Addr, c)
		c.Close()
		if c, _, err = p.Dial(ctx, t); err != nil {
			return Result{}, err
		}
		if sess, err = c.NewSession(); err != nil {
			return Result{}, fmt.Errorf("opening session on node %s: %w", t.Node, err)
		}
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &stdout, &stderr, stdin
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1},
			fmt.Errorf("running %q on node %s: %w", firstWord(cmd), t.Node, ctx.Err())
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit *ssh.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitStatus()
	case err != nil:
		return res, fmt.Errorf("running %q on node %s: %w", firstWord(cmd), t.Node, err)
	}
	return res, nil
}

// Forget closes and forgets the connection to a node.
func (p *Pool) Forget(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, c := range p.conns {
		if strings.HasPrefix(k, node+"@") {
			c.Close()
			delete(p.conns, k)
		}
	}
}

// Close closes every connection.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, c := range p.conns {
		c.Close()
		delete(p.conns, k)
	}
}

func fingerprint(authorized string) string {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return "an unparseable key"
	}
	return ssh.FingerprintSHA256(k)
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \n"); i > 0 {
		return s[:i]
	}
	return s
}
