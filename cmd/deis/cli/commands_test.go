package cli

import (
	"bytes"
	"strings"
	"testing"
)

// designCommands is every command name and shortcut of DESIGN.md section 6
// (the CLI contract), with the command it must run.
var designCommands = map[string]string{
	"register": "register", "login": "login", "logout": "logout", "whoami": "whoami",
	"keys:add": "keys:add", "keys:list": "keys:list", "keys:remove": "keys:remove",

	"providers:list": "providers:list", "providers:info": "providers:info",
	"providers:create": "providers:create", "providers:discover": "providers:discover",
	"providers:delete": "providers:delete",

	"flavors:list": "flavors:list", "flavors:info": "flavors:info", "flavors:create": "flavors:create",
	"flavors:update": "flavors:update", "flavors:delete": "flavors:delete",

	"formations:create": "formations:create", "formations:list": "formations:list",
	"formations:info": "formations:info", "formations:update": "formations:update",
	"formations:calculate": "formations:calculate", "formations:converge": "formations:converge",
	"formations:destroy": "formations:destroy",

	"layers:create": "layers:create", "layers:list": "layers:list", "layers:info": "layers:info",
	"layers:update": "layers:update", "layers:destroy": "layers:destroy",

	"nodes:scale": "nodes:scale", "nodes:create": "nodes:create", "nodes:list": "nodes:list",
	"nodes:info": "nodes:info", "nodes:converge": "nodes:converge", "nodes:ssh": "nodes:ssh",
	"nodes:destroy": "nodes:destroy",

	"apps:create": "apps:create", "apps:list": "apps:list", "apps:info": "apps:info",
	"apps:open": "apps:open", "apps:destroy": "apps:destroy", "apps:logs": "apps:logs",
	"apps:run": "apps:run",

	"config:list": "config:list", "config:set": "config:set", "config:unset": "config:unset",
	"containers:list": "containers:list", "containers:scale": "containers:scale",
	"builds:list": "builds:list", "builds:create": "builds:create",
	"releases:list": "releases:list", "releases:info": "releases:info",
	"releases:rollback": "releases:rollback",
	"perms:list":        "perms:list", "perms:create": "perms:create", "perms:delete": "perms:delete",

	// Shortcuts.
	"create": "apps:create", "destroy": "apps:destroy", "info": "apps:info", "open": "apps:open",
	"logs": "apps:logs", "run": "apps:run", "ps": "containers:list", "scale": "containers:scale",
	"rollback": "releases:rollback", "ssh": "nodes:ssh", "converge": "formations:converge",
	"calculate": "formations:calculate",

	// A bare group name runs its :list.
	"apps": "apps:list", "keys": "keys:list", "providers": "providers:list",
	"flavors": "flavors:list", "formations": "formations:list", "layers": "layers:list",
	"nodes": "nodes:list", "config": "config:list", "containers": "containers:list",
	"builds": "builds:list", "releases": "releases:list", "perms": "perms:list",

	// Cobra's own.
	"help": "help", "completion": "completion",
}

func TestEveryCommandResolves(t *testing.T) {
	c := newCLI(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
	root := c.root()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for name, want := range designCommands {
		t.Run(name, func(t *testing.T) {
			cmd, rest, err := root.Find([]string{name, "x"})
			if err != nil {
				t.Fatalf("Find(%q): %v", name, err)
			}
			if cmd.Name() != want {
				t.Errorf("%q runs %q, want %q", name, cmd.Name(), want)
			}
			if len(rest) != 1 || rest[0] != "x" {
				t.Errorf("%q left args %q, want [x]", name, rest)
			}
		})
	}
}

// TestNoAliasCollides checks that no alias names two commands, and that
// every command has help text.
func TestNoAliasCollides(t *testing.T) {
	c := newCLI(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
	seen := map[string]string{}
	for _, cmd := range c.root().Commands() {
		if cmd.Short == "" {
			t.Errorf("%s has no help text", cmd.Name())
		}
		for _, n := range append([]string{cmd.Name()}, cmd.Aliases...) {
			if other, dup := seen[n]; dup {
				t.Errorf("%q names both %s and %s", n, other, cmd.Name())
			}
			seen[n] = cmd.Name()
		}
	}
}

// TestRunResolvesColonNames runs commands through Run's argument parsing,
// checking that cobra dispatches names with ':' and shortcuts alike.
func TestRunResolvesColonNames(t *testing.T) {
	for _, args := range [][]string{
		{"help", "config:set"},
		{"config:set", "--help"},
		{"rollback", "--help"},
		{"apps", "--help"},
	} {
		var out, errOut bytes.Buffer
		c := newCLI(strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		if code := c.run(t.Context(), args); code != 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
		if !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%q printed no usage: %q", args, out.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, `error: unknown command "nosuch" (see 'deis help')`},
		{[]string{"confg:set"}, `error: unknown command "confg:set" (did you mean config:set?) (see 'deis help')`},
		{[]string{"apps:info", "a", "b"}, "error: wrong number of arguments: usage: deis apps:info [ID] [flags]"},
		{[]string{"config:set", "--nope"}, "error: unknown flag: --nope (see 'deis help config:set')"},
		{[]string{"scale", "web=-1"}, `error: "web=-1": the count cannot be negative`},
		{[]string{"scale", "web"}, `error: "web" is not TYPE=N`},
		{[]string{"config:set", "1X=y"}, `error: "1X" is not a valid config key: use letters, digits and '_', not starting with a digit`},
		{[]string{"releases:info", "vx"}, `error: "vx" is not a release version (v1, v2, ...)`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		c := newCLI(strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		code := c.run(t.Context(), tt.args)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", tt.args, code)
		}
		if got := errOut.String(); got != tt.want+"\n" {
			t.Errorf("%q: stderr %q, want %q", tt.args, got, tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("%q: stdout %q, want nothing", tt.args, out.String())
		}
	}
}

// TestEveryCommandHasHelp: each command has a long description and an
// example, and no help entry names a command that does not exist.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newCLI(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" }).root()
	seen := map[string]bool{}
	for _, cmd := range root.Commands() {
		if cmd.Hidden || cmd.Name() == "help" || cmd.Name() == "completion" {
			continue
		}
		seen[cmd.Name()] = true
		if cmd.Long == "" || cmd.Example == "" {
			t.Errorf("%s has no long help or no example", cmd.Name())
		}
	}
	for name := range help {
		if !seen[name] {
			t.Errorf("help names %s, which is not a command", name)
		}
	}
}
