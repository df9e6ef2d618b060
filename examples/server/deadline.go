package main

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/sessionauth/sessionauth"
)

// requestSlack is how much longer than -store-timeout a whole request may
// take. The deadline of a request is deliberately later than the Manager's
// deadline of one store call: a store call that hangs is cut by the Manager
// first, which logs it as the store failure it is and answers 503 through
// the handler. The slack leaves room for the work around the store calls (a
// sign-in's password check takes tens of milliseconds) so that it does not
// eat into the store's time, and the request deadline still catches what the
// Manager's cannot: calls that each answer in time but add up, or a store
// that does not honour its deadline.
const requestSlack = time.Second

// maxStoreTimeout bounds -store-timeout: an HTTP client waits for an answer,
// and so must not wait for one longer than this.
const maxStoreTimeout = time.Hour

// withDeadline bounds every request to timeout. The handler runs under a
// context with that deadline, on a buffered ResponseWriter. Unless the
// handler returns before the deadline, the client gets the contract's 503
// {"message":"Service Unavailable"} (http.TimeoutHandler would answer plain
// text) and the log an ERROR line; whatever the handler writes once the
// deadline has passed is dropped (its Write returns http.ErrHandlerTimeout).
//
// Unlike http.TimeoutHandler, ServeHTTP returns only when the handler has:
// the handler's store calls honour the deadline, so it returns at once, and
// waiting for it means that a graceful shutdown, which waits for ServeHTTP,
// never closes the store under a handler still using it. The 503 carries its
// Content-Length and is flushed, so the client has it in full meanwhile, and
// "Connection: close", so the client's next request does not queue behind
// the handler on the same connection.
func withDeadline(next http.Handler, timeout time.Duration, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		bw := &bufferedWriter{ctx: ctx, header: make(http.Header)}
		done := make(chan any, 1) // the handler's panic value, or nil
		go func() {
			defer func() {
				// A re-panicked value on this goroutine would
				// crash the process; net/http recovers panics
				// of ServeHTTP's own goroutine.
				p := recover()
				bw.finish()
				done <- p
			}()
			next.ServeHTTP(bw, r.WithContext(ctx))
		}()

		returned := false
		wait := func() {
			if !returned {
				repanic(<-done)
			}
		}
		select {
		case p := <-done:
			repanic(p)
			returned = true
		case <-ctx.Done():
		}
		if bw.stopUnlessFinished() {
			wait()
			bw.copyTo(w)
			return
		}
		if r.Context().Err() != nil {
			// The client went away: nobody reads an answer, and the
			// handler, whose context ended too, returns.
			wait()
			return
		}
		log.LogAttrs(r.Context(), slog.LevelError, "request cut: no answer within the request deadline",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Duration("deadline", timeout))
		// The connection stays busy until the handler returns: the
		// client must send its next request on another one.
		w.Header().Set("Connection", "close")
		sessionauth.WriteError(w, r, sessionauth.ErrUnavailable)
		_ = http.NewResponseController(w).Flush()
		wait()
	})
}

// repanic panics with p, the value a handler panicked with, if any, on
// ServeHTTP's goroutine, where net/http handles it (http.ErrAbortHandler
// aborts the response without a log line).
func repanic(p any) {
	if p != nil {
		panic(p)
	}
}

// bufferedWriter holds a handler's response until the handler returns. The
// response is the handler's only if the handler returned before its context
// ended; otherwise every write is dropped and the deadline answers.
type bufferedWriter struct {
	ctx    context.Context // the handler's
	header http.Header

	mu       sync.Mutex
	code     int // 0 until WriteHeader
	body     bytes.Buffer
	finished bool // the handler returned before ctx ended
	stopped  bool // ctx ended first: the response is not the handler's
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropping() || b.code != 0 {
		return
	}
	b.code = code
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropping() {
		return 0, http.ErrHandlerTimeout
	}
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

// dropping reports whether writes no longer count; b.mu must be held.
func (b *bufferedWriter) dropping() bool { return b.stopped || b.ctx.Err() != nil }

// finish records that the handler returned, in time if ctx has not ended.
func (b *bufferedWriter) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.stopped && b.ctx.Err() == nil {
		b.finished = true
	}
}

// stopUnlessFinished reports whether the handler returned in time; if it
// has not, its response is dropped from now on.
func (b *bufferedWriter) stopUnlessFinished() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return true
	}
	b.stopped = true
	return false
}

// copyTo writes the buffered response to w. Call it only once the handler
// has returned.
func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), b.header)
	if b.code != 0 {
		w.WriteHeader(b.code)
	}
	if b.body.Len() > 0 {
		_, _ = w.Write(b.body.Bytes())
	}
}
