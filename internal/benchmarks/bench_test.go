package benchmarks_test

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/alexedwards/scs/v2"
	scsmemstore "github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/access/memaccess"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

const (
	benchUser    = "user-1"
	benchProject = "project-1"
)

// BenchmarkRequest measures one authenticated GET per operation: a fresh
// httptest.ResponseRecorder, a prepared *http.Request carrying the credential,
// the middleware under test and a handler that reads the session and answers
// 204. Sub-benchmarks:
//
//   - bare: the same recorder and the same handler, without middleware; the
//     prepared request's context already carries the session. It is the
//     floor: every other figure minus this one is what authentication costs.
//   - floor: bare plus one SHA-256 of the credential and one Go map lookup
//     (floorMiddleware), the floor the issue set; the prepared request's
//     context already carries the session, as in bare.
//   - floor+copy: floor plus the request copy whose context carries the
//     session, which any middleware that hands a handler its session makes.
//     What it costs over bare, no middleware of this kind avoids; what
//     memstore costs over it is what the checks, the clock and the store
//     cost.
//   - memstore, sqlitestore: Manager.Require on the store.
//   - memstore+role: RequireRole(RoleDeveloper) on a memaccess.Access, alone
//     (it authenticates the request itself).
//   - scs: github.com/alexedwards/scs/v2 LoadAndSave on its memstore with
//     IdleTimeout set and the session in a cookie: the baseline users compare
//     with. The handler reads a string from the scs session.
//   - bare-parallel, memstore-parallel, sqlitestore-parallel: the same with
//     b.RunParallel, GOMAXPROCS goroutines sharing one session; bare-parallel
//     shows how far the machine and the allocator let a handler scale.
//
// The clock is the real one and the default TouchInterval (one minute) is
// far longer than a run, so these figures are of requests that do not write
// the store; BenchmarkTouchWrites counts the writes.
//
// redisstore and pgstore run the same request on the servers named by
// SESSIONAUTH_REDIS_URL and SESSIONAUTH_POSTGRES_URL, and are skipped when
// those are not set (scripts/test.sh sets them). This is the one request
// harness of the repository: a store benchmarks its request here, beside
// memstore and the floor.
func BenchmarkRequest(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		h, failures := sessionHandler()
		req := newRequest(b, "")
		req = req.WithContext(sessionauth.NewContext(req.Context(), &sessionauth.Session{UserID: benchUser}))
		runSerial(b, h, req, failures)
	})
	b.Run("bare-parallel", func(b *testing.B) {
		h, failures := sessionHandler()
		req := newRequest(b, "")
		req = req.WithContext(sessionauth.NewContext(req.Context(), &sessionauth.Session{UserID: benchUser}))
		runParallel(b, h, req, failures)
	})
	b.Run("floor", func(b *testing.B) {
		m, token := newMemstoreManager(b, nil)
		h, failures := sessionHandler()
		req := newRequest(b, token)
		req = req.WithContext(sessionauth.NewContext(req.Context(), &sessionauth.Session{UserID: benchUser}))
		runSerial(b, floorMiddleware(b, m, token, false, h), req, failures)
	})
	b.Run("floor+copy", func(b *testing.B) {
		m, token := newMemstoreManager(b, nil)
		h, failures := sessionHandler()
		runSerial(b, floorMiddleware(b, m, token, true, h), newRequest(b, token), failures)
	})
	b.Run("memstore", func(b *testing.B) {
		m, token := newMemstoreManager(b, nil)
		h, failures := sessionHandler()
		runSerial(b, m.Require(h), newRequest(b, token), failures)
	})
	b.Run("memstore+role", func(b *testing.B) {
		access := memaccess.New()
		must(b, access.AddOrganization("org-1", "Org"))
		must(b, access.AddProject(benchProject, "Project", "org-1"))
		must(b, access.SetProjectRole(benchProject, benchUser, sessionauth.RoleDeveloper))
		m, token := newMemstoreManager(b, access)
		h, failures := sessionHandler()
		req := newRequest(b, token)
		req.SetPathValue("projectID", benchProject)
		rr := m.RequireRole(sessionauth.RoleDeveloper, sessionauth.ProjectFromPath("projectID"))
		runSerial(b, rr(h), req, failures)
	})
	b.Run("memstore-parallel", func(b *testing.B) {
		m, token := newMemstoreManager(b, nil)
		h, failures := sessionHandler()
		runParallel(b, m.Require(h), newRequest(b, token), failures)
	})
	b.Run("sqlitestore", func(b *testing.B) {
		m, token := newSQLiteManager(b)
		h, failures := sessionHandler()
		runSerial(b, m.Require(h), newRequest(b, token), failures)
	})
	b.Run("sqlitestore-parallel", func(b *testing.B) {
		m, token := newSQLiteManager(b)
		h, failures := sessionHandler()
		runParallel(b, m.Require(h), newRequest(b, token), failures)
	})
	b.Run("scs", func(b *testing.B) {
		h, req, failures := newSCS(b)
		runSerial(b, h, req, failures)
	})
	b.Run("redisstore", func(b *testing.B) {
		m, token := newRedisManager(b)
		h, failures := sessionHandler()
		runSerial(b, m.Require(h), newRequest(b, token), failures)
	})
	b.Run("pgstore", func(b *testing.B) {
		m, token := newPostgresManager(b)
		h, failures := sessionHandler()
		runSerial(b, m.Require(h), newRequest(b, token), failures)
	})
}

