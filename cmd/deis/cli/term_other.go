//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cli

// isTerminal is false where the CLI cannot tell: it never prompts there.
func isTerminal(fd int) bool { return false }

// withoutEcho runs fn; the platform has no echo control here.
func withoutEcho(fd int, fn func() error) error { return fn() }
