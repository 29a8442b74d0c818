// Command deis-node is the node agent. The controller uploads it to each node
// over SFTP and runs it over SSH with the node's desired state on stdin; it
// applies the recipes and prints a JSON report. The recipes land with the
// "Converge" issue: until then it says so and exits non-zero.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "version" || os.Args[1] == "--version") {
		fmt.Println("deis-node", version)
		return
	}
	fmt.Fprintln(os.Stderr, "deis-node: applying a desired state is not available yet")
	os.Exit(2)
}
