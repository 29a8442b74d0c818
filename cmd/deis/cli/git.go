package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"

	"github.com/deis/deis"
)

// remoteName is the git remote that apps:create adds.
const remoteName = "deis"

// errNoApp is returned when neither --app nor a deis remote names the app.
var errNoApp = errors.New("no app: pass --app NAME, or run in a git repository with a 'deis' remote")

// git runs the git CLI in the CLI's directory and returns its trimmed
// standard output.
func (c *cli) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = c.dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, msg)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(out.String()), nil
}

// inWorkTree reports whether the CLI runs inside a git work tree.
func (c *cli) inWorkTree(ctx context.Context) bool {
	out, err := c.git(ctx, "rev-parse", "--is-inside-work-tree")
	return err == nil && out == "true"
}

// deisRemote returns the URL of the git remote named deis, or "" when
// there is none (or no git, or no repository).
func (c *cli) deisRemote(ctx context.Context) string {
	if !c.inWorkTree(ctx) {
		return ""
	}
	out, err := c.git(ctx, "config", "--get", "remote."+remoteName+".url")
	if err != nil {
		return ""
	}
	return out
}

// parseRemoteApp returns the app a git remote URL points at: the last path
// element minus ".git". It understands URLs (ssh://git@host:2222/app.git),
// scp-like addresses (git@host:app.git) and local paths.
func parseRemoteApp(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	var path string
	switch colon, slash := strings.IndexByte(s, ':'), strings.IndexByte(s, '/'); {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("cannot read the app from git remote %q: %w", raw, err)
		}
		path = u.Path
	case colon > 0 && (slash < 0 || colon < slash):
		path = s[colon+1:] // scp-like: [user@]host:path
	default:
		path = s
	}
	path = strings.TrimRight(path, "/")
	name := strings.TrimSuffix(path[strings.LastIndexByte(path, '/')+1:], ".git")
	if !deis.ValidID(name) {
		return "", fmt.Errorf("cannot read the app from git remote %q", raw)
	}
	return name, nil
}

// resolveApp picks the app to act on: an explicit name (a positional
// argument or --app) first, then the deis git remote.
func resolveApp(explicit []string, remote func() string) (string, error) {
	for _, name := range explicit {
		if name != "" {
			return name, nil
		}
	}
	if r := remote(); r != "" {
		return parseRemoteApp(r)
	}
	return "", errNoApp
}

// appName resolves the app of a command from --app or the git remote.
func (c *cli) appName(ctx context.Context) (string, error) {
	return resolveApp([]string{c.app}, func() string { return c.deisRemote(ctx) })
}

// appNameArg resolves the app from an optional positional argument first.
func (c *cli) appNameArg(ctx context.Context, args []string) (string, error) {
	explicit := append([]string{}, args...)
	return resolveApp(append(explicit, c.app), func() string { return c.deisRemote(ctx) })
}
