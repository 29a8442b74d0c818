package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/api"
	"github.com/deis/deis/converge"
	"github.com/deis/deis/deploy"
	"github.com/deis/deis/gitreceive"
	"github.com/deis/deis/nodes"
	"github.com/deis/deis/nodes/ec2"
	"github.com/deis/deis/slugbuilder"
	"github.com/deis/deis/slugs"
	"github.com/deis/deis/store"
	"github.com/moby/moby/client"
)

func run(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := parseConfig(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	// 0700 at every start, not only when made: it holds the database,
	// sealed secrets, layer keys and every app's repository.
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir, DatabaseURL: cfg.Database, SecretKey: cfg.SecretKey, Logger: log})
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	defer st.Close()
	if n, err := st.FailRunningJobs(ctx, "the controller restarted while the job ran"); err != nil {
		return fmt.Errorf("failing interrupted jobs: %w", err)
	} else if n > 0 {
		log.Warn("jobs interrupted by a restart marked failed", "count", n)
	}

	id, err := controllerID(cfg.DataDir)
	if err != nil {
		return err
	}
	cli, docker := dialDocker(ctx, id, cfg.DataDir, log)
	pool := nodes.NewPool(log)
	defer pool.Close()
	ec2s := &ec2.Opener{Base: ec2.Config{Controller: id, Log: log, SSHCIDR: cfg.EC2SSHCIDR}}
	mgr := &nodes.Manager{
		Store: st, Providers: &nodes.Providers{Docker: docker, EC2: ec2s.Open, Log: log}, Pool: pool, Log: log,
		Parallel: 4, UpTimeout: 3 * time.Minute, StepTimeout: 10 * time.Minute,
	}
	// Cloud machines first: nodes whose creation a restart interrupted
	// have their machine destroyed; untracked machines are reported.
	lost, err := mgr.ReconcileCloud(ctx, nil, nodes.Report, logLines{log})
	if err != nil {
		log.Warn("reconciling nodes with the cloud providers", "err", err)
	}
	if err := mgr.Reconcile(ctx); err != nil {
		log.Warn("reconciling nodes with the docker provider", "err", err)
	}

	conv := &converge.Converger{
		Store: st, Dialer: nodeDialer(mgr), Images: runnerImages(docker), Agent: cfg.Agent,
		Slugs: slugs.Store{Dir: filepath.Join(cfg.DataDir, "slugs")}, Log: log, Parallel: 8,
		Drain: cfg.Drain, HealthTimeout: cfg.Health, Grace: cfg.Grace, StepTimeout: 10 * time.Minute,
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening for the API: %w", err)
	}
	base := cfg.Advertise
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	gitLn, err := net.Listen("tcp", cfg.SSHListen)
	if err != nil {
		return fmt.Errorf("listening for git: %w", err)
	}
	gitHost, _ := cfg.gitHost()
	gitPort := gitLn.Addr().(*net.TCPAddr).Port
	releases := &deploy.Service{Store: st, Conv: conv, Log: log, Slugs: conv.Slugs}
	srv := api.New(api.Config{Store: st, Nodes: mgr, Conv: conv, Deploy: releases, Docker: docker != nil, Logger: log,
		GitHost: gitHost, GitPort: gitPort, Slugs: conv.Slugs, BaseURL: base})
	// What a previous run left mid-rollout is finished or undone, then
	// containers move off lost nodes; a shutdown waits for both, as it
	// waits for jobs: a rollout is never cut in the middle.
	var startup sync.WaitGroup
	startup.Go(func() {
		bg := context.WithoutCancel(ctx)
		if err := releases.Recover(bg, logLines{log}); err != nil {
			log.Warn("finishing rollouts a previous run left", "err", err)
		}
		if n, err := releases.CollectSlugs(bg); err != nil {
			log.Warn("collecting slugs no app has", "err", err)
		} else if n > 0 {
			log.Info("collected slugs no app has", "slugs", n)
		}
		for _, f := range lost {
			if err := releases.Reschedule(bg, f, nil, logLines{log}); err != nil {
				log.Warn("moving containers off lost nodes", "formation", f, "err", err)
			}
		}
	})
	git, err := newGitServer(cfg, st, releases, cli, docker, conv.Slugs, base, log)
	if err != nil {
		return err
	}
	gitDone := make(chan error, 1)
	go func() { gitDone <- git.Serve(ctx, gitLn) }()
	log.Info("git endpoint listening", "addr", gitLn.Addr().String())
	// Requests get two minutes to be read and answered (long polls wait
	// 30 s at most); slug uploads and downloads extend their own deadlines.
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	log.Info("controller listening", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "database", cfg.databaseKind())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the API: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("shutdown", "err", err)
	}
	srv.Wait()
	startup.Wait()
	if err := <-gitDone; err != nil {
		log.Warn("git endpoint", "err", err)
	}
	log.Info("stopped")
	return nil
}

