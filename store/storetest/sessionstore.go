package storetest

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// The SessionStore contract: what makes the Manager's writes safe under
// concurrency and its listing and revocation per user fast.
func sessionStoreCases() []testCase {
	return []testCase{
		{"GetReturnsDataAndExpiry", needFull, testGet},
		{"PutNeverShortensALiveRecord", needFull, testPutNeverShortens},
		{"PutOverAnExpiredRecordTakesTheGivenExpiry", needFull | needClock, testPutOverExpired},
		{"PutMovesTheRecordToItsNewUser", needFull, testPutMovesUser},
		{"CommitTakesTheRecordFromItsUser", needFull, testCommitUnowns},
		{"TouchOnlyMovesExpiryForward", needFull, testTouchForwardOnly},
		{"TouchOfMissingOrExpiredIsANoop", needFull, testTouchMissingOrExpired},
		{"ExpiryBoundarySessionStore", needFull | needClock, testExpiryBoundaryFull},
		{"ExpiryKeepsNanoseconds", needFull | needClock | needNanos, testExpiryNanoseconds},
		{"ListUserReturnsTheLiveRecordsOfOneUser", needFull, testListUser},
		{"DeleteUserDeletesAllButExceptAndCountsLive", needFull, testDeleteUser},
		{"DeleteRemovesFromTheUserIndex", needFull, testDeleteUnindexes},
		{"ConcurrentTouchAndPutLoseNothing", needFull, testConcurrentTouchPut},
		{"ConcurrentTouchNeverResurrectsADeletedRecord", needFull, testConcurrentTouchDelete},
	}
}

// get reads key through Get and fails the test on an error.
func (e *env) get(t *testing.T, key string) (data []byte, expiry time.Time, found bool) {
	t.Helper()
	data, expiry, found, err := e.full.Get(t.Context(), key)
	require.NoError(t, err)
	return data, expiry, found
}

// assertNotLive checks that Get gives no live record for key: none, or one
// the store still holds after its expiry, with that expiry (the SessionStore
// contract lets Get return it, so that the Manager can refuse and delete it).
func (e *env) assertNotLive(t *testing.T, key string, expiry time.Time, msg string) {
	t.Helper()
	_, got, found := e.get(t, key)
	if found {
		assertTime(t, msg+": the expiry of the held expired record", expiry, got)
		assert.False(t, got.After(e.now()), msg)
	}
}

func testGet(t *testing.T, e *env) {
	ctx := t.Context()
	key, data, exp := newKey(t), newData(t, 120), e.live()
	_, _, found := e.get(t, key)
	assert.False(t, found, "a missing key is not found")

	require.NoError(t, e.full.Put(ctx, key, "alice", data, exp))
	got, gotExp, found := e.get(t, key)
	require.True(t, found)
	assert.Equal(t, data, got)
	assertTime(t, "expiry", exp, gotExp)

	b, found := e.find(t, key)
	assert.True(t, found, "a record written by Put is found through scs Find")
	assert.Equal(t, data, b)
}

func testPutNeverShortens(t *testing.T, e *env) {
	ctx := t.Context()
	key := newKey(t)
	later, sooner := e.now().Add(2*time.Hour), e.now().Add(time.Hour)
	d1, d2, d3 := newData(t, 30), newData(t, 31), newData(t, 32)

	require.NoError(t, e.full.Put(ctx, key, "alice", d1, later))
	require.NoError(t, e.full.Put(ctx, key, "alice", d2, sooner))
	got, exp, found := e.get(t, key)
	require.True(t, found)
	assert.Equal(t, d2, got, "Put replaces the data")
	assertTime(t, "expiry after a Put with an earlier expiry", later, exp)

	evenLater := e.now().Add(3 * time.Hour)
	require.NoError(t, e.full.Put(ctx, key, "alice", d3, evenLater))
	got, exp, found = e.get(t, key)
	require.True(t, found)
	assert.Equal(t, d3, got)
	assertTime(t, "expiry after a Put with a later expiry", evenLater, exp)
}

func testPutOverExpired(t *testing.T, e *env) {
	ctx := t.Context()
	key := newKey(t)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), e.now().Add(time.Hour)))
	e.advance(2 * time.Hour)

	// A store that only updated live records, or kept the expired one,
	// would leave the new session dead on arrival.
	data, exp := newData(t, 30), e.now().Add(30*time.Minute)
	require.NoError(t, e.full.Put(ctx, key, "alice", data, exp))
	got, gotExp, found := e.get(t, key)
	require.True(t, found, "a Put over an expired record makes it live")
	assert.Equal(t, data, got)
	assertTime(t, "expiry", exp, gotExp)
}

func testPutMovesUser(t *testing.T, e *env) {
	ctx := t.Context()
	key := newKey(t)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), e.live()))
	require.NoError(t, e.full.Put(ctx, key, "bob", newData(t, 30), e.live()))

	alice, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, alice, "the record left its old user")
	bob, err := e.full.ListUser(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, []string{key}, recordKeys(bob))

	n, err := e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Zero(t, n, "deleting the old user's records does not reach it")
	_, _, found := e.get(t, key)
	assert.True(t, found)
}

