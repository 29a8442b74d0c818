package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/deis/deis/gitreceive"
	"github.com/deis/deis/recipes"
)

// config is the controller's whole configuration: defaults, then DEIS_*
// environment variables, then flags.
type config struct {
	DataDir   string
	Listen    string
	SSHListen string
	Advertise string
	Database  string
	LogLevel  slog.Level
	LogFormat string
	SecretKey []byte
	Agent     string
	// ExtraCACerts are PEM files build containers trust besides the host's
	// CA bundle (TLS-inspecting proxies).
	ExtraCACerts []string
	Drain        time.Duration
	Health       time.Duration
	Grace        time.Duration
	// MaxPush bounds a git push's pack, in bytes.
	MaxPush int64
	// EC2SSHCIDR is where ec2 nodes accept SSH from (the controller's
	// address as AWS sees it); empty means look it up.
	EC2SSHCIDR string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	var level string
	fs := flag.NewFlagSet("deis-controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.DataDir, "data-dir", env("DEIS_DATA_DIR", ""), "directory for the database, secret key and repositories (env DEIS_DATA_DIR)")
	fs.StringVar(&c.Listen, "listen", env("DEIS_LISTEN", ":8000"), "address of the HTTP API (env DEIS_LISTEN)")
	fs.StringVar(&c.SSHListen, "ssh-listen", env("DEIS_SSH_LISTEN", ":2222"), "address of the SSH git endpoint (env DEIS_SSH_LISTEN)")
	fs.StringVar(&c.Advertise, "advertise", env("DEIS_ADVERTISE", ""), "URL at which users and nodes reach the controller (env DEIS_ADVERTISE)")
	fs.StringVar(&c.Database, "database", env("DEIS_DATABASE", ""), "postgres:// URL; default is SQLite in the data dir (env DEIS_DATABASE)")
	fs.StringVar(&c.Agent, "agent", env("DEIS_AGENT", defaultAgent()), "the deis-node binary uploaded to nodes (env DEIS_AGENT)")
	fs.DurationVar(&c.Drain, "drain", envDuration(getenv, "DEIS_DRAIN", 3*time.Second), "how long old containers drain after the proxies leave them (env DEIS_DRAIN)")
	fs.DurationVar(&c.Health, "health-timeout", envDuration(getenv, "DEIS_HEALTH_TIMEOUT", 30*time.Second), "how long a new container has to answer on its port (env DEIS_HEALTH_TIMEOUT)")
	fs.DurationVar(&c.Grace, "process-grace", envDuration(getenv, "DEIS_PROCESS_GRACE", recipes.DefaultGrace), "how long a new container of a type other than web (a worker) must keep running to be healthy (env DEIS_PROCESS_GRACE)")
	fs.Int64Var(&c.MaxPush, "max-push", envInt64(getenv, "DEIS_MAX_PUSH", gitreceive.DefaultMaxPush), "the largest git push accepted, in bytes (env DEIS_MAX_PUSH)")
	fs.StringVar(&c.EC2SSHCIDR, "ec2-ssh-cidr", env("DEIS_EC2_SSH_CIDR", ""), "CIDR that ec2 nodes accept SSH from: the controller's address (env DEIS_EC2_SSH_CIDR; default: its public address, looked up)")
	fs.Func("extra-ca-certs", "a PEM file of CAs that builds trust too (repeatable; env DEIS_EXTRA_CA_CERTS, colon-separated)", func(v string) error {
		c.ExtraCACerts = append(c.ExtraCACerts, v)
		return nil
	})
	if v := getenv("DEIS_EXTRA_CA_CERTS"); v != "" {
		c.ExtraCACerts = strings.Split(v, ":")
	}
	fs.StringVar(&level, "log-level", env("DEIS_LOG_LEVEL", "info"), "debug, info, warn or error (env DEIS_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("DEIS_LOG_FORMAT", "json"), "json or text (env DEIS_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.DataDir == "" {
		return c, errors.New("--data-dir is required")
	}
	if c.MaxPush < 1<<20 {
		return c, fmt.Errorf("--max-push %d: a push needs at least 1 MiB", c.MaxPush)
	}
	// Absolute: node containers mount a directory of it.
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, fmt.Errorf("--data-dir: %w", err)
	}
	c.DataDir = abs
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("--log-format %q: want json or text", c.LogFormat)
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return c, errors.New("--database must be a postgres:// URL")
	}
	if c.Advertise != "" {
		if u, err := url.Parse(c.Advertise); err != nil || u.Host == "" {
			return c, fmt.Errorf("--advertise %q must be a URL like http://10.0.0.5:8000", c.Advertise)
		}
	}
	if k := getenv("DEIS_SECRET_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			return c, errors.New("DEIS_SECRET_KEY must be 32 bytes, base64-encoded")
		}
		c.SecretKey = key
	}
	return c, nil
}

// gitHost is host:port of the SSH git endpoint as users reach it, or "" to
// use the host of each API request.
func (c config) gitHost() (string, int) {
	port := 2222
	if _, p, err := net.SplitHostPort(c.SSHListen); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	if c.Advertise == "" {
		return "", port
	}
	u, _ := url.Parse(c.Advertise)
	return net.JoinHostPort(u.Hostname(), strconv.Itoa(port)), port
}

func (c config) databaseKind() string {
	if c.Database != "" {
		return "postgres"
	}
	return "sqlite"
}

func envInt64(getenv func(string) string, name string, def int64) int64 {
	if n, err := strconv.ParseInt(getenv(name), 10, 64); err == nil {
		return n
	}
	return def
}

func envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(getenv(name)); err == nil {
		return d
	}
	return def
}

// defaultAgent is deis-node beside the controller's own binary.
func defaultAgent() string {
	exe, err := os.Executable()
	if err != nil {
		return "deis-node"
	}
	return filepath.Join(filepath.Dir(exe), "deis-node")
}