// dialDocker returns the docker provider on the local engine, or nil when
// no engine answers (the controller then offers only the other providers).
func dialDocker(ctx context.Context, id, dataDir string, log *slog.Logger) (*client.Client, *nodes.Docker) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		log.Warn("no Docker engine client", "err", err)
		return nil, nil
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{}); err != nil {
		log.Warn("no Docker engine answers: the docker provider and builds are off", "err", err)
		cli.Close()
		return nil, nil
	}
	log.Info("docker engine found", "api_version", cli.ClientVersion())
	d := nodes.NewDocker(cli, id, "", log)
	d.Images.ArchiveDir = filepath.Join(dataDir, "images")
	return cli, d
}

// newGitServer makes the SSH git endpoint, with its host key in the data
// dir, building pushes with the slug builder on the controller's engine.
func newGitServer(cfg config, st *store.Store, releases *deploy.Service, cli *client.Client, docker *nodes.Docker, slugs slugs.Store, base string, log *slog.Logger) (*gitreceive.Server, error) {
	key, err := gitreceive.LoadOrCreateHostKey(filepath.Join(cfg.DataDir, "ssh_host_ed25519_key"))
	if err != nil {
		return nil, fmt.Errorf("git host key: %w", err)
	}
	d := &deploy.Pusher{Releases: releases, Slugs: slugs, BaseURL: base, Keep: 10}
	if cli != nil {
		d.Builder = &slugbuilder.Builder{
			Docker: cli, Images: docker.Images, CacheDir: filepath.Join(cfg.DataDir, "cache"), SlugDir: slugs.Dir,
			ExtraCACerts: cfg.ExtraCACerts, Log: log,
		}
		releases.Data = append(releases.Data, d.Builder)
	}
	git, err := gitreceive.New(gitreceive.Config{
		RepoDir: filepath.Join(cfg.DataDir, "repos"), HostKey: key, MaxPush: cfg.MaxPush,
		Users: gitUsers{st}, Deploy: d.Deploy, Log: log,
	})
	if err != nil {
		return nil, err
	}
	releases.Data = append(releases.Data, git)
	return git, nil
}

// runnerImages is where the runner image comes from: the controller's
// Docker engine.
func runnerImages(d *nodes.Docker) converge.Images {
	if d == nil {
		return noEngine{}
	}
	return d.Images
}

type noEngine struct{}

var errNoEngine = errors.New("running apps needs a Docker engine on the controller to build the runner image, and none answered")

func (noEngine) EnsureRunner(context.Context) (string, error)        { return "", errNoEngine }
func (noEngine) Save(context.Context, string) (io.ReadCloser, error) { return nil, errNoEngine }

// controllerID returns this controller's id, made on first start and kept
// in the data dir.
func controllerID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "controller-id")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading controller id: %w", err)
	}
	var raw [8]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing controller id: %w", err)
	}
	return id, nil
}

func newLogger(cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// logLines logs progress lines of work the controller does on its own.
type logLines struct{ log *slog.Logger }

func (l logLines) Printf(format string, a ...any) { l.log.Warn(fmt.Sprintf(format, a...)) }

// nodeDialer reaches nodes for the converge through the node manager's
// pooled SSH connections.
func nodeDialer(m *nodes.Manager) converge.Dialer {
	return converge.DialFunc(func(ctx context.Context, f deis.Formation, n deis.Node) (converge.Node, error) {
		s, err := m.Session(ctx, f, n)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}
