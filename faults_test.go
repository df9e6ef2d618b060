package sessionauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/sessionauthtest"
	"github.com/sessionauth/sessionauth/store/memstore"
)

var errDiskOnFire = errors.New("injected fault: disk on fire")

// fault is what a faultStore does instead of, or before, a store call.
type fault struct {
	err   error         // fail with err without calling the store
	block bool          // wait for the call's context to end, fail with ctx.Err()
	gate  chan struct{} // wait until gate is closed (or the context ends), then call the store
}

// faultStore wraps a real store and injects faults per operation. It is a
// sessionauth.SessionStore by delegation, and deliberately not a
// SessionLoader, so that the Manager reads through Get, where faults are.
//
// entered receives the operation of every call that meets a fault, when it
// starts; returned receives what such a call returned, when it does.
type faultStore struct {
	sessionauth.SessionStore

	mu       sync.Mutex
	faults   map[string]fault
	entered  chan string
	returned chan error
}

var _ sessionauth.SessionStore = (*faultStore)(nil)

func newFaultStore(inner sessionauth.SessionStore) *faultStore {
	return &faultStore{
		SessionStore: inner,
		faults:       map[string]fault{},
		entered:      make(chan string, 64),
		returned:     make(chan error, 64),
	}
}

// writeOps are the operations that change the store.
var writeOps = []string{"put", "update", "touch", "rename", "delete", "deleteUser"}

func (f *faultStore) set(op string, ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = ft
}

func (f *faultStore) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.faults)
}

// inject applies the fault of op, if any: a non-nil error fails the call.
func (f *faultStore) inject(ctx context.Context, op string) error {
	f.mu.Lock()
	ft, ok := f.faults[op]
	f.mu.Unlock()
	if !ok {
		return nil
	}
	f.entered <- op
	var err error
	switch {
	case ft.err != nil:
		err = ft.err
	case ft.block:
		<-ctx.Done()
		err = ctx.Err()
	case ft.gate != nil:
		select {
		case <-ft.gate:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	f.returned <- err
	return err
}

func (f *faultStore) Get(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	if err := f.inject(ctx, "get"); err != nil {
		return nil, time.Time{}, false, err
	}
	return f.SessionStore.Get(ctx, key)
}

func (f *faultStore) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	if err := f.inject(ctx, "put"); err != nil {
		return err
	}
	return f.SessionStore.Put(ctx, key, userID, data, expiry)
}

func (f *faultStore) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := f.inject(ctx, "touch"); err != nil {
		return err
	}
	return f.SessionStore.Touch(ctx, key, expiry)
}

func (f *faultStore) Update(ctx context.Context, key string, data []byte, expiry time.Time) (bool, error) {
	if err := f.inject(ctx, "update"); err != nil {
		return false, err
	}
	return f.SessionStore.Update(ctx, key, data, expiry)
}

func (f *faultStore) Rename(ctx context.Context, oldKey, newKey string) (bool, error) {
	if err := f.inject(ctx, "rename"); err != nil {
		return false, err
	}
	return f.SessionStore.Rename(ctx, oldKey, newKey)
}

func (f *faultStore) DeleteCtx(ctx context.Context, key string) error {
	if err := f.inject(ctx, "delete"); err != nil {
		return err
	}
	return f.SessionStore.DeleteCtx(ctx, key)
}

func (f *faultStore) ListUser(ctx context.Context, userID string) ([]sessionauth.Record, error) {
	if err := f.inject(ctx, "listUser"); err != nil {
		return nil, err
	}
	return f.SessionStore.ListUser(ctx, userID)
}

func (f *faultStore) DeleteUser(ctx context.Context, userID, except string) (int, error) {
	if err := f.inject(ctx, "deleteUser"); err != nil {
		return 0, err
	}
	return f.SessionStore.DeleteUser(ctx, userID, except)
}

// faultServer is a protected route over a real listener, on a memstore
// behind a faultStore, with a clock and a log the test controls.
type faultServer struct {
	*httptest.Server
	m       *sessionauth.Manager
	store   *faultStore
	clock   *sessionauthtest.Clock
	log     *logCapture
	handled atomic.Int32 // requests that reached the protected handler
}

func newFaultServer(t *testing.T) *faultServer {
	t.Helper()
	f := &faultServer{clock: newTestClock(), log: newLogCapture()}
	mem := memstore.New(memstore.Config{Now: f.clock.Now, SweepInterval: -1})
	f.store = newFaultStore(mem)
	m, err := sessionauth.New(sessionauth.Config{
		Store: f.store, IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute,
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
		faults map[string]fault
		want   map[string]int
	}{
		{"no fault", nil, writesFail},
		{"reads fail", map[string]fault{"get": {err: errDiskOnFire}}, readFails},
		{"reads time out", map[string]fault{"get": {err: context.DeadlineExceeded}}, readFails},
		{"reads fail with a wrapped unavailable", map[string]fault{"get": {err: sessionauth.ErrUnavailable}}, readFails},
		{"writes fail", map[string]fault{"put": {err: errDiskOnFire}, "touch": {err: errDiskOnFire},
			"delete": {err: errDiskOnFire}, "deleteUser": {err: errDiskOnFire}}, writesFail},
		{"writes time out", map[string]fault{"touch": {err: context.DeadlineExceeded}}, writesFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultServer(t)
			tokens := f.sessions(t)
			for op, ft := range tc.faults {
				f.store.set(op, ft)
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
	f.store.set("get", fault{err: errDiskOnFire})
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
	f.store.set("touch", fault{err: errDiskOnFire})

	resp, body, err := f.get(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", body)
	require.Equal(t, "touch", <-f.store.entered, "the touch was attempted")

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
	for _, op := range writeOps {
		f.store.set(op, fault{err: errDiskOnFire})
	}

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
	f.store.set("rename", fault{err: errDiskOnFire})

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
	f.store.set("get", fault{block: true})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := f.get(ctx, token)
		done <- err
	}()
	require.Equal(t, "get", <-f.store.entered)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "the client gave up")
	assert.ErrorIs(t, <-f.store.returned, context.Canceled, "the store call saw the cancellation")
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
		store := newFaultStore(memstore.New(memstore.Config{SweepInterval: -1}))
		log := newLogCapture()
		m, err := sessionauth.New(sessionauth.Config{Store: store, Logger: log.logger()})
		require.NoError(t, err)
		token, _, err := m.Create(context.Background(), "ivan", sessionauth.Metadata{})
		require.NoError(t, err)
		store.set("get", fault{block: true})

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
		assert.ErrorIs(t, <-store.returned, context.DeadlineExceeded)
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
	gate := make(chan struct{})
	f.store.set("get", fault{gate: gate})

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
		<-f.store.entered
	}
	select {
	case a := <-answers:
		t.Fatalf("%s answered %d while the store was still working", a.state, a.status)
	default:
	}
	assert.Zero(t, f.handled.Load())

	close(gate)
	got := map[string]int{}
	for range tokens {
		a := <-answers
		got[a.state] = a.status
	}
	assert.Equal(t, map[string]int{"valid": 200, "revoked": 401, "expired": 401, "unknown": 401}, got)
}