// floorMiddleware is the floor the issue set for a request, "a bare handler
// plus one SHA-256 and one map lookup", as middleware: it takes the
// credential from the Authorization header, hashes it with SHA-256 and finds
// the session in a read-only Go map keyed by the hash. It checks neither the
// credential's syntax nor any expiry, takes no lock and writes nothing: it is
// not a usable middleware, only the least one does.
//
// With withCopy set, it also hands the handler what net/http requires of a
// middleware that passes a value on, a copy of the request whose context
// carries the session (context.WithValue and Request.WithContext). Without
// it, the handler gets the request unchanged, and finds the session only
// because the benchmark put it in the request's context beforehand, as bare
// does.
func floorMiddleware(b *testing.B, m *sessionauth.Manager, token string, withCopy bool, next http.Handler) http.Handler {
	s, err := m.Authenticate(context.Background(), token)
	must(b, err)
	sessions := map[[32]byte]*sessionauth.Session{sha256.Sum256([]byte(token)): s}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if len(h) < len("Bearer ") || len(h) > len("Bearer ")+64 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var buf [64]byte // the token, copied so that hashing it allocates nothing
		n := copy(buf[:], h[len("Bearer "):])
		s, ok := sessions[sha256.Sum256(buf[:n])]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if withCopy {
			r = r.WithContext(sessionauth.NewContext(r.Context(), s))
		}
		next.ServeHTTP(w, r)
	})
}

// sessionHandler is the handler of every sub-benchmark but scs: it reads the
// session and answers 204, counting the requests that came without the
// expected session.
func sessionHandler() (http.Handler, *atomic.Int64) {
	var failures atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionauth.FromContext(r.Context())
		if !ok || s.UserID != benchUser {
			failures.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), &failures
}

// newRequest is the prepared GET, with token as its bearer credential. Its
// context can be cancelled, as the context net/http.Server gives every
// request can: a store that honours cancellation pays for it here.
func newRequest(b *testing.B, token string) *http.Request {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/projects/"+benchProject, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func runSerial(b *testing.B, h http.Handler, req *http.Request, failures *atomic.Int64) {
	b.ReportAllocs()
	var rec *httptest.ResponseRecorder
	for b.Loop() {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
	if n := failures.Load(); n > 0 || rec.Code != http.StatusNoContent {
		b.Fatalf("%d requests without the session; last status %d", n, rec.Code)
	}
}

func runParallel(b *testing.B, h http.Handler, req *http.Request, failures *atomic.Int64) {
	b.ReportAllocs()
	var rejected atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				rejected.Add(1)
			}
		}
	})
	if n, r := failures.Load(), rejected.Load(); n > 0 || r > 0 {
		b.Fatalf("%d requests without the session, %d rejected", n, r)
	}
}

// newMemstoreManager returns a Manager on a fresh memstore and the token of
// one session of benchUser.
func newMemstoreManager(b *testing.B, access sessionauth.AccessResolver) (*sessionauth.Manager, string) {
	store := memstore.New(memstore.Config{})
	b.Cleanup(func() { _ = store.Close() })
	return newManager(b, sessionauth.Config{Store: store, Access: access})
}

// newSQLiteManager returns a Manager on a fresh SQLite file (WAL, as New
// opens it) and the token of one session of benchUser, read once so that
// the benchmark starts warm.
func newSQLiteManager(b *testing.B) (*sessionauth.Manager, string) {
	store, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "sessions.db"), sqlitestore.Config{})
	must(b, err)
	b.Cleanup(func() { _ = store.Close() })
	m, token := newManager(b, sessionauth.Config{Store: store})
	_, err = m.Authenticate(context.Background(), token)
	must(b, err)
	return m, token
}

// newManager returns a Manager for cfg and the token of one session of
// benchUser. Audit events are discarded: a benchmark that creates sessions
// would measure its log otherwise.
func newManager(b *testing.B, cfg sessionauth.Config) (*sessionauth.Manager, string) {
	cfg.Logger = discardLogger
	m, err := sessionauth.New(cfg)
	must(b, err)
	token, _, err := m.Create(context.Background(), benchUser, benchMetadata)
	must(b, err)
	return m, token
}

var discardLogger = slog.New(slog.DiscardHandler)

// benchMetadata is what a session created by a command-line client carries.
var benchMetadata = sessionauth.Metadata{IP: "192.0.2.10", UserAgent: "curl/8.5.0"}

// newSCS returns LoadAndSave on an scs SessionManager with its memstore and
// IdleTimeout set, a handler reading the user from the scs session, and a
// request carrying the cookie of a session that holds it.
func newSCS(b *testing.B) (http.Handler, *http.Request, *atomic.Int64) {
	// No cleanup goroutine: it would not tick within a run, and scs's
	// StopCleanup races with its start (go test -race reports it).
	store := scsmemstore.NewWithCleanupInterval(0)
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = sessionauth.DefaultIdleTimeout
	sm.Lifetime = sessionauth.DefaultLifetime

	signIn := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "userID", benchUser)
	}))
	rec := httptest.NewRecorder()
	signIn.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/auth/sign-in", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		b.Fatalf("scs sign-in set %d cookies", len(cookies))
	}

	var failures atomic.Int64
	h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sm.GetString(r.Context(), "userID") != benchUser {
			failures.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := newRequest(b, "")
	req.AddCookie(cookies[0])
	return h, req, &failures
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
