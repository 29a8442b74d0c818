package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/deis/deis"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// jobRunner runs long operations in the background, records their progress
// lines in the store and wakes the clients long-polling them.
type jobRunner struct {
	store *store.Store
	log   *slog.Logger
	wg    sync.WaitGroup

	mu      sync.Mutex
	changed map[string]*watchers // by job: closed when it gets a line or ends
}

// watchers is the channel the long-polls of one job wait on, and how many
// wait: the entry goes when the last one leaves.
type watchers struct {
	ch chan struct{}
	n  int
}

func newJobRunner(st *store.Store, log *slog.Logger) *jobRunner {
	return &jobRunner{store: st, log: log, changed: map[string]*watchers{}}
}

// progress is what a running job reports through.
type progress struct {
	r  *jobRunner
	id string
}

// Printf records one progress line.
func (p *progress) Printf(format string, a ...any) {
	text := fmt.Sprintf(format, a...)
	if _, err := p.r.store.AppendJobLine(context.Background(), p.id, text); err != nil {
		p.r.log.Error("recording job line", "job", p.id, "err", err)
	}
	p.r.notify(p.id)
}

// setRelease records the release the job made.
func (p *progress) setRelease(version int) {
	if err := p.r.store.SetJobRelease(context.Background(), p.id, version); err != nil {
		p.r.log.Error("recording job release", "job", p.id, "err", err)
	}
}

// start records the job and runs fn in the background. The job outlives the
// request that started it.
func (r *jobRunner) start(ctx context.Context, j deis.Job, fn func(context.Context, *progress) error) (deis.Job, error) {
	j, err := r.store.CreateJob(ctx, j)
	if err != nil {
		return j, fmt.Errorf("creating %s job: %w", j.Kind, err)
	}
	log := r.log.With("job", j.ID, "kind", j.Kind, "target", j.Target)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		start := time.Now()
		runErr := fn(context.Background(), &progress{r: r, id: j.ID})
		if err := r.store.FinishJob(context.Background(), j.ID, runErr); err != nil {
			log.Error("recording job end", "err", err)
		}
		r.notify(j.ID)
		log.Info("job ended", "duration", time.Since(start), "err", runErr)
	}()
	return j, nil
}

func (r *jobRunner) wait() { r.wg.Wait() }

func (r *jobRunner) notify(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.changed[id]; ok {
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

// watch returns a channel closed at the job's next line or end, and the
// function to call when the caller stops waiting (which frees the entry
// once nobody waits on the job).
func (r *jobRunner) watch(id string) (<-chan struct{}, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.changed[id]
	if !ok {
		w = &watchers{ch: make(chan struct{})}
		r.changed[id] = w
	}
	w.n++
	return w.ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if w.n--; w.n == 0 {
			delete(r.changed, id)
		}
	}
}

// watched is how many jobs have waiters now.
func (r *jobRunner) watched() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changed)
}

func (s *Server) visibleJob(c *gin.Context) (deis.Job, error) {
	j, err := s.store.GetJob(c.Request.Context(), c.Param("id"))
	if err != nil {
		return j, err
	}
	if v := viewer(c); !v.Admin && j.Owner != v.Username {
		return j, notFound("job %q not found", c.Param("id"))
	}
	return j, nil
}

func (s *Server) getJob(c *gin.Context) {
	j, err := s.visibleJob(c)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, j)
}

const maxJobWait = 30 * time.Second

// jobLines answers the lines after ?after=SEQ, waiting up to ?wait=SECONDS
// for one to come or for the job to end.
func (s *Server) jobLines(c *gin.Context) {
	after, err := strconv.Atoi(c.DefaultQuery("after", "0"))
	if err != nil || after < 0 {
		fail(c, invalid("after must be a number from 0"))
		return
	}
	wait, err := strconv.ParseFloat(c.DefaultQuery("wait", "0"), 64)
	if err != nil || wait < 0 {
		fail(c, invalid("wait must be a number of seconds from 0"))
		return
	}
	deadline := time.Now().Add(min(time.Duration(wait*float64(time.Second)), maxJobWait))
	ctx := c.Request.Context()
	// Only a job the caller may see is watched, and the watch ends with
	// the request: no request leaves anything behind.
	if _, err := s.visibleJob(c); err != nil {
		fail(c, err)
		return
	}
	for {
		changed, done := s.jobs.watch(c.Param("id"))
		j, err := s.visibleJob(c)
		if err != nil {
			done()
			fail(c, err)
			return
		}
		lines, err := s.store.JobLines(ctx, j.ID, after)
		if err != nil {
			done()
			fail(c, err)
			return
		}
		left := time.Until(deadline)
		if len(lines) > 0 || j.State != deis.JobRunning || left <= 0 {
			done()
			if lines == nil {
				lines = []deis.JobLine{}
			}
			c.JSON(http.StatusOK, deis.JobLines{Job: j, Lines: lines})
			return
		}
		select {
		case <-changed:
		case <-time.After(left):
		case <-ctx.Done():
		}
		done()
		if ctx.Err() != nil {
			return
		}
	}
}

// logProgress reports progress to the log, for work done within a request.
type logProgress struct{ log *slog.Logger }

func (p logProgress) Printf(format string, a ...any) { p.log.Info(fmt.Sprintf(format, a...)) }
