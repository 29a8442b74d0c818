package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/moby/moby/client"

	"github.com/deis/deis/recipes"
)

var (
	// errFailed is a report with a failure: it was printed, exit 1.
	errFailed = errors.New("apply failed")
	// errUsage is a bad command line: usage was printed, exit 2.
	errUsage = errors.New("usage")
)

const usage = `usage: deis-node apply [flags] < databag.json
       deis-node plan [flags] < databag.json   (what apply would change; changes nothing)
       deis-node status [--app APP] [--owner OWNER]   (app containers' state, as JSON)
       deis-node version`

// StateDir is where the agent keeps its state on a node.
const StateDir = "/var/lib/deis/state"

// config is deis-node apply's configuration, from flags.
type config struct {
	SlugDir  string
	StateDir string
	Owner    string
	Timeout  time.Duration
	Plan     bool // report what would change, change nothing
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintln(stdout, "deis-node", version)
		return nil
	case "apply", "plan":
		cfg, err := parseApply(args[1:], stderr)
		if err != nil {
			return err
		}
		cfg.Plan = args[0] == "plan"
		return apply(ctx, cfg, stdin, stdout, stderr)
	case "status":
		return status(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "deis-node: unknown command %q\n%s\n", args[0], usage)
		return errUsage
	}
}

func parseApply(args []string, stderr io.Writer) (config, error) {
	cfg := config{SlugDir: recipes.SlugDir, StateDir: StateDir, Timeout: 15 * time.Minute}
	fs := flag.NewFlagSet("deis-node apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.SlugDir, "slug-dir", cfg.SlugDir, "directory of the node's slugs")
	fs.StringVar(&cfg.StateDir, "state-dir", cfg.StateDir, "directory of the agent's state (the last databag generation)")
	fs.StringVar(&cfg.Owner, "owner", cfg.Owner, "manage only app containers labeled "+recipes.LabelOwner+"=`OWNER` (engines shared by tests)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on the whole apply")
	if err := fs.Parse(args); err != nil {
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deis-node apply: unexpected argument %q\n", fs.Arg(0))
		return cfg, errUsage
	}
	return cfg, nil
}

// apply reads the databag, applies it and prints the report, also when
// the databag cannot be read, so the controller always gets one.
func apply(ctx context.Context, cfg config, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var rep recipes.AgentReport
	db, err := readDatabag(stdin)
	if err == nil {
		rep, err = applyDatabag(ctx, cfg, db, log)
	}
	if err != nil {
		rep = recipes.AgentReport{Node: db.Node, Resources: []recipes.ResourceResult{}, Error: err.Error()}
	}
	if err := json.NewEncoder(stdout).Encode(rep); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if !rep.OK() {
		log.Warn("apply failed", "error", rep.Error)
		return errFailed
	}
	if !cfg.Plan {
		log.Info("applied", "node", rep.Node, "resources", len(rep.Resources), "duration", rep.Duration)
	}
	return nil
}

func applyDatabag(ctx context.Context, cfg config, db recipes.Databag, log *slog.Logger) (recipes.AgentReport, error) {
	if !cfg.Plan {
		done, err := applyLock(cfg.StateDir, db.Generation)
		if err != nil {
			return recipes.AgentReport{}, err
		}
		defer done()
	}
	rt := &recipes.Runtime{SlugDir: cfg.SlugDir, Log: log.With("recipe", "runtime"), Owner: cfg.Owner}
	if db.Runtime != nil {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return recipes.AgentReport{}, fmt.Errorf("docker client: %w", err)
		}
		defer cli.Close()
		rt.Docker = cli
	}
	if cfg.Plan {
		return recipes.Plan(ctx, db, rt), nil
	}
	return recipes.Apply(ctx, db, rt), nil
}

// status prints the state of the node's app containers as a JSON array.
func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deis-node status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "", "only the containers of `APP`")
	owner := fs.String("owner", "", "only app containers labeled "+recipes.LabelOwner+"=`OWNER`")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	rt := &recipes.Runtime{Docker: cli, Owner: *owner}
	cs, err := rt.Status(ctx, *app)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(cs)
}

// readDatabag decodes exactly one databag, strictly: an unknown field is
// an agent older than its controller, and must not be ignored.
func readDatabag(r io.Reader) (recipes.Databag, error) {
	var db recipes.Databag
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&db); err != nil {
		return recipes.Databag{}, fmt.Errorf("reading databag: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return recipes.Databag{}, errors.New("reading databag: data after the databag")
	}
	return db, nil
}
