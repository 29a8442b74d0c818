// Package recipes holds what is applied to nodes to bring them to a state:
// the bootstrap recipe (Docker engine, nginx and directories on a bare
// host, run by the controller over SSH), the databag contract, and the
// runtime and proxy recipes the node agent (deis-node) applies.
package recipes

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"strings"
)

//go:embed bootstrap.sh
var bootstrapScript string

// Runner runs a shell command on a node with stdin and returns its output.
type Runner interface {
	Run(ctx context.Context, cmd string, stdin io.Reader) (stdout, stderr []byte, exitCode int, err error)
}

// Report is what a recipe changed.
type Report struct {
	Changed []string // "packages: docker.io nginx", "service:docker", ...
}

// Bootstrap brings the node to the baseline (Docker engine and nginx
// installed and running, deis's directories). Run as root, or through sudo
// for another user. It changes nothing on a node already there.
func Bootstrap(ctx context.Context, r Runner, user string) (Report, error) {
	cmd := "sh -s"
	if user != "root" {
		cmd = "sudo -n sh -s"
	}
	stdout, stderr, code, err := r.Run(ctx, cmd, strings.NewReader(bootstrapScript))
	if err != nil {
		return Report{}, fmt.Errorf("bootstrap: %w", err)
	}
	var rep Report
	ok := false
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		switch {
		case strings.HasPrefix(line, "changed "):
			rep.Changed = append(rep.Changed, strings.TrimPrefix(line, "changed "))
		case line == "ok":
			ok = true
		}
	}
	if code != 0 || !ok {
		msg := strings.TrimSpace(string(stderr))
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return rep, fmt.Errorf("bootstrap exited %d: %s", code, msg)
	}
	return rep, nil
}
