package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Background work: the sweep only reclaims space, and Close stops it.
func sweepCases() []testCase {
	return []testCase{
		{"SweepDeletesExactlyTheExpired", needSweep, testSweepExpiredOnly},
		{"SweepRacingPutsNeverDeletesALiveRecord", needSweep | needFull, testSweepRacingPut},
		{"CloseStopsBackgroundWork", 0, testCloseStopsBackgroundWork},
	}
}

func testSweepExpiredOnly(t *testing.T, e *env) {
	ctx := t.Context()
	live := make(map[string][]byte)
	expired := 0
	put := func(exp time.Time, isLive bool) {
		key, data := newKey(t), newData(t, 30)
		if e.full != nil {
			require.NoError(t, e.full.Put(ctx, key, "alice", data, exp))
		} else {
			e.commit(t, key, data, exp)
		}
		if isLive {
			live[key] = data
		} else {
			expired++
		}
	}
	for range 5 {
		put(e.live(), true)
		put(e.dead(), false)
	}
	// scs records, which belong to no user, are swept too.
	for range 2 {
		key, data := newToken(t), newData(t, 30)
		e.commit(t, key, data, e.live())
		live[key] = data
		e.commit(t, newToken(t), newData(t, 30), e.dead())
		expired++
	}
	if !e.h.WallClock {
		put(e.now().Add(time.Millisecond), true)
		put(e.now(), false) // expired at the instant
	}

	n, err := e.h.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, expired, n, "Sweep deletes the expired records and reports how many")
	for key, data := range live {
		got, found := e.find(t, key)
		if assert.True(t, found, "Sweep deleted a live record") {
			assert.Equal(t, data, got)
		}
	}
	n, err = e.h.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second Sweep finds nothing to delete")
}

// testSweepRacingPut revives expired records with Put while sweeps run: a
// sweep that picked a record as expired must not delete it once it is live.
func testSweepRacingPut(t *testing.T, e *env) {
	ctx := t.Context()
	const n = 200
	keys := make([]string, n)
	for i := range keys {
		keys[i] = newKey(t)
		require.NoError(t, e.full.Put(ctx, keys[i], "alice", newData(t, 30), e.dead()))
	}
	data := newData(t, 30)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := e.h.Sweep(ctx); err != nil {
				t.Errorf("Sweep: %v", err)
				return
			}
		}
	})
	wg.Go(func() {
		defer close(done)
		for _, key := range keys {
			if err := e.full.Put(ctx, key, "alice", data, e.live()); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	})
	wg.Wait()

	for _, key := range keys {
		_, _, found := e.get(t, key)
		require.True(t, found, "a sweep deleted a record that a Put had made live")
	}
	list, err := e.full.ListUser(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, list, n)
}

// testCloseStopsBackgroundWork builds a store of its own, uses it, closes it,
// and checks that no goroutine it started is left.
func testCloseStopsBackgroundWork(t *testing.T, outer *env) {
	ctx := t.Context()
	before := goleak.IgnoreCurrent()
	var h Harness
	t.Run("store", func(t *testing.T) {
		// A subtest of its own, so that the factory's t.Cleanup work
		// (closing what it opened) runs before the check.
		e := setup(t, outer.newStore)
		h = e.h
		key := newKey(t)
		e.commit(t, key, newData(t, 30), e.live())
		e.find(t, key)
		if e.full != nil {
			require.NoError(t, e.full.Put(ctx, newKey(t), "alice", newData(t, 30), e.live()))
			require.NoError(t, e.full.Touch(ctx, key, e.live().Add(time.Minute)))
			_, err := e.full.ListUser(ctx, "alice")
			require.NoError(t, err)
		}
		if e.h.Sweep != nil {
			_, err := e.h.Sweep(ctx)
			require.NoError(t, err)
		}
	})
	if h.Store == nil {
		return // the subtest failed before the store existed
	}
	goleak.VerifyNone(t, before)
}
