package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
)

// run calls f(i) for i in [0, n) concurrently and fails on any error.
func run(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- f(i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestConcurrentVersions has 8 goroutines update the config and deploy at
// once: versions must be contiguous, with no error and no lost update.
func TestConcurrentVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	const n = 8
	run(t, n, func(i int) error {
		key := fmt.Sprintf("K%d", i)
		if _, _, err := s.UpdateConfig(ctx, "web", map[string]*string{key: ptr("a")}, "alice"); err != nil {
			return err
		}
		if _, _, err := s.CreateBuild(ctx, deis.Build{App: "web", Owner: "alice", SlugURL: "s3://x"}); err != nil {
			return err
		}
		_, _, err := s.UpdateConfig(ctx, "web", map[string]*string{key: ptr("b")}, "alice")
		return err
	})
	rs, total, err := s.ListReleases(ctx, "web", store.PageReq{})
	if err != nil || total != 1+3*n {
		t.Fatalf("ListReleases: %d releases, %v; want %d", total, err, 1+3*n)
	}
	deployed, configs := 0, 0
	for i, r := range rs {
		if want := total - i; r.Version != want {
			t.Errorf("release %d has version %d, want %d", i, r.Version, want)
		}
		if r.Status == deis.ReleaseDeployed {
			deployed++
		}
		configs = max(configs, r.Config)
	}
	if deployed != 1 || rs[0].Status != deis.ReleaseDeployed {
		t.Errorf("%d deployed releases, latest %s; want exactly the latest", deployed, rs[0].Status)
	}
	c, err := s.GetConfig(ctx, "web")
	if err != nil || c.Version != 1+2*n || configs != c.Version {
		t.Errorf("latest config v%d (releases use up to v%d), %v; want v%d", c.Version, configs, err, 1+2*n)
	}
	for i := range n {
		if k := fmt.Sprintf("K%d", i); c.Values[k] != "b" {
			t.Errorf("config %s = %q, want b (lost update)", k, c.Values[k])
		}
	}
}

func TestConcurrentNumbering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := world(t)
	j, err := s.CreateJob(ctx, deis.Job{Kind: "nodes.scale", Target: "dev", Owner: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	run(t, n, func(int) error {
		if _, err := s.CreateNode(ctx, deis.Node{Formation: "dev", Layer: "runtime"}); err != nil {
			return err
		}
		_, err := s.AppendJobLine(ctx, j.ID, "progress")
		return err
	})
	ns, _, err := s.ListNodes(ctx, "dev", store.PageReq{})
	if err != nil || len(ns) != n {
		t.Fatalf("ListNodes: %d nodes, %v; want %d", len(ns), err, n)
	}
	for i, node := range ns {
		if node.Num != i+1 || node.ID != fmt.Sprintf("dev-runtime-%d", i+1) {
			t.Errorf("node %d = %s (num %d)", i, node.ID, node.Num)
		}
	}
	lines, err := s.JobLines(ctx, j.ID, 0)
	if err != nil || len(lines) != n || lines[n-1].Seq != n {
		t.Errorf("JobLines: %d lines, %v; want seq 1..%d", len(lines), err, n)
	}
}
