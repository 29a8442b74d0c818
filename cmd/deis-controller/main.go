// Command deis-controller runs the controller: the HTTP API (with the job
// runner that provisions and converges nodes and rolls out releases, and
// the slug server) and the SSH git endpoint.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "deis-controller:", err)
		os.Exit(1)
	}
}
