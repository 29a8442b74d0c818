package gitreceive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"
)

// receive serves git push: authorize, create the repo on first push, run
// git-receive-pack, then deploy if the default branch moved.
func (s *Server) receive(ctx context.Context, log *slog.Logger, user, app string, env []string, ch ssh.Channel) int {
	stderr := ch.Stderr()
	if code, ok := s.authorize(ctx, log, s.cfg.Users.CanPush, user, app, stderr); !ok {
		return code
	}
	repo, err := s.ensureRepo(ctx, app)
	if err != nil {
		log.Error("creating repo", "err", err)
		return refuse(stderr, "deis: internal error creating the repo of %s", app)
	}
	before, err := readHeads(repo)
	if err != nil {
		log.Error("reading refs before push", "err", err)
		return refuse(stderr, "deis: internal error reading the repo of %s", app)
	}
	started := time.Now()
	code := 0
	cmds := &pushCommands{}
	if err := s.runGit(ctx, receivePack, repo, env, ch, cmds); err != nil {
		log.Warn("git receive-pack failed", "err", err)
		code = exitCode(err)
	}
	if ctx.Err() != nil {
		return 1 // the pusher is gone
	}
	out := newPrefixWriter(stderr, "remote: ")
	p := Push{App: app, User: user, Repo: repo}
	if c := s.deployIfChanged(ctx, log, p, before, cmds, started, out); c != 0 {
		return c
	}
	return code
}

// upload serves git clone and fetch to users allowed to fetch.
func (s *Server) upload(ctx context.Context, log *slog.Logger, user, app string, env []string, ch ssh.Channel) int {
	stderr := ch.Stderr()
	if code, ok := s.authorize(ctx, log, s.cfg.Users.CanFetch, user, app, stderr); !ok {
		return code
	}
	repo := s.repoPath(app)
	if _, err := os.Stat(filepath.Join(repo, "HEAD")); err != nil {
		return refuse(stderr, "deis: app %s has not been pushed yet", app)
	}
	if err := s.runGit(ctx, uploadPack, repo, env, ch, nil); err != nil {
		log.Warn("git upload-pack failed", "err", err)
		return exitCode(err)
	}
	return 0
}

// authorize asks Users; unknown apps and apps of others get the same answer.
func (s *Server) authorize(ctx context.Context, log *slog.Logger, check func(context.Context, string, string) (bool, error), user, app string, stderr io.Writer) (int, bool) {
	ctx, cancel := context.WithTimeout(ctx, usersTimeout)
	defer cancel()
	ok, err := check(ctx, user, app)
	if err != nil {
		log.Error("checking access", "err", err)
		return refuse(stderr, "deis: internal error checking access to %s, try again", app), false
	}
	if !ok {
		log.Info("access refused")
		return refuse(stderr, "deis: app %s not found or not yours", app), false
	}
	return 0, true
}

func (s *Server) repoPath(app string) string {
	return filepath.Join(s.repoDir, app+".git")
}

// RemoveApp deletes app's repository: called when the app is destroyed,
// so that a new app of the same name does not inherit its history.
func (s *Server) RemoveApp(app string) error {
	if !validAppName(app) {
		return fmt.Errorf("removing the repository of %q: not an app name", app)
	}
	if err := os.RemoveAll(s.repoPath(app)); err != nil {
		return fmt.Errorf("removing the repository of %s: %w", app, err)
	}
	return nil
}

// ensureRepo creates the app's bare repo if missing. It is initialized in a
// temporary directory and renamed into place, so racing first pushes agree.
func (s *Server) ensureRepo(ctx context.Context, app string) (string, error) {
	repo := s.repoPath(app)
	if _, err := os.Stat(filepath.Join(repo, "HEAD")); err == nil {
		return repo, nil
	}
	tmp, err := os.MkdirTemp(s.repoDir, "."+app+".init-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "git", "init", "--quiet", "--bare", "-b", "main", tmp)
	cmd.Env = gitEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git init: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, repo); err != nil {
		if _, statErr := os.Stat(filepath.Join(repo, "HEAD")); statErr == nil {
			return repo, nil // a racing push created it
		}
		return "", err
	}
	return repo, nil
}

// runGit runs `git <service> <repo>` on the channel: stdin and stdout are the
// channel, stderr its stderr. The client's input is also copied to tee, if
// set. The stdin copy is not waited for: it ends when the channel closes.
func (s *Server) runGit(ctx context.Context, service, repo string, env []string, ch ssh.Channel, tee io.Writer) error {
	args := []string{service, repo}
	if service == receivePack {
		// Pushed objects are checked, and a push is bounded.
		args = append([]string{"-c", "receive.fsckObjects=true", "-c", "receive.maxInputSize=" + strconv.FormatInt(s.cfg.MaxPush, 10)}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(gitEnv(), env...)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	cmd.WaitDelay = gitWaitDelay
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var in io.Reader = ch
	if tee != nil {
		in = io.TeeReader(ch, tee)
	}
	go func() {
		io.Copy(stdin, in)
		stdin.Close()
	}()
	err = cmd.Wait()
	if errors.Is(err, exec.ErrWaitDelay) {
		return nil // git exited 0 but something held its output open
	}
	return err
}

// gitEnv is the server's environment without GIT_* variables.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return env
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return ee.ExitCode()
	}
	return 1
}

// heads holds the candidate default branches of a repo; "" when missing.
type heads struct{ main, master string }

// readHeads reads refs/heads/main and refs/heads/master with go-git.
func readHeads(repo string) (heads, error) {
	r, err := git.PlainOpen(repo)
	if err != nil {
		return heads{}, fmt.Errorf("opening %s: %w", repo, err)
	}
	read := func(branch string) (string, error) {
		ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", branch, err)
		}
		return ref.Hash().String(), nil
	}
	var h heads
	if h.main, err = read("main"); err != nil {
		return heads{}, err
	}
	if h.master, err = read("master"); err != nil {
		return heads{}, err
	}
	return h, nil
}

// defaultBranch picks the default branch from the refs after a push (main
// if present, else master) and returns it with its value before and after.
func defaultBranch(before, after heads) (branch, old, new string) {
	if after.main != "" {
		return "main", before.main, after.main
	}
	return "master", before.master, after.master
}
