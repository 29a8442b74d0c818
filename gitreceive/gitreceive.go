// Package gitreceive owns the controller's SSH git endpoint: it authenticates
// pushers by public key, runs the system git-receive-pack (and git-upload-pack
// for the app's owner) on the SSH channel, and hands every update of an app's
// default branch to a Deploy callback, one at a time per app. It also reads the
// pushed trees back out of the bare repos (ArchiveTree) with go-git.
package gitreceive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Users maps a key fingerprint to a user and says whether the user may push to an app.
type Users interface {
	// UserForFingerprint returns the user owning the key with this
	// ssh.FingerprintSHA256 fingerprint, or an error for unknown keys.
	UserForFingerprint(ctx context.Context, fp string) (string, error)
	// CanPush reports whether user owns or collaborates on app; it is false
	// for unknown apps.
	CanPush(ctx context.Context, user, app string) (bool, error)
	// CanFetch reports whether user may clone or fetch app (the owner and admins).
	CanFetch(ctx context.Context, user, app string) (bool, error)
}

// Push is one update of the app's default branch (main, or master when the
// repo has no main).
type Push struct {
	App  string
	User string
	Repo string // bare repo path
	Ref  string // "refs/heads/main" or "refs/heads/master"
	Old  string // "" for a new branch
	New  string
}

// Config configures a Server.
type Config struct {
	Listen  string     // address for ListenAndServe, e.g. ":2222" or "127.0.0.1:0"
	RepoDir string     // <RepoDir>/<app>.git bare repos, created on first push
	HostKey ssh.Signer // see LoadOrCreateHostKey
	Users   Users
	// Deploy is called after a push that updated the default branch, with the
	// channel's stderr as out: each line written appears on the pusher's
	// terminal as "remote: ...". An error is printed there and makes the push
	// exit non-zero. Calls for one app never overlap. ctx ends when the pusher
	// disconnects or when a shutdown outlives ShutdownTimeout.
	Deploy func(ctx context.Context, p Push, out io.Writer) error
	Log    *slog.Logger
	// ShutdownTimeout bounds how long Serve waits for running sessions once
	// its context ends (default 2 minutes); then they are cancelled.
	ShutdownTimeout time.Duration
	// MaxPush bounds the pack a push sends, in bytes (git's
	// receive.maxInputSize; default 1 GiB). Pushed objects are fsck'd.
	MaxPush int64
	// MaxSessions bounds one user's sessions at once, over all their
	// connections (default 4); MaxConnSessions one connection's (default
	// 2). IdleTimeout closes a connection with no traffic (default 10
	// minutes).
	MaxSessions     int
	MaxConnSessions int
	IdleTimeout     time.Duration
}

// Defaults of Config's limits.
const (
	DefaultMaxPush         = 1 << 30
	DefaultMaxSessions     = 4
	DefaultMaxConnSessions = 2
	DefaultIdleTimeout     = 10 * time.Minute
)

const (
	handshakeTimeout = 30 * time.Second
	usersTimeout     = 10 * time.Second
	gitWaitDelay     = 10 * time.Second
	hangUpGrace      = 2 * time.Second // for clients to hang up once their sessions ended
)

// Server is the SSH git endpoint. Serve it once.
type Server struct {
	cfg       Config
	repoDir   string
	log       *slog.Logger
	sshConfig *ssh.ServerConfig
	locks     appLocks
	sessions  tracker

	userMu       sync.Mutex
	userSessions map[string]int // running sessions per user

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{} // open connections, closed after the shutdown wait
	closed   bool
	deployed map[string]deployment // last successful deploy per app
}

type deployment struct {
	sha string
	at  time.Time
}

// New checks cfg and creates RepoDir if needed.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.HostKey == nil:
		return nil, errors.New("gitreceive: no host key")
	case cfg.Users == nil:
		return nil, errors.New("gitreceive: no Users")
	case cfg.Deploy == nil:
		return nil, errors.New("gitreceive: no Deploy")
	case cfg.RepoDir == "":
		return nil, errors.New("gitreceive: no RepoDir")
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("gitreceive: finding git: %w", err)
	}
	dir, err := filepath.Abs(cfg.RepoDir)
	if err != nil {
		return nil, fmt.Errorf("gitreceive: repo dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("gitreceive: creating repo dir: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 2 * time.Minute
	}
	cfg.MaxPush = cmp.Or(cfg.MaxPush, DefaultMaxPush)
	cfg.MaxSessions = cmp.Or(cfg.MaxSessions, DefaultMaxSessions)
	cfg.MaxConnSessions = cmp.Or(cfg.MaxConnSessions, DefaultMaxConnSessions)
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	s := &Server{
		cfg:      cfg,
		repoDir:  dir,
		log:      cfg.Log,
		conns:    make(map[net.Conn]struct{}),
		deployed: make(map[string]deployment),
	}
	s.sshConfig = &ssh.ServerConfig{
		PublicKeyCallback: s.authenticate,
		ServerVersion:     "SSH-2.0-deis",
	}
	s.sshConfig.AddHostKey(cfg.HostKey)
	return s, nil
}

