package gitreceive

import (
	"errors"
	"fmt"
	"strings"

	"github.com/deis/deis"
)

// The git services served, as run by `git <service> <repo>`.
const (
	receivePack = "receive-pack"
	uploadPack  = "upload-pack"
)

// errOnlyGit is the one-line answer to anything but git push and fetch.
var errOnlyGit = errors.New("deis: only git push is served here")

// validAppName reports whether name is a valid app name (a DNS label).
func validAppName(name string) bool { return deis.ValidID(name) }

// command is a parsed SSH exec request.
type command struct {
	service string // receivePack or uploadPack
	app     string
}

// parseCommand parses the exec line git sends, such as
// "git-receive-pack '/myapp.git'". The repo may be written 'app.git',
// '/app.git' or app, quoted or not. Errors are one-line messages for the user.
func parseCommand(line string) (command, error) {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	var c command
	switch verb {
	case "git-receive-pack":
		c.service = receivePack
	case "git-upload-pack":
		c.service = uploadPack
	default:
		return command{}, errOnlyGit
	}
	arg = strings.TrimSpace(arg)
	name := arg
	if len(name) >= 2 && name[0] == '\'' && name[len(name)-1] == '\'' {
		name = name[1 : len(name)-1]
	}
	name = strings.TrimPrefix(name, "/")
	name = strings.TrimSuffix(name, ".git")
	if !validAppName(name) {
		return command{}, fmt.Errorf("deis: invalid app name %q: use git@host:<app>.git", truncate(arg, 80))
	}
	c.app = name
	return c, nil
}