// testCommitUnowns checks that a record rewritten through scs's Commit (an
// scs-level migration, or an scs application sharing the store) belongs to no
// user any more: the Manager can no longer list or revoke it as a session.
func testCommitUnowns(t *testing.T, e *env) {
	ctx := t.Context()
	key, data := newKey(t), newData(t, 30)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), e.live()))
	e.commit(t, key, data, e.live())

	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list, "a record rewritten through scs belongs to no user")
	n, err := e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Zero(t, n)
	got, _, found := e.get(t, key)
	require.True(t, found, "deleting the old user's records does not reach it")
	assert.Equal(t, data, got)
}

func testTouchForwardOnly(t *testing.T, e *env) {
	tests := []struct {
		name  string
		by    time.Duration // the touch's expiry relative to the stored one
		moves bool
	}{
		{"an earlier expiry leaves it", -time.Hour, false},
		{"a millisecond earlier leaves it", -time.Millisecond, false},
		{"the same expiry leaves it", 0, false},
		{"a millisecond later moves it", time.Millisecond, true},
		{"a later expiry moves it", time.Hour, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			key, data, exp, user := newKey(t), newData(t, 50), e.live(), "user"+strconv.Itoa(i)
			require.NoError(t, e.full.Put(ctx, key, user, data, exp))

			require.NoError(t, e.full.Touch(ctx, key, exp.Add(tt.by)))
			got, gotExp, found := e.get(t, key)
			require.True(t, found)
			assert.Equal(t, data, got, "Touch never changes the data")
			want := exp
			if tt.moves {
				want = exp.Add(tt.by)
			}
			assertTime(t, "expiry after Touch", want, gotExp)

			list, err := e.full.ListUser(ctx, user)
			require.NoError(t, err)
			assert.Equal(t, []string{key}, recordKeys(list), "Touch keeps the user index")
		})
	}
}

func testTouchMissingOrExpired(t *testing.T, e *env) {
	ctx := t.Context()
	missing := newKey(t)
	require.NoError(t, e.full.Touch(ctx, missing, e.live()))
	_, _, found := e.get(t, missing)
	assert.False(t, found, "Touch does not create a record")

	expired, dead := newKey(t), e.dead()
	require.NoError(t, e.full.Put(ctx, expired, "alice", newData(t, 30), dead))
	require.NoError(t, e.full.Touch(ctx, expired, e.live()))
	e.assertNotLive(t, expired, dead, "Touch does not revive an expired record")
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}

// testExpiryBoundaryFull is testExpiryBoundaryFind for the SessionStore
// methods: at the expiry instant a record is gone for every one of them.
func testExpiryBoundaryFull(t *testing.T, e *env) {
	ctx := t.Context()
	key, exp := newKey(t), e.now().Add(10*time.Second)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), exp))

	e.advance(10*time.Second - time.Millisecond)
	_, _, found := e.get(t, key)
	assert.True(t, found, "Get: live a millisecond before the expiry")
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, list, 1, "ListUser: live a millisecond before the expiry")

	e.advance(time.Millisecond)
	e.assertNotLive(t, key, exp, "Get: expired at the expiry instant")
	list, err = e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list, "ListUser: expired at the expiry instant")

	// A touch arriving at the expiry instant is too late.
	require.NoError(t, e.full.Touch(ctx, key, e.now().Add(time.Hour)))
	e.assertNotLive(t, key, exp, "Touch at the expiry instant does not revive the record")

	n, err := e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Zero(t, n, "DeleteUser does not count a record expired at the instant")
}

