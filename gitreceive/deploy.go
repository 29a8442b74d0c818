package gitreceive

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// deployIfChanged waits for the app's deploy lock, reads the default branch
// and calls Deploy if it moved since before and now holds what this push
// asked for (cmds): a rejected push, or one whose update a concurrent push
// replaced, deploys nothing, and the push that set the final value deploys
// it. Reading under the lock keeps racing deploys in ref order. A sha that a
// concurrent push already deployed after this one started is not deployed
// twice. It returns the exit status; messages go to out.
func (s *Server) deployIfChanged(ctx context.Context, log *slog.Logger, p Push, before heads, cmds *pushCommands, started time.Time, out io.Writer) int {
	unlock, err := s.locks.lock(ctx, p.App, func() {
		fmt.Fprintf(out, "deis: waiting for another deploy of %s to finish\n", p.App)
	})
	if err != nil {
		return 1 // the pusher is gone
	}
	defer unlock()

	after, err := readHeads(p.Repo)
	if err != nil {
		log.Error("reading refs after push", "err", err)
		return refuse(out, "deis: internal error reading the pushed refs")
	}
	branch, old, new := defaultBranch(before, after)
	if new == "" || new == old {
		return 0 // deleted, unchanged or another branch
	}
	p.Ref, p.Old, p.New = "refs/heads/"+branch, old, new
	log = log.With("ref", p.Ref, "old", p.Old, "new", p.New)
	if want, known := cmds.requested(p.Ref); known && want != p.New {
		log.Info("default branch not set by this push", "requested", want)
		return 0
	}
	if s.deployedSince(p.App, p.New, started) {
		log.Info("already deployed by a concurrent push")
		fmt.Fprintf(out, "deis: %s was already deployed by a concurrent push\n", short(p.New))
		return 0
	}
	log.Info("deploying")
	if err := s.cfg.Deploy(ctx, p, out); err != nil {
		log.Warn("deploy failed", "err", err)
		return refuse(out, "deis: deploy of %s failed: %v", p.App, err)
	}
	s.mu.Lock()
	s.deployed[p.App] = deployment{sha: p.New, at: time.Now()}
	s.mu.Unlock()
	return 0
}

// deployedSince reports whether sha was deployed for app after t.
func (s *Server) deployedSince(app, sha string, t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deployed[app]
	return ok && d.sha == sha && d.at.After(t)
}

func short(sha string) string { return sha[:min(len(sha), 7)] }

// appLocks is a set of per-app mutexes whose waits end with the context.
type appLocks struct {
	mu sync.Mutex
	m  map[string]*appLock
}

type appLock struct {
	sem  chan struct{}
	refs int
}

// lock takes app's lock, calling waiting first if someone else holds it.
func (l *appLocks) lock(ctx context.Context, app string, waiting func()) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*appLock)
	}
	al := l.m[app]
	if al == nil {
		al = &appLock{sem: make(chan struct{}, 1)}
		l.m[app] = al
	}
	al.refs++
	l.mu.Unlock()

	release := func() {
		l.mu.Lock()
		if al.refs--; al.refs == 0 {
			delete(l.m, app)
		}
		l.mu.Unlock()
	}
	select {
	case al.sem <- struct{}{}:
	default:
		if waiting != nil {
			waiting()
		}
		select {
		case al.sem <- struct{}{}:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return func() { <-al.sem; release() }, nil
}

// prefixWriter starts every line with prefix, as git does for the remote's
// messages ("remote: "). It is safe for concurrent use.
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	midLine bool
	afterCR bool
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	buf := make([]byte, 0, len(b)+len(p.prefix))
	for _, c := range b {
		if !p.midLine && !(p.afterCR && c == '\n') {
			buf = append(buf, p.prefix...)
		}
		buf = append(buf, c)
		p.midLine = c != '\n' && c != '\r'
		p.afterCR = c == '\r'
	}
	if _, err := p.w.Write(buf); err != nil {
		return 0, err
	}
	return len(b), nil
}
