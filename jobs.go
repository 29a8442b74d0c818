package deis

import (
	"time"
)

// Job is a long operation run by the controller. The API answers 202 with
// the job; clients follow its lines until it ends.
type Job struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"`   // e.g. formation.destroy, nodes.scale
	Target   string     `json:"target"` // what it acts on
	Owner    string     `json:"owner"`
	State    JobState   `json:"state"`
	Error    string     `json:"error,omitempty"`
	Created  time.Time  `json:"created"`
	Finished *time.Time `json:"finished,omitempty"`
	// Release is the version of the release the job made, if it made one
	// (config, builds, rollback).
	Release int `json:"release,omitempty"`
}

// JobState is where a job stands.
type JobState string

// Job states.
const (
	JobRunning   JobState = "running"
	JobSucceeded          = "succeeded"
	JobFailed             = "failed"
)

// JobLine is one progress line of a job.
type JobLine struct {
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// JobLines is the answer of the job lines endpoint: lines after a sequence
// number, and the job as it stands.
type JobLines struct {
	Job   Job       `json:"job"`
	Lines []JobLine `json:"lines"`
}