func testListUser(t *testing.T, e *env) {
	ctx := t.Context()
	want := make(map[string]sessionauth.Record)
	for i := range 3 {
		r := sessionauth.Record{Key: newKey(t), Data: newData(t, 40+i), Expiry: e.now().Add(time.Duration(i+1) * time.Hour)}
		require.NoError(t, e.full.Put(ctx, r.Key, "alice", r.Data, r.Expiry))
		want[r.Key] = r
	}
	require.NoError(t, e.full.Put(ctx, newKey(t), "alice", newData(t, 40), e.dead()))
	require.NoError(t, e.full.Put(ctx, newKey(t), "bob", newData(t, 40), e.live()))
	e.commit(t, newKey(t), newData(t, 40), e.live()) // an scs record: nobody's

	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, len(want), "exactly alice's live records")
	for _, r := range list {
		w, ok := want[r.Key]
		if !assert.True(t, ok, "ListUser returned a record that is not one of alice's live ones") {
			continue
		}
		assert.Equal(t, w.Data, r.Data)
		assertTime(t, "expiry", w.Expiry, r.Expiry)
	}

	none, err := e.full.ListUser(ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func testDeleteUser(t *testing.T, e *env) {
	ctx := t.Context()
	put := func(user string, exp time.Time) string {
		key := newKey(t)
		require.NoError(t, e.full.Put(ctx, key, user, newData(t, 30), exp))
		return key
	}
	keep, a2, a3 := put("alice", e.live()), put("alice", e.live()), put("alice", e.live())
	put("alice", e.dead())
	bob := put("bob", e.live())

	n, err := e.full.DeleteUser(ctx, "alice", keep)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "counts the live records it deleted, not the expired one")
	for _, key := range []string{a2, a3} {
		_, _, found := e.get(t, key)
		assert.False(t, found, "alice's other records are gone")
	}
	_, _, found := e.get(t, keep)
	assert.True(t, found, "the excepted record stays")
	_, _, found = e.get(t, bob)
	assert.True(t, found, "another user's record stays")
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{keep}, recordKeys(list))

	n, err = e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "with no exception every record goes")
	_, _, found = e.get(t, keep)
	assert.False(t, found)

	n, err = e.full.DeleteUser(ctx, "nobody", "")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func testDeleteUnindexes(t *testing.T, e *env) {
	ctx := t.Context()
	key, other := newKey(t), newKey(t)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), e.live()))
	require.NoError(t, e.full.Put(ctx, other, "alice", newData(t, 30), e.live()))
	e.del(t, key)

	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{other}, recordKeys(list))
	n, err := e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a deleted record is not counted again")
}

// testConcurrentTouchPut races touches of a record against a writer that
// replaces its data: the last data written survives (a touch never writes
// data) and the expiry ends at the latest one asked for (neither ever moves
// it back).
func testConcurrentTouchPut(t *testing.T, e *env) {
	ctx := t.Context()
	const writes, touchers, touches = 50, 3, 50
	key, base := newKey(t), e.live()
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), base))

	data := make([][]byte, writes)
	for i := range data {
		data[i] = newData(t, 30)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, data := range data {
			// Put expiries stay below the touches': a Put that overwrote
			// a touched expiry would show as an expiry below the maximum.
			if err := e.full.Put(ctx, key, "alice", data, base.Add(time.Duration(i)*time.Millisecond)); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	})
	for g := range touchers {
		wg.Go(func() {
			for i := range touches {
				exp := base.Add(time.Duration(1+g+i*touchers) * time.Second)
				if err := e.full.Touch(ctx, key, exp); err != nil {
					t.Errorf("Touch: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	got, exp, found := e.get(t, key)
	require.True(t, found)
	assert.Equal(t, data[writes-1], got, "the data of the last Put survives every touch")
	assertTime(t, "expiry", base.Add(time.Duration(touchers*touches)*time.Second), exp)
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []string{key}, recordKeys(list))
}

// testConcurrentTouchDelete races touches against a delete: once Delete has
// returned, no touch may bring the record back.
func testConcurrentTouchDelete(t *testing.T, e *env) {
	ctx := t.Context()
	for range 20 {
		key := newKey(t)
		require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), e.live()))
		var deleted atomic.Bool
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() {
				exp, after := e.live(), 0
				for i := 1; after < 5; i++ {
					// Every toucher goes on for a few touches that start
					// after Delete has returned.
					if deleted.Load() {
						after++
					}
					if err := e.full.Touch(ctx, key, exp.Add(time.Duration(i*2+g)*time.Millisecond)); err != nil {
						t.Errorf("Touch: %v", err)
						return
					}
				}
			})
		}
		e.del(t, key)
		deleted.Store(true)
		wg.Wait()
		_, _, found := e.get(t, key)
		require.False(t, found, "a touch brought a deleted record back")
		list, err := e.full.ListUser(ctx, "alice")
		require.NoError(t, err)
		require.Empty(t, list)
	}
}

func recordKeys(rs []sessionauth.Record) []string {
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.Key
	}
	slices.Sort(keys)
	return keys
}

// testExpiryNanoseconds is testGet and testExpiryBoundaryFull at the
// resolution of a time.Time, for the stores that keep it.
func testExpiryNanoseconds(t *testing.T, e *env) {
	ctx := t.Context()
	key, exp := newKey(t), e.now().Add(30*time.Minute+123*time.Nanosecond)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), exp))
	_, got, found := e.get(t, key)
	require.True(t, found)
	assertTime(t, "expiry read back", exp, got)

	key, exp = newKey(t), e.now().Add(time.Minute)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), exp))
	e.advance(time.Minute - time.Nanosecond)
	_, _, found = e.get(t, key)
	assert.True(t, found, "Get: live a nanosecond before the expiry")
	_, found = e.find(t, key)
	assert.True(t, found, "Find: live a nanosecond before the expiry")

	e.advance(time.Nanosecond)
	e.assertNotLive(t, key, exp, "Get: expired at the expiry instant")
	_, found = e.find(t, key)
	assert.False(t, found, "Find: expired at the expiry instant")
}
