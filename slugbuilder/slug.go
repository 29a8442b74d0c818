package slugbuilder

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/slugs"
)

// saveSlug stores r in the slug store in dir and returns its path, sha256
// and size.
func saveSlug(dir string, r io.Reader) (p, sum string, size int64, err error) {
	st := slugs.Store{Dir: dir}
	if sum, size, err = st.Put(r, nil); err != nil {
		return "", "", 0, err
	}
	return st.Path(sum), sum, size, nil
}

// slugProcfile reads the Procfile at the root of the slug at p (an empty
// map when it has none).
func slugProcfile(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return SlugProcfile(f)
}

// SlugProcfile reads the Procfile at the root of a slug (a tar.gz), an
// empty map when it has none.
func SlugProcfile(r io.Reader) (map[string]string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading slug: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return map[string]string{}, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading slug: %w", err)
		}
		if path.Clean("/"+hdr.Name) == "/Procfile" && hdr.Typeflag == tar.TypeReg {
			return parseProcfile(io.LimitReader(tr, 1<<20))
		}
	}
}

// parseProcfile reads "type: command" lines; blank lines and # comments
// are skipped.
func parseProcfile(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		typ, cmd, ok := strings.Cut(line, ":")
		typ, cmd = strings.TrimSpace(typ), strings.TrimSpace(cmd)
		if !ok || !deis.ValidProcessType(typ) || cmd == "" {
			return nil, fmt.Errorf("procfile line %q is not TYPE: COMMAND", line)
		}
		out[typ] = cmd
	}
	return out, sc.Err()
}

// maxLine bounds the line lastLine keeps.
const maxLine = 4096

// lastLine passes the build's output through to w and remembers its last
// non-blank line: a failed build's error. Once w fails (the pusher went
// away) the build goes on and the output is dropped.
type lastLine struct {
	w    io.Writer
	werr error
	cur  []byte
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	n := len(p)
	if l.werr == nil {
		_, l.werr = l.w.Write(p)
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.cur = append(l.cur, p...)
			if len(l.cur) > maxLine {
				l.cur = l.cur[len(l.cur)-maxLine:]
			}
			break
		}
		l.cur = append(l.cur, p[:i]...)
		if s := cleanLine(string(l.cur)); s != "" {
			l.last = s
		}
		l.cur, p = l.cur[:0], p[i+1:]
	}
	return n, nil
}

// Line is the last non-blank line, without Heroku's indentation and " !"
// error marker.
func (l *lastLine) Line() string {
	if s := cleanLine(string(l.cur)); s != "" {
		return s
	}
	return l.last
}

func cleanLine(s string) string {
	s = strings.TrimSpace(strings.TrimRight(s, "\r"))
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		s = strings.TrimSpace(rest)
	}
	return s
}
