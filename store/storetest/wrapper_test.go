package storetest_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	scsmem "github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// ctxOnly is a store with only the Ctx forms working, as scs's goredisstore.
type ctxOnly struct{ *scsmem.MemStore }

func (s ctxOnly) Find(string) ([]byte, bool, error)      { panic("plain Find") }
func (s ctxOnly) Commit(string, []byte, time.Time) error { panic("plain Commit") }
func (s ctxOnly) Delete(string) error                    { panic("plain Delete") }
func (s ctxOnly) FindCtx(_ context.Context, k string) ([]byte, bool, error) {
	return s.MemStore.Find(k)
}
func (s ctxOnly) CommitCtx(_ context.Context, k string, b []byte, e time.Time) error {
	return s.MemStore.Commit(k, b, e)
}
func (s ctxOnly) DeleteCtx(_ context.Context, k string) error { return s.MemStore.Delete(k) }
func (s ctxOnly) AllCtx(context.Context) (map[string][]byte, error) {
	return s.MemStore.All()
}

var _ sessionauth.CtxStore = ctxOnly{}

func TestWrapperImplementsExactlyTheInterfacesOfTheStore(t *testing.T) {
	ifaces := map[string]reflect.Type{
		"CtxStore":         reflect.TypeFor[sessionauth.CtxStore](),
		"SessionStore":     reflect.TypeFor[sessionauth.SessionStore](),
		"IterableStore":    reflect.TypeFor[sessionauth.IterableStore](),
		"IterableCtxStore": reflect.TypeFor[sessionauth.IterableCtxStore](),
		"SessionLoader":    reflect.TypeFor[sessionauth.SessionLoader](),
		"CheckedStore":     reflect.TypeFor[sessionauth.CheckedStore](),
	}
	stores := map[string]sessionauth.Store{
		"scs memstore":         scsmem.NewWithCleanupInterval(0),
		"ctx only":             ctxOnly{scsmem.NewWithCleanupInterval(0)},
		"sessionauth memstore": memstore.New(memstore.Config{}),
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			w := storetest.Wrap(s).Store()
			for iname, it := range ifaces {
				assert.Equal(t, reflect.TypeOf(s).Implements(it), reflect.TypeOf(w).Implements(it), iname)
			}
			_, nb := w.(sessionauth.NonBlockingStore)
			assert.False(t, nb, "a wrapper, which can hang, never claims NonBlockingStore")
		})
	}
}

func TestWrapperFailCountsAndRemoves(t *testing.T) {
	ctx := t.Context()
	w := storetest.Wrap(memstore.New(memstore.Config{}))
	full := w.Store().(sessionauth.SessionStore)
	boom := errors.New("boom")
	remove := w.Fail(boom, storetest.OpPut)
	err := full.Put(ctx, "k", "alice", []byte("x"), time.Now().Add(time.Hour))
	assert.ErrorIs(t, err, boom)
	_, _, found, err := full.Get(ctx, "k")
	require.NoError(t, err)
	assert.False(t, found, "a failed call does not reach the store")
	remove()
	require.NoError(t, full.Put(ctx, "k", "alice", []byte("x"), time.Now().Add(time.Hour)))
	require.NoError(t, full.CommitCtx(ctx, "j", []byte("y"), time.Now().Add(time.Hour)))
	assert.Equal(t, 2, w.Calls(storetest.OpPut), "failed calls count")
	assert.Equal(t, 1, w.Calls(storetest.OpGet))
	assert.Equal(t, 3, w.Writes())
}

func TestWrapperHangIsAnOutageWithinTheStoreTimeout(t *testing.T) {
	w := storetest.Wrap(memstore.New(memstore.Config{}))
	m, err := sessionauth.New(sessionauth.Config{Store: w.Store(), StoreTimeout: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	token, _, err := m.Create(t.Context(), "alice", sessionauth.Metadata{})
	require.NoError(t, err)

	release := w.Hang(storetest.OpGet, storetest.OpLoadSession)
	t.Cleanup(release)
	_, err = m.Authenticate(t.Context(), token)
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	release()
	_, err = m.Authenticate(t.Context(), token)
	assert.NoError(t, err, "released, the store answers again")
}

func TestWrapperCorruptRecordIsNoSession(t *testing.T) {
	for _, inner := range []sessionauth.Store{memstore.New(memstore.Config{}), scsmem.NewWithCleanupInterval(0)} {
		w := storetest.Wrap(inner)
		m, err := sessionauth.New(sessionauth.Config{Store: w.Store(), Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		token, _, err := m.Create(t.Context(), "alice", sessionauth.Metadata{})
		require.NoError(t, err)
		remove := w.Corrupt(func(b []byte) []byte { return b[:len(b)/2] },
			storetest.OpFind, storetest.OpGet, storetest.OpLoadSession)
		_, err = m.Authenticate(t.Context(), token)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession, "%T: a corrupt record is no session", inner)
		remove()
		_, err = m.Authenticate(t.Context(), token)
		assert.NoError(t, err)
	}
}

// TestCtxOnlyStore runs the suite on a store whose plain scs methods panic:
// the suite, like the Manager, calls the Ctx forms of a store that has them.
func TestCtxOnlyStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ *storetest.Clock) storetest.Harness {
		return storetest.Harness{Store: ctxOnly{scsmem.NewWithCleanupInterval(0)}, WallClock: true}
	})
}

// TestConformanceThroughWrapper runs the suite on a wrapped memstore with no
// hook: a Wrapper changes nothing a store does.
func TestConformanceThroughWrapper(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		s := memstore.New(memstore.Config{Now: clock.Now, SweepInterval: time.Hour})
		w := storetest.Wrap(s).Store()
		return storetest.Harness{
			Store:       w,
			Sweep:       s.Sweep,
			Close:       s.Close,
			Nanoseconds: true,
			Peer:        func(*testing.T, *storetest.Clock) storetest.Harness { return storetest.Harness{Store: w} },
		}
	})
}
