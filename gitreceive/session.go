package gitreceive

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// gitProtocol matches the GIT_PROTOCOL values passed on, such as "version=2".
var gitProtocol = regexp.MustCompile(`^[a-zA-Z0-9=:._-]{1,100}$`)

// handleConn runs one SSH connection: only "session" channels are accepted,
// global requests (port forwarding) are refused. Its sessions' context ends
// when the connection closes.
func (s *Server) handleConn(ctx context.Context, nc net.Conn) {
	if !s.trackConn(nc) {
		nc.Close()
		return
	}
	defer s.untrackConn(nc)

	conn := &idleConn{Conn: nc, idle: s.cfg.IdleTimeout}
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(conn, s.sshConfig)
	if err != nil {
		s.log.Debug("ssh handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	conn.arm() // from now on, a connection idle for IdleTimeout is closed
	go ssh.DiscardRequests(reqs)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	user := sc.Permissions.Extensions["user"]
	log := s.log.With("user", user, "remote", nc.RemoteAddr().String())
	var open atomic.Int32 // this connection's sessions
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.Prohibited, errOnlyGit.Error())
			continue
		}
		if open.Load() >= int32(s.cfg.MaxConnSessions) {
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("deis: at most %d git sessions at once on one connection", s.cfg.MaxConnSessions))
			continue
		}
		release, ok := s.takeSession(user)
		if !ok {
			log.Warn("git session refused: too many at once", "max", s.cfg.MaxSessions)
			nch.Reject(ssh.ResourceShortage, fmt.Sprintf("deis: %s has %d git sessions running, the most at once: try again when one ends", user, s.cfg.MaxSessions))
			continue
		}
		if !s.sessions.add() {
			release()
			nch.Reject(ssh.ResourceShortage, "deis: the server is shutting down, try again")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			release()
			s.sessions.done()
			continue
		}
		open.Add(1)
		go func() {
			defer s.sessions.done()
			defer release()
			defer open.Add(-1)
			s.handleSession(ctx, log, user, ch, chReqs)
		}()
	}
}

// handleSession serves one session channel: "env" (GIT_PROTOCOL only), then
// one "exec". Shells, terminals and subsystems end it with a message.
func (s *Server) handleSession(ctx context.Context, log *slog.Logger, user string, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var env []string
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			ok := ssh.Unmarshal(req.Payload, &kv) == nil && kv.Name == "GIT_PROTOCOL" &&
				gitProtocol.MatchString(kv.Value)
			if ok {
				env = append(env, "GIT_PROTOCOL="+kv.Value)
			}
			req.Reply(ok, nil)
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			go discardRequests(reqs)
			exit(ch, s.runCommand(ctx, log, user, p.Command, env, ch))
			return
		case "shell":
			req.Reply(true, nil)
			log.Info("shell refused")
			exit(ch, refuse(ch.Stderr(), "%v", errOnlyGit))
			return
		case "pty-req":
			// Granted so that `ssh -tt` shows the message rather than
			// closing the channel itself; \r because the terminal is raw.
			req.Reply(true, nil)
			log.Info("terminal refused")
			exit(ch, refuse(ch.Stderr(), "%v (no terminals)\r", errOnlyGit))
			return
		case "subsystem", "x11-req":
			req.Reply(false, nil)
			log.Info("session request refused", "request", req.Type)
			exit(ch, refuse(ch.Stderr(), "%v", errOnlyGit))
			return
		default: // e.g. agent forwarding: say no, carry on
			req.Reply(false, nil)
		}
	}
}

// runCommand runs the git service named by line and returns the exit status.
func (s *Server) runCommand(ctx context.Context, log *slog.Logger, user, line string, env []string, ch ssh.Channel) int {
	cmd, err := parseCommand(line)
	if err != nil {
		log.Info("command refused", "command", truncate(line, 200))
		return refuse(ch.Stderr(), "%v", err)
	}
	log = log.With("app", cmd.app)
	if cmd.service == receivePack {
		return s.receive(ctx, log, user, cmd.app, env, ch)
	}
	return s.upload(ctx, log, user, cmd.app, env, ch)
}

// exit sends EOF and the exit status; the caller closes the channel.
func exit(ch ssh.Channel, code int) {
	ch.CloseWrite()
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}

func discardRequests(reqs <-chan *ssh.Request) {
	for req := range reqs {
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
}

func (s *Server) trackConn(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrackConn(nc net.Conn) {
	nc.Close()
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// refuse prints a one-line message and returns exit status 1.
func refuse(w io.Writer, format string, args ...any) int {
	fmt.Fprintf(w, format+"\n", args...)
	return 1
}
