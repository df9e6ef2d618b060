package storetest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionauth/sessionauth"
)

// BenchmarkRequest measures one authenticated GET through Manager.Require
// into a handler that reads the session, on a Manager with the package
// defaults over store: a read of the session per request, and a touch at
// most once per TouchInterval. Call it from a store's benchmark, in a b.Run
// named after the store so that results compare across stores. It fails b if
// a request is rejected.
func BenchmarkRequest(b *testing.B, store sessionauth.Store) {
	// Audit events are discarded: the benchmark measures requests, not the
	// log line of the session it creates.
	m, err := sessionauth.New(sessionauth.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := m.Create(b.Context(), "user-1", sessionauth.Metadata{})
	if err != nil {
		b.Fatal(err)
	}
	var failed bool
	h := m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionauth.FromContext(r.Context())
		if !ok || s.UserID != "user-1" {
			failed = true
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/projects", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
	if failed || w.code != 0 {
		b.Fatalf("request rejected with %d", w.code)
	}
}

// discardWriter is a ResponseWriter that costs nothing, so that the
// benchmark measures the middleware and the store, not a response recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
