// Command deis-controller runs the controller: the HTTP API, and in later
// releases the SSH git endpoint, the slug server and the job runner that
// provisions and converges nodes.
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
