package sessionauthtest

import (
	"log/slog"
	"strings"
	"sync"
)

// logger returns the Logger an Env's Manager gets unless WithConfig sets
// one: the test's own log (t.Logf, shown with the test when it fails or runs
// with -v) if t has one, otherwise a logger that discards, never
// slog.Default, which would mix every test's lines on stderr.
func logger(t TB) *slog.Logger {
	lt, ok := t.(interface{ Logf(string, ...any) })
	if !ok {
		return slog.New(slog.DiscardHandler)
	}
	w := &testWriter{logf: lt.Logf}
	// testing panics on a Log after the test has completed, and a request
	// still in flight may log then: from its cleanup on, lines are dropped.
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu     sync.Mutex
	logf   func(string, ...any)
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.logf("%s", strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
