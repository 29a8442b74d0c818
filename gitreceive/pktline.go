package gitreceive

import (
	"strconv"
	"strings"
	"sync"
)

// maxCommandBytes bounds the command list kept by pushCommands.
const maxCommandBytes = 1 << 20

// pushCommands watches a client's stream to git-receive-pack (as the Writer
// of an io.TeeReader) and records the ref updates it asks for: the pkt-lines
// "<old> <new> <ref>" before the first flush-pkt. It lets a push tell its own
// update of the default branch from a concurrent push's. Once the list ends
// the rest of the stream (the pack) is ignored.
type pushCommands struct {
	mu      sync.Mutex
	buf     []byte
	done    bool              // the flush-pkt was seen
	failed  bool              // malformed or too long: unknown
	updates map[string]string // ref -> new object id
}

func (p *pushCommands) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || p.failed {
		return len(b), nil
	}
	p.buf = append(p.buf, b...)
	p.parse()
	return len(b), nil
}

// parse consumes the complete pkt-lines in buf.
func (p *pushCommands) parse() {
	for len(p.buf) >= 4 {
		n, err := strconv.ParseUint(string(p.buf[:4]), 16, 16)
		switch {
		case err != nil || (n > 0 && n < 4):
			p.fail()
			return
		case n == 0: // flush-pkt: end of the command list
			p.done, p.buf = true, nil
			return
		case len(p.buf) < int(n):
			if len(p.buf) > maxCommandBytes {
				p.fail()
			}
			return
		}
		line := string(p.buf[4:n])
		p.buf = p.buf[n:]
		line, _, _ = strings.Cut(line, "\x00") // capabilities follow the first command
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "shallow ") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			p.fail()
			return
		}
		if p.updates == nil {
			p.updates = make(map[string]string)
		}
		p.updates[f[2]] = f[1]
	}
}

func (p *pushCommands) fail() {
	p.failed, p.buf, p.updates = true, nil, nil
}

// requested returns the new value the client asked for ref ("" if it did
// not ask) and whether the whole command list was read.
func (p *pushCommands) requested(ref string) (sha string, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		return "", false
	}
	return p.updates[ref], true
}