// authenticate accepts keys whose fingerprint names a user.
func (s *Server) authenticate(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	fp := ssh.FingerprintSHA256(key)
	ctx, cancel := context.WithTimeout(context.Background(), usersTimeout)
	defer cancel()
	user, err := s.cfg.Users.UserForFingerprint(ctx, fp)
	if err != nil || user == "" {
		s.log.Info("ssh key refused", "fingerprint", fp, "remote", meta.RemoteAddr().String(), "err", err)
		return nil, fmt.Errorf("unknown key %s", fp)
	}
	return &ssh.Permissions{Extensions: map[string]string{"user": user, "fingerprint": fp}}, nil
}

// ListenAndServe listens on cfg.Listen and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("gitreceive: listening: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Addr is the address being served, or nil before Serve starts. Tests
// can instead listen on 127.0.0.1:0 themselves and pass the listener to Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections on ln until ctx ends, then stops accepting, waits
// up to ShutdownTimeout for running sessions, cancels the rest, closes all
// connections and returns nil (or the listener's error if it failed first).
// Serve it once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	// Sessions outlive ctx by up to ShutdownTimeout: they get their own context.
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var conns sync.WaitGroup
	err := s.accept(ctx, ln, func(nc net.Conn) {
		conns.Go(func() { s.handleConn(hard, nc) })
	})
	ln.Close()

	s.log.Info("shutting down: waiting for running sessions", "timeout", s.cfg.ShutdownTimeout)
	idle := s.sessions.close()
	select {
	case <-idle:
		// Clients read their last messages (a push's status) and hang
		// up; closing under them would fail a push that succeeded.
		hungUp := make(chan struct{})
		go func() { conns.Wait(); close(hungUp) }()
		select {
		case <-hungUp:
		case <-time.After(hangUpGrace):
		}
	case <-time.After(s.cfg.ShutdownTimeout):
		s.log.Warn("shutdown timeout: cancelling running sessions")
	}
	cancel()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	conns.Wait()
	select { // cancelled sessions are ending: git is killed, Deploy sees ctx
	case <-idle:
	case <-time.After(gitWaitDelay):
		s.log.Warn("sessions still running after cancel")
	}
	return err
}

// accept hands each connection to handle until ctx ends (nil) or ln fails.
func (s *Server) accept(ctx context.Context, ln net.Listener, handle func(net.Conn)) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		switch {
		case err == nil:
			delay = 0
			handle(nc)
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, net.ErrClosed):
			return fmt.Errorf("gitreceive: accepting: %w", err)
		default: // e.g. too many open files: back off
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
		}
	}
}

// tracker counts running sessions and refuses new ones once closed.
type tracker struct {
	mu      sync.Mutex
	n       int
	closing bool
	idle    chan struct{}
}

func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	t.n++
	return true
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.closing && t.n == 0 {
		close(t.idle)
	}
}

// close refuses new sessions and returns a channel closed once none run.
func (t *tracker) close() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closing {
		t.closing = true
		t.idle = make(chan struct{})
		if t.n == 0 {
			close(t.idle)
		}
	}
	return t.idle
}

// takeSession counts a session of user, unless the user has MaxSessions
// running; release gives it back.
func (s *Server) takeSession(user string) (release func(), ok bool) {
	s.userMu.Lock()
	defer s.userMu.Unlock()
	if s.userSessions == nil {
		s.userSessions = map[string]int{}
	}
	if s.userSessions[user] >= s.cfg.MaxSessions {
		return nil, false
	}
	s.userSessions[user]++
	return func() {
		s.userMu.Lock()
		defer s.userMu.Unlock()
		if s.userSessions[user]--; s.userSessions[user] == 0 {
			delete(s.userSessions, user)
		}
	}, true
}

// idleConn is a connection that, once armed, fails its reads and writes
// after idle without traffic (the SSH connection then ends). Before, the
// deadline set on it (the handshake's) stands.
type idleConn struct {
	net.Conn
	idle  time.Duration
	armed atomic.Bool
}

func (c *idleConn) arm() {
	c.armed.Store(true)
	c.Conn.SetDeadline(time.Now().Add(c.idle))
}

func (c *idleConn) Read(b []byte) (int, error) {
	if c.armed.Load() {
		c.Conn.SetDeadline(time.Now().Add(c.idle))
	}
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	if c.armed.Load() {
		c.Conn.SetDeadline(time.Now().Add(c.idle))
	}
	return c.Conn.Write(b)
}
