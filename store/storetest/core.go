package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// The core: what any scs store does, and what the Manager needs of it.
func coreCases() []testCase {
	return []testCase{
		{"FindCommitDelete", 0, testFindCommitDelete},
		{"CommitOverwritesDataAndExpiryExactly", 0, testCommitOverwrites},
		{"CommitInThePastIsNotFound", 0, testCommitInThePast},
		{"DataRoundTripsByteForByte", 0, testDataRoundTrip},
		{"ExpiryBoundaryFind", needClock, testExpiryBoundaryFind},
		{"AllReturnsOnlyLiveRecords", needIterable, testAllOnlyLive},
	}
}

// api is one way to reach the scs methods of a store: the plain ones, or
// the Ctx ones of a CtxStore. The plain methods of a CtxStore are only
// called on a SessionStore (see env.plain).
type api struct {
	name   string
	find   func(ctx context.Context, key string) ([]byte, bool, error)
	commit func(ctx context.Context, key string, b []byte, expiry time.Time) error
	delete func(ctx context.Context, key string) error
}

func (e *env) apis() []api {
	s := e.store
	var apis []api
	if e.plain {
		apis = append(apis, api{
			name:   "plain",
			find:   func(_ context.Context, key string) ([]byte, bool, error) { return s.Find(key) },
			commit: func(_ context.Context, key string, b []byte, exp time.Time) error { return s.Commit(key, b, exp) },
			delete: func(_ context.Context, key string) error { return s.Delete(key) },
		})
	}
	if c := e.ctxStore; c != nil {
		apis = append(apis, api{name: "ctx", find: c.FindCtx, commit: c.CommitCtx, delete: c.DeleteCtx})
	}
	return apis
}

// keyKind is a shape of key a store is given: the Manager's hex SHA-256, or
// the token of an scs application.
type keyKind struct {
	name string
	new  func(t *testing.T) string
}

var keyKinds = []keyKind{
	{"sessionauth-key", newKey},
	{"scs-token", newToken},
}

// forEachAPIAndKey runs fn as a subtest for every api of the store and every
// kind of key.
func (e *env) forEachAPIAndKey(t *testing.T, fn func(t *testing.T, a api, newKey func(t *testing.T) string)) {
	for _, a := range e.apis() {
		for _, k := range keyKinds {
			t.Run(a.name+"/"+k.name, func(t *testing.T) { fn(t, a, k.new) })
		}
	}
}

func testFindCommitDelete(t *testing.T, e *env) {
	e.forEachAPIAndKey(t, func(t *testing.T, a api, newKey func(*testing.T) string) {
		ctx := t.Context()
		key, other := newKey(t), newKey(t)
		data := newData(t, 100)

		_, found, err := a.find(ctx, key)
		require.NoError(t, err)
		assert.False(t, found, "a key never committed is not found")

		require.NoError(t, a.commit(ctx, key, data, e.live()))
		require.NoError(t, a.commit(ctx, other, newData(t, 10), e.live()))
		got, found, err := a.find(ctx, key)
		require.NoError(t, err)
		assert.True(t, found, "a committed key is found")
		assert.Equal(t, data, got)

		require.NoError(t, a.delete(ctx, key))
		_, found, err = a.find(ctx, key)
		require.NoError(t, err)
		assert.False(t, found, "a deleted key is not found")
		_, found, err = a.find(ctx, other)
		require.NoError(t, err)
		assert.True(t, found, "deleting one key leaves the others")

		assert.NoError(t, a.delete(ctx, key), "deleting a missing key is not an error")
	})
}

