package sessionauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

var errDiskOnFire = errors.New("injected fault: disk on fire")

// watch reports every call of ops when it starts, on entered, and what it
// returned, on returned. Watch an op before failing it, so that entered
// reports a call before the fault holds it.
func watch(w *storetest.Wrapper, ops ...storetest.Op) (entered <-chan storetest.Op, returned <-chan error) {
	in, out := make(chan storetest.Op, 64), make(chan error, 64)
	for _, op := range ops {
		w.On(op, storetest.Hook{
			Before: func(c *storetest.Call) error { in <- c.Op; return nil },
			After:  func(c *storetest.Call) { out <- c.Err },
		})
	}
	return in, out
}

// faultServer is a protected route over a real listener, on a memstore
// behind a storetest.Wrapper, with a clock and a log the test controls. The
// wrapped store hides the memstore's SessionLoader, so that the Manager
// reads through Get.
type faultServer struct {
	*httptest.Server
	m       *sessionauth.Manager
	store   *storetest.Wrapper
	clock   *sessionauthtest.Clock
	log     *logCapture
	handled atomic.Int32 // requests that reached the protected handler
}

func newFaultServer(t *testing.T) *faultServer {
	t.Helper()
	f := &faultServer{clock: newTestClock(), log: newLogCapture()}
	mem := memstore.New(memstore.Config{Now: f.clock.Now, SweepInterval: -1})
	f.store = storetest.Wrap(withoutLoader{mem, mem})
	m, err := sessionauth.New(sessionauth.Config{
		Store: f.store.Store(), IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute,
		Logger: f.log.logger(), Now: f.clock.Now,
	})
	require.NoError(t, err)
	f.m = m
	f.Server = httptest.NewServer(m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.handled.Add(1)
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(f.Close)
	return f
}

// sessions creates a session in each state a token can be in and returns
// their tokens by state name.
func (f *faultServer) sessions(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	create := func(user string) string {
		tok, _, err := f.m.Create(ctx, user, sessionauth.Metadata{})
		require.NoError(t, err)
		return tok
	}
	expired := create("erin")
	f.clock.Advance(31 * time.Minute)
	revoked := create("frank")
	s, err := f.m.Authenticate(ctx, revoked)
	require.NoError(t, err)
	require.NoError(t, f.m.Revoke(ctx, s))
	valid := create("grace")
	f.clock.Advance(5 * time.Minute) // so that using valid touches it
	return map[string]string{
		"valid":   valid,
		"revoked": revoked,
		"expired": expired,
		"unknown": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	}
}

// get sends GET /protected with token under ctx. It is safe to call from
// any goroutine.
func (f *faultServer) get(ctx context.Context, token string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", f.URL+"/protected", nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// TestStoreFaultsGiveTheDocumentedStatus runs every session state through
// every fault: a failing or timing-out read is 503 whatever the session, a
// failing write never fails a valid session (its touch is logged instead)
// and never lets an invalid one in. A store failure is never 401, and an
// invalid session is never 200.
func TestStoreFaultsGiveTheDocumentedStatus(t *testing.T) {
	readFails := map[string]int{"valid": 503, "revoked": 503, "expired": 503, "unknown": 503}
	writesFail := map[string]int{"valid": 200, "revoked": 401, "expired": 401, "unknown": 401}
	for _, tc := range []struct {
		name   string
		faults map[storetest.Op]error
		want   map[string]int
	}{
		{"no fault", nil, writesFail},
		{"reads fail", map[storetest.Op]error{storetest.OpGet: errDiskOnFire}, readFails},
		{"reads time out", map[storetest.Op]error{storetest.OpGet: context.DeadlineExceeded}, readFails},
		{"reads fail with a wrapped unavailable", map[storetest.Op]error{storetest.OpGet: sessionauth.ErrUnavailable}, readFails},
		{"writes fail", map[storetest.Op]error{storetest.OpPut: errDiskOnFire, storetest.OpTouch: errDiskOnFire,
			storetest.OpDelete: errDiskOnFire, storetest.OpDeleteUser: errDiskOnFire}, writesFail},
		{"writes time out", map[storetest.Op]error{storetest.OpTouch: context.DeadlineExceeded}, writesFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultServer(t)
			tokens := f.sessions(t)
			for op, err := range tc.faults {
				f.store.Fail(err, op)
			}
			for state, token := range tokens {
				resp, body, err := f.get(context.Background(), token)
				require.NoError(t, err)
				want := tc.want[state]
				assert.Equal(t, want, resp.StatusCode, state)
				switch want {
				case 200:
					assert.Equal(t, "ok", body, state)
				case 401:
					assert.Equal(t, sessionauth.BodyUnauthorized, body, state)
					assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				case 503:
					assert.Equal(t, sessionauth.BodyUnavailable, body, state)
					assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
					assert.Empty(t, resp.Header.Get("WWW-Authenticate"), "a store failure is not a challenge")
				}
				assert.NotContains(t, body, "disk on fire", "the cause never reaches the client")
			}
			assert.Equal(t, int32(countOf(tc.want, 200)), f.handled.Load(), "only valid sessions reach the handler")
			assertNoSecrets(t, f.log.String(), tokens["valid"], tokens["revoked"], tokens["expired"])
		})
	}
}

func countOf(m map[string]int, v int) int {
	n := 0
	for _, x := range m {
		if x == v {
			n++
		}
	}
	return n
}

// TestReadFailureIsLoggedWithTheRequest proves the 503 of a failing read
// leaves an Error line naming the request and the cause (which the client
// never sees).
func TestReadFailureIsLoggedWithTheRequest(t *testing.T) {
	f := newFaultServer(t)
	token := f.sessions(t)["valid"]
	f.store.Fail(errDiskOnFire, storetest.OpGet)
	resp, _, err := f.get(context.Background(), token)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	lines := f.log.find(t, "sessionauth: request failed")
	require.Len(t, lines, 1)
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, "GET", lines[0]["method"])
	assert.Equal(t, "/protected", lines[0]["path"])
	assert.Contains(t, lines[0]["error"], "disk on fire")
	assertNoSecrets(t, f.log.String(), token)
}

