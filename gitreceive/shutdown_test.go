package gitreceive

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestShutdown ends Serve during a deploy: it waits for the push to finish,
// or, past ShutdownTimeout, cancels the deploy and the connection.
func TestShutdown(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		release  bool // whether the test lets the deploy finish
		wantPush bool
	}{
		{"waits for the running push", time.Minute, true, true},
		{"cancels it after the timeout", 300 * time.Millisecond, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, func(c *Config) { c.ShutdownTimeout = tt.timeout })
			env.newKey("alice", true)
			env.users.addApp("web", "alice")
			started, gate := make(chan struct{}), make(chan struct{})
			env.deploys.set(func(r *recorder) {
				r.hook = func(ctx context.Context) error {
					close(started)
					select {
					case <-gate:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			})
			work := env.workdir("alice", "work", "web", "main")
			env.commit(work, "a", "a\n")
			pushed := make(chan error, 1)
			go func() {
				out, err := env.git("alice", work, "push", "deis", "main")
				if err != nil {
					err = errors.New(out)
				}
				pushed <- err
			}()
			<-started
			stopped := make(chan error, 1)
			go func() { stopped <- env.stop() }()

			select {
			case err := <-stopped:
				t.Fatalf("Serve returned during a deploy: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			if tt.release {
				close(gate)
			}
			select {
			case err := <-stopped:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return")
			}
			if err := <-pushed; (err == nil) != tt.wantPush {
				t.Errorf("push error %v, want success %v", err, tt.wantPush)
			}
		})
	}
}
