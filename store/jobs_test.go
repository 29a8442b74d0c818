package store_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/deis/deis/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	j, err := s.CreateJob(ctx, deis.Job{ID: "ignored", Kind: "formation.destroy", Target: "dev", Owner: "alice", State: "bogus"})
	if err != nil {
		t.Fatal(err)
	}
	want := deis.Job{ID: j.ID, Kind: "formation.destroy", Target: "dev", Owner: "alice", State: deis.JobRunning}
	if diff := cmp.Diff(want, j, ignoreTimes); diff != "" || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(j.ID) {
		t.Errorf("CreateJob (-want +got):\n%s", diff)
	}
	texts := []string{"creating node", "", "bad \xff utf-8 and \x00 nul", "done ✓"}
	for i, text := range texts {
		l, err := s.AppendJobLine(ctx, j.ID, text)
		if err != nil || l.Seq != i+1 || l.Time.IsZero() {
			t.Errorf("AppendJobLine(%q) = %+v, %v; want seq %d", text, l, err, i+1)
		}
	}
	_, err = s.AppendJobLine(ctx, "nope", "x")
	wantErr(t, "AppendJobLine(unknown)", err, store.ErrNotFound)
	for _, tc := range []struct {
		after int
		want  []string
	}{
		{0, []string{"creating node", "", "bad \uFFFD utf-8 and \uFFFD nul", "done ✓"}},
		{2, []string{"bad \uFFFD utf-8 and \uFFFD nul", "done ✓"}},
		{4, []string{}},
	} {
		lines, err := s.JobLines(ctx, j.ID, tc.after)
		got := []string{}
		for i, l := range lines {
			if l.Seq != tc.after+i+1 {
				t.Errorf("JobLines(after %d)[%d].Seq = %d", tc.after, i, l.Seq)
			}
			got = append(got, l.Text)
		}
		if diff := cmp.Diff(tc.want, got); err != nil || diff != "" {
			t.Errorf("JobLines(after %d): %v (-want +got):\n%s", tc.after, err, diff)
		}
	}

	wantErr(t, "FinishJob", s.FinishJob(ctx, j.ID, nil), nil)
	wantErr(t, "FinishJob twice", s.FinishJob(ctx, j.ID, nil), store.ErrConflict)
	wantErr(t, "FinishJob(unknown)", s.FinishJob(ctx, "nope", nil), store.ErrNotFound)
	got, err := s.GetJob(ctx, j.ID)
	if err != nil || got.State != deis.JobSucceeded || got.Error != "" || got.Finished == nil || got.Finished.Before(got.Created) {
		t.Errorf("finished job = %+v, %v", got, err)
	}
	_, err = s.GetJob(ctx, "nope")
	wantErr(t, "GetJob(unknown)", err, store.ErrNotFound)

	failed, _ := s.CreateJob(ctx, deis.Job{Kind: "nodes.scale"})
	wantErr(t, "FinishJob with error", s.FinishJob(ctx, failed.ID, errors.New("node 3 unreachable")), nil)
	if got, _ := s.GetJob(ctx, failed.ID); got.State != deis.JobFailed || got.Error != "node 3 unreachable" {
		t.Errorf("failed job = %+v", got)
	}
}

func TestFailRunningJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t)
	var ids []string
	for range 3 {
		j, err := s.CreateJob(ctx, deis.Job{Kind: "nodes.scale"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	if err := s.FinishJob(ctx, ids[0], nil); err != nil {
		t.Fatal(err)
	}
	n, err := s.FailRunningJobs(ctx, "controller restarted")
	if err != nil || n != 2 {
		t.Errorf("FailRunningJobs = %d, %v; want 2", n, err)
	}
	for i, want := range []deis.JobState{deis.JobSucceeded, deis.JobFailed, deis.JobFailed} {
		j, err := s.GetJob(ctx, ids[i])
		if err != nil || j.State != want || j.Finished == nil {
			t.Errorf("job %d = %+v, %v; want %s and finished", i, j, err, want)
		}
	}
	if n, err := s.FailRunningJobs(ctx, "again"); err != nil || n != 0 {
		t.Errorf("FailRunningJobs again = %d, %v; want 0", n, err)
	}
}
