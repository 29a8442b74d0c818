// Command deis-node is the node agent. The controller uploads it to each node
// over SFTP and runs `deis-node apply` over SSH with the node's desired state
// (a recipes.Databag, JSON) on stdin; it applies the runtime and proxy
// recipes and prints a recipes.AgentReport as JSON on stdout. It exits 1 when
// a resource failed (the report is printed all the same). Logs go to stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errFailed):
		os.Exit(1)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "deis-node:", err)
		os.Exit(1)
	}
}
