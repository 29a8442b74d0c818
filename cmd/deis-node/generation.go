package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// generationFile holds the generation of the last databag applied on the
// node, in the agent's state dir.
const generationFile = "generation"

// applyLock serializes applies on the node (two controllers, or a converge
// that outlived its timeout) and guards the generation file: it takes an
// exclusive lock on it, refuses a databag older than the one applied last,
// and returns a function that records gen once applied and unlocks.
func applyLock(dir string, gen int64) (done func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, generationFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("generation file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the generation file: %w", err)
	}
	unlock := func() { f.Close() } // closing releases the lock
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	last, _ := strconv.ParseInt(strings.TrimSpace(string(b[:n])), 10, 64)
	if gen > 0 && gen < last {
		unlock()
		return nil, errors.New("databag generation " + strconv.FormatInt(gen, 10) +
			" is older than the one applied last (" + strconv.FormatInt(last, 10) + "): a newer converge overtook this one")
	}
	return func() {
		if gen > last {
			f.Truncate(0)
			f.WriteAt([]byte(strconv.FormatInt(gen, 10)+"\n"), 0)
		}
		unlock()
	}, nil
}