// TestFailedTouchStillServesAndWarns proves that when extending a valid
// session fails, the request it authenticated is served and the failure is
// logged as a warning naming the session, not the token.
func TestFailedTouchStillServesAndWarns(t *testing.T) {
	f := newFaultServer(t)
	token := f.sessions(t)["valid"]
	s, err := f.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	f.clock.Advance(5 * time.Minute)
	entered, _ := watch(f.store, storetest.OpTouch)
	f.store.Fail(errDiskOnFire, storetest.OpTouch)

	resp, body, err := f.get(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", body)
	require.Equal(t, storetest.OpTouch, <-entered, "the touch was attempted")

	lines := f.log.find(t, "sessionauth: extending session failed; the request goes on")
	require.Len(t, lines, 1)
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Equal(t, s.ID, lines[0]["session"])
	assert.Equal(t, "grace", lines[0]["user"])
	assert.Contains(t, lines[0]["error"], "disk on fire")
	assertNoSecrets(t, f.log.String(), token)
}

// TestWriteFailuresAreReportedNotSwallowed proves the write operations
// report a failing store to their caller as ErrUnavailable and leave the
// sessions as they were: a failed revoke leaves the session working (the
// caller knows it must retry) rather than pretending.
func TestWriteFailuresAreReportedNotSwallowed(t *testing.T) {
	f := newFaultServer(t)
	ctx := context.Background()
	token := f.sessions(t)["valid"]
	s, err := f.m.Authenticate(ctx, token)
	require.NoError(t, err)
	f.store.Fail(errDiskOnFire, writeOps...)

	_, _, err = f.m.Create(ctx, "heidi", sessionauth.Metadata{})
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	assert.ErrorIs(t, err, errDiskOnFire)
	assert.ErrorIs(t, f.m.Revoke(ctx, s), sessionauth.ErrUnavailable)
	_, err = f.m.RevokeUser(ctx, "grace", nil)
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	_, _, err = f.m.Rotate(ctx, s)
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)

	resp, _, err := f.get(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "nothing was revoked")
}

