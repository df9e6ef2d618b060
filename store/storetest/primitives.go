package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// The writes that follow a read (Update, Rename) and the reads that must
// show an expired record to the Manager (Get): what makes a revocation hold
// against every write in flight.
func primitiveCases() []testCase {
	return []testCase{
		{"UpdateNeverCreates", needFull, testUpdateNeverCreates},
		{"UpdateReplacesDataKeepsTheLaterExpiryAndTheUser", needFull, testUpdateKeeps},
		{"RenameMovesDataExpiryAndUser", needFull, testRenameMoves},
		{"RenameOfAMissingOrExpiredKeyChangesNothing", needFull, testRenameMissing},
		{"UpdateAndRenameAtTheExpiryInstantAreTooLate", needFull | needClock, testWritesAtExpiryInstant},
		{"GetReturnsAHeldExpiredRecordWithItsExpiry", needFull | needClock, testGetHeldExpired},
		{"DeleteUserIsAtomicWithRename", needFull, testDeleteUserAtomicWithRename},
	}
}

func testUpdateNeverCreates(t *testing.T, e *env) {
	ctx := t.Context()
	missing := newKey(t)
	updated, err := e.full.Update(ctx, missing, newData(t, 30), e.live())
	require.NoError(t, err)
	assert.False(t, updated, "Update of a missing key")
	_, _, found := e.get(t, missing)
	assert.False(t, found, "Update created a record")

	expired, dead, data := newKey(t), e.dead(), newData(t, 30)
	require.NoError(t, e.full.Put(ctx, expired, "alice", data, dead))
	updated, err = e.full.Update(ctx, expired, newData(t, 30), e.live())
	require.NoError(t, err)
	assert.False(t, updated, "Update of an expired key")
	e.assertNotLive(t, expired, dead, "Update revived an expired record")
	if got, _, found := e.get(t, expired); found {
		assert.Equal(t, data, got, "Update wrote the data of an expired record")
	}
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testUpdateKeeps(t *testing.T, e *env) {
	ctx := t.Context()
	key, later := newKey(t), e.now().Add(2*time.Hour)
	require.NoError(t, e.full.Put(ctx, key, "alice", newData(t, 30), later))

	tests := []struct {
		name   string
		expiry time.Time
		want   time.Time
	}{
		{"an earlier expiry leaves it", e.now().Add(time.Hour), later},
		{"the same expiry leaves it", later, later},
		{"a later expiry moves it", e.now().Add(3 * time.Hour), e.now().Add(3 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := newData(t, 40)
			updated, err := e.full.Update(ctx, key, data, tt.expiry)
			require.NoError(t, err)
			require.True(t, updated, "Update of a live record")
			got, exp, found := e.get(t, key)
			require.True(t, found)
			assert.Equal(t, data, got, "Update replaces the data")
			assertTime(t, "expiry after Update", tt.want, exp)
			b, _ := e.find(t, key)
			assert.Equal(t, data, b, "Find sees the update")
			list, err := e.full.ListUser(ctx, "alice")
			require.NoError(t, err)
			assert.Equal(t, []string{key}, recordKeys(list), "Update keeps the user")
		})
	}
	n, err := e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the updated record is still the user's")
}

func testRenameMoves(t *testing.T, e *env) {
	ctx := t.Context()
	oldKey, renamedKey, other := newKey(t), newKey(t), newKey(t)
	data, exp := newData(t, 50), e.now().Add(90*time.Minute)
	require.NoError(t, e.full.Put(ctx, oldKey, "alice", data, exp))
	require.NoError(t, e.full.Put(ctx, other, "alice", newData(t, 50), e.live()))

	renamed, err := e.full.Rename(ctx, oldKey, renamedKey)
	require.NoError(t, err)
	require.True(t, renamed, "Rename of a live record")

	_, _, found := e.get(t, oldKey)
	assert.False(t, found, "the old key is absent after Rename")
	_, found = e.find(t, oldKey)
	assert.False(t, found, "Find: the old key is absent after Rename")
	got, gotExp, found := e.get(t, renamedKey)
	require.True(t, found, "the new key holds the record")
	assert.Equal(t, data, got, "Rename keeps the data")
	assertTime(t, "expiry after Rename", exp, gotExp)

	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	want := []string{renamedKey, other}
	slices.Sort(want)
	assert.Equal(t, want, recordKeys(list), "the user index follows the rename")
	n, err := e.full.DeleteUser(ctx, "alice", renamedKey)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "DeleteUser knows the record by its new key")
	_, _, found = e.get(t, renamedKey)
	assert.True(t, found, "the except key of DeleteUser is the new key")
	n, err = e.full.DeleteUser(ctx, "alice", "")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, _, found = e.get(t, renamedKey)
	assert.False(t, found, "DeleteUser reaches the renamed record")
}

