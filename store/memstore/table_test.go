package memstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// hexKey is a key of the form a Manager writes: lowercase hex SHA-256.
func hexKey(i int) string {
	h := sha256.Sum256([]byte("key-" + strconv.Itoa(i)))
	return hex.EncodeToString(h[:])
}

// Keys of a Manager's form live in the store's hash table, which grows,
// reuses the slots of deleted keys and shrinks after a sweep. Through all of
// it every live key reads back and no deleted one does.
func TestHashedKeysSurviveGrowthDeletionAndSweep(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	const n = 5000
	short, long := clock.Now().Add(time.Minute), clock.Now().Add(time.Hour)
	for i := range n {
		exp := long
		if i%2 == 1 {
			exp = short
		}
		require.NoError(t, s.Put(ctx, hexKey(i), "user-"+strconv.Itoa(i%7), []byte(strconv.Itoa(i)), exp))
	}
	require.Equal(t, n, s.Len())

	// Delete every third key, and write the deleted ones' slots over with
	// new keys, whose probes pass the tombstones.
	for i := 0; i < n; i += 3 {
		require.NoError(t, s.Delete(hexKey(i)))
	}
	for i := n; i < n+n/3; i++ {
		require.NoError(t, s.Put(ctx, hexKey(i), "user-new", []byte(strconv.Itoa(i)), long))
	}
	check := func(t *testing.T, live func(i int) bool) {
		t.Helper()
		for i := range n + n/3 {
			data, _, found := get(t, s, hexKey(i))
			if assert.Equal(t, live(i), found, "key %d", i) && found {
				assert.Equal(t, strconv.Itoa(i), string(data))
			}
		}
	}
	check(t, func(i int) bool { return i >= n || i%3 != 0 })

	clock.Advance(time.Minute)
	swept := sweep(t, s)
	// The odd keys below n expired, minus those already deleted.
	wantSwept := 0
	for i := 1; i < n; i += 2 {
		if i%3 != 0 {
			wantSwept++
		}
	}
	assert.Equal(t, wantSwept, swept)
	check(t, func(i int) bool { return i >= n || i%3 != 0 && i%2 == 0 })

	// The per-user index lost exactly the swept and deleted keys.
	total := 0
	for u := range 7 {
		recs, err := s.ListUser(ctx, "user-"+strconv.Itoa(u))
		require.NoError(t, err)
		for _, r := range recs {
			i, err := strconv.Atoi(string(r.Data))
			require.NoError(t, err)
			assert.Equal(t, hexKey(i), r.Key)
			assert.Equal(t, u, i%7)
		}
		total += len(recs)
	}
	recs, err := s.ListUser(ctx, "user-new")
	require.NoError(t, err)
	assert.Len(t, recs, n/3)
	assert.Equal(t, s.Len(), total+len(recs))

	// Deleting nearly everything shrinks the table; what is left stays.
	for i := range n {
		require.NoError(t, s.Delete(hexKey(i)))
	}
	assert.Zero(t, sweep(t, s))
	assert.Equal(t, n/3, s.Len())
	check(t, func(i int) bool { return i >= n })
}

// A key that only looks like a Manager's (uppercase hex, a 63-character
// prefix) is another key, and reads back exactly as written.
func TestKeysAreExactStrings(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	lower := hexKey(1)
	upper := strings.ToUpper(lower)
	exp := clock.Now().Add(time.Hour)
	require.NoError(t, s.Put(ctx, lower, "alice", []byte("lower"), exp))
	require.NoError(t, s.Put(ctx, upper, "alice", []byte("upper"), exp))
	require.NoError(t, s.Commit(lower[:63], []byte("short"), exp))
	require.NoError(t, s.Commit(lower+"0", []byte("long"), exp))

	all, err := s.All()
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{
		lower: []byte("lower"), upper: []byte("upper"), lower[:63]: []byte("short"), lower + "0": []byte("long"),
	}, all)
	recs, err := s.ListUser(ctx, "alice")
	require.NoError(t, err)
	keys := []string{}
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	assert.ElementsMatch(t, []string{lower, upper}, keys)

	n, err := s.DeleteUser(ctx, "alice", upper)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, _, found := get(t, s, lower)
	assert.False(t, found)
	_, _, found = get(t, s, upper)
	assert.True(t, found)
}

// Get hands out a copy: changing it changes nothing in the store.
func TestGetReturnsACopy(t *testing.T) {
	s, clock := newStore(t)
	ctx := context.Background()
	for _, key := range []string{hexKey(1), "scs-key"} {
		require.NoError(t, s.Put(ctx, key, "alice", []byte("data"), clock.Now().Add(time.Hour)))
		data, _, _ := get(t, s, key)
		data[0] = 'X'
		again, _, _ := get(t, s, key)
		assert.Equal(t, "data", string(again), key)
	}
}

// Run under -race: requests authenticate without a lock while sessions are
// created (growing the table), touched, revoked and swept.
func TestLoadSessionConcurrentWithWrites(t *testing.T) {
	s, clock := newStore(t)
	m, err := sessionauth.New(sessionauth.Config{Store: s, Now: clock.Now, Logger: discardLogger})
	require.NoError(t, err)
	ctx := context.Background()
	token, _, err := m.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	hash := sha256.Sum256([]byte(token))
	key := sessionauth.KeyForToken(token)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sess, err := s.LoadSession(ctx, hash, clock.Now())
				if assert.NoError(t, err) && assert.NotNil(t, sess) {
					assert.Equal(t, "alice", sess.UserID)
				}
			}
		})
	}
	for i := range 3000 {
		_, _, err := m.Create(ctx, "bob", sessionauth.Metadata{})
		require.NoError(t, err)
		if i%100 == 0 {
			require.NoError(t, s.Touch(ctx, key, clock.Now().Add(time.Hour+time.Duration(i)*time.Second)))
			_, err := s.DeleteUser(ctx, "bob", "")
			require.NoError(t, err)
			_, _ = s.Sweep(context.Background())
		}
	}
	close(stop)
	wg.Wait()
	sess, err := s.LoadSession(ctx, hash, clock.Now())
	require.NoError(t, err)
	require.NotNil(t, sess)
	assert.True(t, sess.IdleExpiresAt.Equal(clock.Now().Add(time.Hour+2900*time.Second)))
}
