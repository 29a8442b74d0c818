package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/deis/deis/client"
)

// state is what ~/.deis/client.json holds between invocations.
type state struct {
	Controller string `json:"controller"`
	Token      string `json:"token,omitempty"`
	Username   string `json:"username,omitempty"`
}

// statePath returns the path of client.json under $HOME.
func (c *cli) statePath() (string, error) {
	home := c.getenv("HOME")
	if home == "" {
		return "", errors.New("HOME is not set: cannot find ~/.deis/client.json")
	}
	return filepath.Join(home, ".deis", "client.json"), nil
}

// loadState reads client.json; a missing file is an empty state.
func loadState(path string) (state, error) {
	var st state
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("reading %s: %w", path, err)
	}
	return st, nil
}

// saveState writes client.json atomically: its directory 0700, the file
// 0600, written to a temporary file and renamed over the old one.
func saveState(path string, st state) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("securing %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".client.json-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// loadStateFile reads the state and returns it with its path.
func (c *cli) loadStateFile() (state, string, error) {
	path, err := c.statePath()
	if err != nil {
		return state{}, "", err
	}
	st, err := loadState(path)
	return st, path, err
}

// controllerURL returns the controller to talk to: DEIS_CONTROLLER, else
// the stored one.
func (c *cli) controllerURL(st state) (string, error) {
	if env := c.getenv("DEIS_CONTROLLER"); env != "" {
		return normalizeURL(env)
	}
	if st.Controller == "" {
		return "", errors.New("no controller: run 'deis register URL' or 'deis login URL' first")
	}
	return st.Controller, nil
}

// client returns an API client with the stored token.
func (c *cli) client() (*client.Client, error) {
	st, _, err := c.loadStateFile()
	if err != nil {
		return nil, err
	}
	base, err := c.controllerURL(st)
	if err != nil {
		return nil, err
	}
	if st.Token == "" {
		return nil, fmt.Errorf("not logged in to %s: run 'deis login'", base)
	}
	return c.newClient(base, st.Token), nil
}

// newClient returns a client of base with token.
func (c *cli) newClient(base, token string) *client.Client {
	ua := fmt.Sprintf("deis-cli/%s (%s/%s)", Version, runtime.GOOS, runtime.GOARCH)
	return client.New(base, token, client.WithUserAgent(ua))
}

// normalizeURL adds http:// to a controller address without a scheme and
// drops a trailing slash.
func normalizeURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("empty controller URL")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("bad controller URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("bad controller URL %q: the scheme must be http or https", raw)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("bad controller URL %q: want http[s]://HOST[:PORT][/PATH]", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