func testRenameMissing(t *testing.T, e *env) {
	ctx := t.Context()
	missing, target := newKey(t), newKey(t)
	renamed, err := e.full.Rename(ctx, missing, target)
	require.NoError(t, err)
	assert.False(t, renamed, "Rename of a missing key")
	_, _, found := e.get(t, target)
	assert.False(t, found, "Rename of a missing key created the new one")

	expired, dead := newKey(t), e.dead()
	require.NoError(t, e.full.Put(ctx, expired, "alice", newData(t, 30), dead))
	renamed, err = e.full.Rename(ctx, expired, target)
	require.NoError(t, err)
	assert.False(t, renamed, "Rename of an expired key")
	_, _, found = e.get(t, target)
	assert.False(t, found, "Rename of an expired key created the new one")
	e.assertNotLive(t, expired, dead, "Rename revived the expired record")
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testWritesAtExpiryInstant(t *testing.T, e *env) {
	ctx := t.Context()
	upd, ren, target := newKey(t), newKey(t), newKey(t)
	exp := e.now().Add(10 * time.Second)
	require.NoError(t, e.full.Put(ctx, upd, "alice", newData(t, 30), exp))
	require.NoError(t, e.full.Put(ctx, ren, "alice", newData(t, 30), exp))
	e.advance(10 * time.Second)

	updated, err := e.full.Update(ctx, upd, newData(t, 30), e.live())
	require.NoError(t, err)
	assert.False(t, updated, "Update at the expiry instant")
	e.assertNotLive(t, upd, exp, "Update at the expiry instant revived the record")

	renamed, err := e.full.Rename(ctx, ren, target)
	require.NoError(t, err)
	assert.False(t, renamed, "Rename at the expiry instant")
	_, _, found := e.get(t, target)
	assert.False(t, found, "Rename at the expiry instant created the new key")
}

func testGetHeldExpired(t *testing.T, e *env) {
	ctx := t.Context()
	key, data, exp := newKey(t), newData(t, 30), e.now().Add(10*time.Second)
	require.NoError(t, e.full.Put(ctx, key, "alice", data, exp))
	// To the expiry instant, then an hour past it.
	for _, step := range []time.Duration{10 * time.Second, time.Hour} {
		e.advance(step)
		got, gotExp, found := e.get(t, key)
		if e.h.DropsExpired && !found {
			continue
		}
		require.True(t, found, "Get returns a record the store still holds after its expiry")
		assert.Equal(t, data, got)
		assertTime(t, "expiry of the held expired record", exp, gotExp)
		_, found = e.find(t, key)
		assert.False(t, found, "Find hides it")
		list, err := e.full.ListUser(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, list, "ListUser hides it")
	}
}

// testDeleteUserAtomicWithRename races DeleteUser against chains of renames
// of the user's records: a DeleteUser that listed the records and then
// deleted them one by one would miss a record renamed in between, which
// would then outlive a "sign out everywhere".
func testDeleteUserAtomicWithRename(t *testing.T, e *env) {
	ctx := t.Context()
	rounds, chains := 20, 8
	if !e.nonBlocking() {
		rounds = 5
	}
	for range rounds {
		keys := make([]string, chains)
		for i := range keys {
			keys[i] = newKey(t)
			require.NoError(t, e.full.Put(ctx, keys[i], "alice", newData(t, 30), e.live()))
		}
		var deleted atomic.Bool
		var late atomic.Int64 // renames that started after DeleteUser returned and moved a record
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				<-start
				cur := keys[i]
				for {
					after := deleted.Load()
					next := newKey(t)
					renamed, err := e.full.Rename(ctx, cur, next)
					if err != nil {
						t.Errorf("Rename: %v", err)
						return
					}
					if !renamed {
						return
					}
					cur = next
					if after {
						late.Add(1)
						return
					}
				}
			})
		}
		close(start)
		_, err := e.full.DeleteUser(ctx, "alice", "")
		require.NoError(t, err)
		deleted.Store(true)
		wg.Wait()
		require.Zero(t, late.Load(), "a record renamed while DeleteUser ran survived it")
		list, err := e.full.ListUser(ctx, "alice")
		require.NoError(t, err)
		require.Empty(t, list, "a record renamed while DeleteUser ran survived it")
	}
}

// nonBlocking reports whether the store is a NonBlockingStore, in memory:
// the stress tests run more rounds on it than on a store behind a network.
func (e *env) nonBlocking() bool {
	_, ok := e.store.(sessionauth.NonBlockingStore)
	return ok
}
