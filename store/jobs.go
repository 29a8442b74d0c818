package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/deis/deis"
)

const jobCols = "id, kind, target, owner, state, error, created, finished, release"

func scanJob(sc scanner) (deis.Job, error) {
	var j deis.Job
	var created int64
	var finished sql.NullInt64
	if err := sc.Scan(&j.ID, &j.Kind, &j.Target, &j.Owner, &j.State, &j.Error, &created, &finished, &j.Release); err != nil {
		return deis.Job{}, err
	}
	j.Created = fromMicros(created)
	if finished.Valid {
		t := fromMicros(finished.Int64)
		j.Finished = &t
	}
	return j, nil
}

// CreateJob records a new running job under a random id.
func (s *Store) CreateJob(ctx context.Context, j deis.Job) (deis.Job, error) {
	j.ID, j.State, j.Error, j.Created, j.Finished = randomID(), deis.JobRunning, "", now(), nil
	_, err := s.h().exec(ctx, "INSERT INTO jobs ("+jobCols+") VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0)",
		j.ID, j.Kind, j.Target, j.Owner, j.State, j.Error, micros(j.Created))
	if err != nil {
		return deis.Job{}, fmt.Errorf("creating %s job: %w", j.Kind, dbErr(err))
	}
	return j, nil
}

// GetJob returns a job.
func (s *Store) GetJob(ctx context.Context, id string) (deis.Job, error) {
	j, err := scanJob(s.h().row(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = ?", id))
	if err != nil {
		return deis.Job{}, fmt.Errorf("getting job %q: %w", id, dbErr(err))
	}
	return j, nil
}

// displayText makes s valid UTF-8 without NUL bytes, which PostgreSQL text
// cannot hold, so that both back ends store the same text.
func displayText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AppendJobLine adds a progress line to a job, numbered 1, 2, 3... Text
// goes through displayText.
func (s *Store) AppendJobLine(ctx context.Context, id, text string) (deis.JobLine, error) {
	l := deis.JobLine{Time: now(), Text: displayText(text)}
	err := s.inTx(ctx, func(h handle) error {
		var one int
		if err := h.row(ctx, "SELECT 1 FROM jobs WHERE id = ?"+h.forUpdate(), id).Scan(&one); err != nil {
			return err
		}
		if err := h.row(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM job_lines WHERE job = ?", id).Scan(&l.Seq); err != nil {
			return err
		}
		_, err := h.exec(ctx, "INSERT INTO job_lines (job, seq, at, line) VALUES (?, ?, ?, ?)", id, l.Seq, micros(l.Time), l.Text)
		return err
	})
	if err != nil {
		return deis.JobLine{}, fmt.Errorf("appending to job %q: %w", id, dbErr(err))
	}
	return l, nil
}

// JobLines returns a job's lines numbered after after, in order.
func (s *Store) JobLines(ctx context.Context, id string, after int) ([]deis.JobLine, error) {
	scan := func(sc scanner) (deis.JobLine, error) {
		var l deis.JobLine
		var at int64
		err := sc.Scan(&l.Seq, &at, &l.Text)
		l.Time = fromMicros(at)
		return l, err
	}
	ls, _, err := list(ctx, s.h(), PageReq{}, listQuery{cols: "seq, at, line", from: "job_lines WHERE job = ? AND seq > ?", order: "seq", args: []any{id, after}}, scan)
	if err != nil {
		return nil, fmt.Errorf("reading lines of job %q: %w", id, err)
	}
	return ls, nil
}

// FinishJob ends a running job: succeeded if jobErr is nil, else failed
// with its text. Finishing a job twice is ErrConflict.
func (s *Store) FinishJob(ctx context.Context, id string, jobErr error) error {
	state, msg := deis.JobSucceeded, ""
	if jobErr != nil {
		state, msg = deis.JobFailed, jobErr.Error()
	}
	err := s.inTx(ctx, func(h handle) error {
		j, err := scanJob(h.row(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = ?"+h.forUpdate(), id))
		if err != nil {
			return err
		}
		if j.State != deis.JobRunning {
			return fmt.Errorf("job already %s: %w", j.State, ErrConflict)
		}
		_, err = h.exec(ctx, "UPDATE jobs SET state = ?, error = ?, finished = ? WHERE id = ?", state, msg, micros(now()), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("finishing job %q: %w", id, dbErr(err))
	}
	return nil
}

// FailRunningJobs fails every job still running, with reason as its error.
// The controller calls it at start: such jobs belonged to a dead process.
func (s *Store) FailRunningJobs(ctx context.Context, reason string) (int, error) {
	res, err := s.h().exec(ctx, "UPDATE jobs SET state = ?, error = ?, finished = ? WHERE state = ?",
		deis.JobFailed, reason, micros(now()), deis.JobRunning)
	if err != nil {
		return 0, fmt.Errorf("failing running jobs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("failing running jobs: %w", err)
	}
	return int(n), nil
}

// SetJobRelease records the release a job made.
func (s *Store) SetJobRelease(ctx context.Context, id string, version int) error {
	if err := affected(s.h().exec(ctx, "UPDATE jobs SET release = ? WHERE id = ?", version, id)); err != nil {
		return fmt.Errorf("recording the release of job %q: %w", id, err)
	}
	return nil
}
