package client

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deis/deis"
	"github.com/google/go-cmp/cmp"
)

// fakeJob serves the lines endpoint of one job whose lines appear one per
// poll, then ends in state final.
type fakeJob struct {
	mu     sync.Mutex
	lines  []string
	final  deis.JobState
	polls  int
	afters []int
	waits  []string
	fail   int // answer this many polls with a dropped connection first
}

func (f *fakeJob) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	f.afters = append(f.afters, after)
	f.waits = append(f.waits, r.URL.Query().Get("wait"))
	f.polls++
	avail := min(f.polls, len(f.lines)) // one more line per poll
	job := deis.Job{ID: "j1", State: deis.JobRunning}
	if avail == len(f.lines) {
		job.State, job.Error = f.final, map[bool]string{true: "boom"}[f.final == deis.JobFailed]
	}
	var out []deis.JobLine
	for i := after; i < avail; i++ {
		out = append(out, deis.JobLine{Seq: i + 1, Text: f.lines[i]})
	}
	writeJSON(w, 200, deis.JobLines{Job: job, Lines: out})
}

func TestFollowJob(t *testing.T) {
	for _, final := range []deis.JobState{deis.JobSucceeded, deis.JobFailed} {
		t.Run(string(final), func(t *testing.T) {
			f := &fakeJob{lines: []string{"one", "two", "three"}, final: final}
			c := serve(t, "", f.ServeHTTP)
			var got []string
			job, err := c.FollowJob(context.Background(), "j1", func(l deis.JobLine) { got = append(got, l.Text) })
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(f.lines, got); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
			if job.State != final {
				t.Errorf("state = %q, want %q", job.State, final)
			}
			if d := cmp.Diff([]int{0, 1, 2, 3}, f.afters); d != "" {
				t.Errorf("after params (-want +got):\n%s", d)
			}
			for _, w := range f.waits {
				if w != "30" {
					t.Errorf("wait = %q, want 30", w)
				}
			}
		})
	}
}

func TestFollowJobRetriesDroppedConnections(t *testing.T) {
	defer func(d time.Duration) { followBackoff = d }(followBackoff)
	followBackoff = time.Millisecond
	f := &fakeJob{lines: []string{"a"}, final: deis.JobSucceeded, fail: 2}
	c := serve(t, "", f.ServeHTTP)
	job, err := c.FollowJob(context.Background(), "j1", nil)
	if err != nil || job.State != deis.JobSucceeded {
		t.Fatalf("FollowJob = %+v, %v", job, err)
	}
}

func TestFollowJobUnknown(t *testing.T) {
	c := serve(t, "", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, deis.Error{Message: "job not found", Code: deis.CodeNotFound})
	})
	if _, err := c.FollowJob(context.Background(), "nope", nil); !IsStatus(err, 404) {
		t.Fatalf("err = %v, want a 404", err)
	}
}

func TestJobLinesClampsWait(t *testing.T) {
	var wait string
	c := serve(t, "", func(w http.ResponseWriter, r *http.Request) {
		wait = r.URL.Query().Get("wait")
		writeJSON(w, 200, deis.JobLines{Job: deis.Job{ID: "j", State: deis.JobSucceeded}})
	})
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{{time.Hour, "30"}, {5 * time.Second, "5"}, {0, ""}} {
		if _, err := c.JobLines(context.Background(), "j", 0, tt.in); err != nil {
			t.Fatal(err)
		}
		if wait != tt.want {
			t.Errorf("JobLines(wait=%v) sent wait=%q, want %q", tt.in, wait, tt.want)
		}
	}
}