// TestRotateFailingLeavesOneLiveToken proves that rotation is one step of
// the store: when it fails, the old token still works and no new one exists,
// so a failure never leaves two live tokens nor signs the user out.
func TestRotateFailingLeavesOneLiveToken(t *testing.T) {
	f := newFaultServer(t)
	ctx := context.Background()
	token := f.sessions(t)["valid"]
	s, err := f.m.Authenticate(ctx, token)
	require.NoError(t, err)
	f.store.Fail(errDiskOnFire, storetest.OpRename)

	newToken, _, err := f.m.Rotate(ctx, s)
	require.ErrorIs(t, err, sessionauth.ErrUnavailable)
	assert.Empty(t, newToken)
	resp, _, err := f.get(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestCancelledRequestStopsItsStoreCall proves that a client going away
// while the store is slow cancels the store call through the request's
// context: the call returns context.Canceled and the handler never runs.
// The failure is logged at Info, since it is the client's doing.
func TestCancelledRequestStopsItsStoreCall(t *testing.T) {
	f := newFaultServer(t)
	token := f.sessions(t)["valid"]
	entered, returned := watch(f.store, storetest.OpGet)
	t.Cleanup(f.store.Hang(storetest.OpGet))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := f.get(ctx, token)
		done <- err
	}()
	require.Equal(t, storetest.OpGet, <-entered)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "the client gave up")
	assert.ErrorIs(t, <-returned, context.Canceled, "the store call saw the cancellation")
	f.Close() // waits for the server's handler to finish
	assert.Zero(t, f.handled.Load())

	lines := f.log.find(t, "sessionauth: request failed")
	require.Len(t, lines, 1)
	assert.Equal(t, "INFO", lines[0]["level"])
	assertNoSecrets(t, f.log.String(), token)
}

// TestStoreDeadlineIsServiceUnavailable proves that a store that does not
// answer before the request's deadline gives 503 when the deadline passes,
// not a hang, a 401 or a 200. It runs in a synctest bubble, so the two
// seconds pass on a fake clock.
func TestStoreDeadlineIsServiceUnavailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := memstore.New(memstore.Config{SweepInterval: -1})
		store := storetest.Wrap(withoutLoader{mem, mem})
		log := newLogCapture()
		m, err := sessionauth.New(sessionauth.Config{Store: store.Store(), Logger: log.logger()})
		require.NoError(t, err)
		token, _, err := m.Create(context.Background(), "ivan", sessionauth.Metadata{})
		require.NoError(t, err)
		_, returned := watch(store, storetest.OpGet)
		defer store.Hang(storetest.OpGet)()

		handled := false
		h := m.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { handled = true }))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, "GET", "/slow", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)

		assert.Equal(t, 2*time.Second, time.Since(start), "answered when the deadline passed")
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, sessionauth.BodyUnavailable, rec.Body.String())
		assert.False(t, handled)
		assert.ErrorIs(t, <-returned, context.DeadlineExceeded)
		lines := log.find(t, "sessionauth: request failed")
		require.Len(t, lines, 1)
		assert.Equal(t, "ERROR", lines[0]["level"])
		assert.True(t, strings.Contains(lines[0]["error"].(string), "deadline exceeded"))
		assertNoSecrets(t, log.String(), token)
	})
}

// TestSlowStoreDecidesOnlyWhenItAnswers proves that a slow store holds the
// request until it answers and then gives the right answer for each session:
// no timeout of the library's own turns slowness into 401 or 200.
func TestSlowStoreDecidesOnlyWhenItAnswers(t *testing.T) {
	f := newFaultServer(t)
	tokens := f.sessions(t)
	entered, _ := watch(f.store, storetest.OpGet)
	release := f.store.Hang(storetest.OpGet)
	t.Cleanup(release)

	type answer struct {
		state  string
		status int
	}
	answers := make(chan answer, len(tokens))
	for state, token := range tokens {
		go func() {
			resp, _, err := f.get(context.Background(), token)
			if err != nil {
				answers <- answer{state, 0}
				return
			}
			answers <- answer{state, resp.StatusCode}
		}()
	}
	for range tokens {
		<-entered
	}
	select {
	case a := <-answers:
		t.Fatalf("%s answered %d while the store was still working", a.state, a.status)
	default:
	}
	assert.Zero(t, f.handled.Load())

	release()
	got := map[string]int{}
	for range tokens {
		a := <-answers
		got[a.state] = a.status
	}
	assert.Equal(t, map[string]int{"valid": 200, "revoked": 401, "expired": 401, "unknown": 401}, got)
}
