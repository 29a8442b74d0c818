//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cli

import "golang.org/x/sys/unix"

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	return err == nil
}

// withoutEcho runs fn with the terminal's echo turned off, for passwords.
func withoutEcho(fd int, fn func() error) error {
	old, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	if err != nil {
		return fn()
	}
	t := *old
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlWriteTermios, &t); err != nil {
		return fn()
	}
	defer unix.IoctlSetTermios(fd, ioctlWriteTermios, old)
	return fn()
}
