package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestPastItsDeadlineGetsTheJSON503 runs a handler stuck in a call
// that honours its context, as a store call on a hung store is, before or
// after it wrote an answer: at the deadline the client gets the contract's
// JSON 503, not the plain text of http.TimeoutHandler nor the handler's
// unfinished answer; the log gets an ERROR line without the query; the
// handler returns before ServeHTTP does, and nothing it writes after the
// deadline reaches the client.
func TestRequestPastItsDeadlineGetsTheJSON503(t *testing.T) {
	for _, writeFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("wrote before the deadline: %v", writeFirst), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				testRequestPastItsDeadline(t, writeFirst)
			})
		})
	}
}

func testRequestPastItsDeadline(t *testing.T, writeFirst bool) {
	var logs bytes.Buffer
	var lateWrite error
	returned := false
	h := withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if writeFirst {
			time.Sleep(100 * time.Millisecond) // fake time
			w.Header().Set("X-Early", "1")
			_, err := w.Write([]byte(`{"early":`))
			assert.NoError(t, err)
		}
		<-r.Context().Done()
		w.Header().Set("X-Late", "1")
		w.WriteHeader(http.StatusOK)
		_, lateWrite = w.Write([]byte(`{"late":true}`))
		returned = true
	}), 300*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))

	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/keys/api?projectId=secret-query", nil))

	assert.Equal(t, 300*time.Millisecond, time.Since(start), "answered at the deadline")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, `{"message":"Service Unavailable"}`, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"),
		"the client has the whole 503 while the server waits for the handler")
	assert.True(t, rec.Flushed, "the 503 is sent at once")
	assert.Equal(t, "close", rec.Header().Get("Connection"),
		"the next request does not wait for the handler on this connection")
	assert.Empty(t, rec.Header().Get("X-Early"), "the handler's unfinished answer is dropped")
	assert.Empty(t, rec.Header().Get("X-Late"), "the handler's header after the deadline is dropped")
	assert.True(t, returned, "ServeHTTP returns only once the handler has")
	assert.ErrorIs(t, lateWrite, http.ErrHandlerTimeout, "the handler learns that its write was dropped")
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "path=/keys/api")
	assert.NotContains(t, logs.String(), "secret-query", "the query, which may hold secrets, is not logged")
}

// TestRequestWithinItsDeadlineIsTheHandlersAnswer checks that the deadline
// changes nothing for a handler that answers in time: its status, headers
// and body reach the client as written, and its context carries the deadline
// that its store calls honour.
func TestRequestWithinItsDeadlineIsTheHandlersAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		start := time.Now()
		h := withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			deadline, ok := r.Context().Deadline()
			assert.True(t, ok && deadline.Equal(start.Add(300*time.Millisecond)), "deadline %v", deadline)
			time.Sleep(299 * time.Millisecond) // fake time: work that ends just in time
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, err := w.Write([]byte(`{"id":"key_1"}`))
			assert.NoError(t, err)
		}), 300*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/keys/api", nil))
		assert.Equal(t, http.StatusCreated, rec.Code)
		assert.Equal(t, `{"id":"key_1"}`, rec.Body.String())
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Empty(t, logs.String())

		rec = httptest.NewRecorder()
		withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}), time.Second, slog.New(slog.DiscardHandler)).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/auth/sign-out", nil))
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Empty(t, rec.Body.String())
	})
}

// TestRequestOfAClientGoneIsNotCut checks that a request whose client went
// away before the deadline is neither answered with a 503 nor logged as cut:
// the handler's context ends with the client's and the handler returns.
func TestRequestOfAClientGoneIsNotCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		h := withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			assert.ErrorIs(t, r.Context().Err(), context.Canceled)
		}), time.Second, slog.New(slog.NewTextHandler(&logs, nil)))

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/projects", nil).WithContext(ctx))
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Empty(t, rec.Body.String(), "nobody reads an answer")
		assert.False(t, rec.Flushed)
		assert.Empty(t, logs.String())
	})
}

// TestHandlerPanicReachesNetHTTP checks that a handler's panic is raised on
// ServeHTTP's goroutine, where net/http recovers it, instead of crashing the
// process from the handler's goroutine.
func TestHandlerPanicReachesNetHTTP(t *testing.T) {
	h := withDeadline(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}), time.Second, slog.New(slog.DiscardHandler))
	require.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/projects", nil))
	})
}