func testCommitOverwrites(t *testing.T, e *env) {
	e.forEachAPIAndKey(t, func(t *testing.T, a api, newKey func(*testing.T) string) {
		ctx := t.Context()
		key := newKey(t)
		d1, d2 := newData(t, 50), newData(t, 60)
		shorter := e.now().Add(30 * time.Minute)

		require.NoError(t, a.commit(ctx, key, d1, e.now().Add(2*time.Hour)))
		require.NoError(t, a.commit(ctx, key, d2, shorter))
		got, found, err := a.find(ctx, key)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, d2, got, "Commit replaces the data")
		if e.full != nil {
			_, exp, found, err := e.full.Get(ctx, key)
			require.NoError(t, err)
			require.True(t, found)
			assertTime(t, "expiry after Commit", shorter, exp)
		}

		// Unlike Put, Commit sets the expiry exactly, even into the past:
		// scs expires a session this way.
		require.NoError(t, a.commit(ctx, key, d2, e.dead()))
		_, found, err = a.find(ctx, key)
		require.NoError(t, err)
		assert.False(t, found, "a Commit with a past expiry ends the record")
	})
}

func testCommitInThePast(t *testing.T, e *env) {
	e.forEachAPIAndKey(t, func(t *testing.T, a api, newKey func(*testing.T) string) {
		ctx := t.Context()
		key := newKey(t)
		require.NoError(t, a.commit(ctx, key, newData(t, 20), e.dead()))
		_, found, err := a.find(ctx, key)
		require.NoError(t, err)
		assert.False(t, found)
		if e.full != nil {
			// Get may return a record the store still holds after its
			// expiry, but with that expiry: never as a live one.
			_, exp, found, err := e.full.Get(ctx, key)
			require.NoError(t, err)
			if found {
				assert.False(t, exp.After(e.now()), "Get returned a record committed in the past as live")
			}
		}
	})
}

func testDataRoundTrip(t *testing.T, e *env) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"one byte", []byte{0}},
		{"every byte value", every},
		{"largest session record", newData(t, sessionauth.MaxRecordSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			key := newKey(t)
			e.commit(t, key, tt.data, e.live())
			got, found := e.find(t, key)
			require.True(t, found)
			assert.Equal(t, tt.data, got)

			if e.full != nil {
				key := newKey(t)
				require.NoError(t, e.full.Put(ctx, key, "alice", tt.data, e.live()))
				got, _, found, err := e.full.Get(ctx, key)
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, tt.data, got)
			}
		})
	}
}

// testExpiryBoundaryFind checks that a record is live strictly before its
// expiry and gone at the expiry instant, as the Manager's sessions are.
func testExpiryBoundaryFind(t *testing.T, e *env) {
	e.forEachAPIAndKey(t, func(t *testing.T, a api, newKey func(*testing.T) string) {
		ctx := t.Context()
		key := newKey(t)
		data := newData(t, 30)
		require.NoError(t, a.commit(ctx, key, data, e.now().Add(10*time.Second)))

		e.advance(10*time.Second - time.Millisecond)
		_, found, err := a.find(ctx, key)
		require.NoError(t, err)
		assert.True(t, found, "live a millisecond before the expiry")
		if e.iterable {
			assert.Contains(t, e.all(t), key, "All includes it a millisecond before the expiry")
		}

		e.advance(time.Millisecond)
		_, found, err = a.find(ctx, key)
		require.NoError(t, err)
		assert.False(t, found, "expired at the expiry instant")
		if e.iterable {
			assert.NotContains(t, e.all(t), key, "All excludes it at the expiry instant")
		}
	})
}

func testAllOnlyLive(t *testing.T, e *env) {
	empty := e.all(t)
	assert.NotNil(t, empty, "an empty store returns an empty map, not nil (scs.IterableStore)")
	assert.Empty(t, empty)

	want := make(map[string][]byte)
	for range 3 {
		key, data := newToken(t), newData(t, 40)
		e.commit(t, key, data, e.live())
		want[key] = data
	}
	if e.full != nil {
		key, data := newKey(t), newData(t, 40)
		require.NoError(t, e.full.Put(t.Context(), key, "alice", data, e.live()))
		want[key] = data
		require.NoError(t, e.full.Put(t.Context(), newKey(t), "alice", newData(t, 40), e.dead()))
	}
	for range 2 {
		e.commit(t, newToken(t), newData(t, 40), e.dead())
	}
	deleted := newToken(t)
	e.commit(t, deleted, newData(t, 40), e.live())
	e.del(t, deleted)

	assert.Equal(t, want, e.all(t), "All returns exactly the live records")
}
