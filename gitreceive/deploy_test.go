package gitreceive

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestPrefixWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"hello\n"}, "remote: hello\n"},
		{"split writes", []string{"hel", "lo\nwor", "ld\n"}, "remote: hello\nremote: world\n"},
		{"empty line", []string{"a\n\nb\n"}, "remote: a\nremote: \nremote: b\n"},
		{"progress with CR", []string{"10%\r20%\r\n"}, "remote: 10%\rremote: 20%\r\n"},
		{"no trailing newline", []string{"done"}, "remote: done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newPrefixWriter(&buf, "remote: ")
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAppLocks serializes one app, not two, and gives up with the context.
func TestAppLocks(t *testing.T) {
	var l appLocks
	ctx := context.Background()
	unlockA, err := l.lock(ctx, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := l.lock(ctx, "b", func() { t.Error("b waited for a") })
	if err != nil {
		t.Fatal(err)
	}
	unlockB()

	waited := make(chan struct{})
	got := make(chan func(), 1)
	go func() {
		unlock, err := l.lock(ctx, "a", func() { close(waited) })
		if err != nil {
			t.Error(err)
		}
		got <- unlock
	}()
	<-waited
	select {
	case <-got:
		t.Fatal("second lock of a taken while held")
	case <-time.After(50 * time.Millisecond):
	}
	unlockA()
	(<-got)()

	unlockA, _ = l.lock(ctx, "a", nil)
	defer unlockA()
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.lock(cctx, "a", nil); err == nil {
		t.Error("lock of a held lock succeeded after the context ended")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.m["a"].refs; n != 1 {
		t.Errorf("a has %d refs, want 1", n)
	}
}
