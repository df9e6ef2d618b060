// Package ratelimittest is the conformance suite of ratelimit.Store: every
// backend runs it against a real server or file.
//
//	func TestLimitStore(t *testing.T) {
//		ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return newLimitStore(t) })
//	}
package ratelimittest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/ratelimit"
)

// Resolution is the coarsest time resolution a Store may have: its
// Retry-After may be up to this much shorter than the exact one (never
// longer than needed: at now+retryAfter the event fits). Redis keeps
// microseconds; the others nanoseconds.
const Resolution = time.Microsecond

// Start is the instant the suite's clock starts from: far from the real
// time, so that a store taking the time from its server or from time.Now
// fails.
var Start = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// Run runs the suite, each test on a Store from newStore. The Stores of one
// run may share a server: the suite's keys are unique per test.
func Run(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	ctx := context.Background()
	const limit, window = 5, time.Minute
	interval := window / limit

	// takeN takes n times at now and returns how many were admitted.
	takeN := func(t *testing.T, s ratelimit.Store, key string, n int, now time.Time) int {
		t.Helper()
		admitted := 0
		for range n {
			retry, err := s.Take(ctx, key, limit, window, now)
			require.NoError(t, err)
			if retry == 0 {
				admitted++
			}
		}
		return admitted
	}

	t.Run("BurstOfLimitThenRefusedWithRetryAfter", func(t *testing.T) {
		s := newStore(t)
		assert.Equal(t, limit, takeN(t, s, "burst", limit, Start))
		retry, err := s.Take(ctx, "burst", limit, window, Start)
		require.NoError(t, err)
		assert.InDelta(t, interval, retry, float64(Resolution), "the first refusal after a burst waits one interval")
	})

	t.Run("RetryAfterIsExactlyWhenTheNextEventFits", func(t *testing.T) {
		s := newStore(t)
		now := Start.Add(123456789 * time.Nanosecond) // not on a store's tick
		require.Equal(t, limit, takeN(t, s, "edge", limit, now))
		retry, err := s.Take(ctx, "edge", limit, window, now)
		require.NoError(t, err)
		require.Positive(t, retry)
		early, err := s.Take(ctx, "edge", limit, window, now.Add(retry-time.Nanosecond))
		require.NoError(t, err)
		assert.Positive(t, early, "an event before Retry-After is refused")
		onTime, err := s.Take(ctx, "edge", limit, window, now.Add(retry))
		require.NoError(t, err)
		assert.Zero(t, onTime, "an event at Retry-After fits")
	})

	t.Run("OneEventComesBackPerInterval", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, limit, takeN(t, s, "refill", limit, Start))
		now := Start.Add(interval)
		assert.Equal(t, 1, takeN(t, s, "refill", 3, now), "one interval refills one event")
		now = now.Add(2 * interval)
		assert.Equal(t, 2, takeN(t, s, "refill", 3, now), "two intervals refill two")
	})

	t.Run("RefusedEventsCountNothing", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, limit, takeN(t, s, "refused", limit, Start))
		require.Zero(t, takeN(t, s, "refused", 20, Start.Add(interval/2)))
		assert.Equal(t, 1, takeN(t, s, "refused", 2, Start.Add(interval)),
			"twenty refusals did not push the next event back")
	})

	t.Run("IdleKeyGetsOneBurstNotMore", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, limit, takeN(t, s, "idle", limit, Start))
		assert.Equal(t, limit, takeN(t, s, "idle", 3*limit, Start.Add(10*window)),
			"after a long idle time a key is back to one full burst, no more")
	})

	t.Run("LongRunRateIsLimitPerWindow", func(t *testing.T) {
		s := newStore(t)
		// One attempt every 3 seconds for three windows: a burst, then
		// one per interval, however many more are asked for.
		const step, last = 3 * time.Second, 3*window - 3*time.Second
		admitted := 0
		for at := time.Duration(0); at <= last; at += step {
			admitted += takeN(t, s, "rate", 1, Start.Add(at))
		}
		assert.Equal(t, limit+int(last/interval), admitted)
	})

	t.Run("ResetForgetsTheKey", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, limit, takeN(t, s, "reset", limit+1, Start))
		require.NoError(t, s.Reset(ctx, "reset"))
		assert.Equal(t, limit, takeN(t, s, "reset", limit+1, Start))
		require.NoError(t, s.Reset(ctx, "never-used"), "resetting a key without state is no error")
	})

	t.Run("KeysAreIsolated", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, limit, takeN(t, s, "one", limit+1, Start))
		assert.Equal(t, limit, takeN(t, s, "two", limit+1, Start), "another key keeps its whole burst")
		require.NoError(t, s.Reset(ctx, "two"))
		assert.Zero(t, takeN(t, s, "one", 1, Start), "resetting another key leaves this one")
	})

	t.Run("ConcurrentTakesNeverExceedTheLimit", func(t *testing.T) {
		s := newStore(t)
		const n = 8 * limit
		var admitted, refused atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				retry, err := s.Take(ctx, "race", limit, window, Start)
				if !assert.NoError(t, err) {
					return
				}
				if retry == 0 {
					admitted.Add(1)
				} else {
					refused.Add(1)
				}
			}()
		}
		close(start) // every goroutine takes at the same instant
		wg.Wait()
		assert.Equal(t, int32(limit), admitted.Load())
		assert.Equal(t, int32(n-limit), refused.Load())
	})

	t.Run("InvalidRuleIsAnError", func(t *testing.T) {
		s := newStore(t)
		for _, r := range []ratelimit.Rule{
			{Limit: 0, Window: window}, {Limit: -1, Window: window}, {Limit: limit, Window: 0},
			{Limit: limit, Window: -time.Second}, {Limit: 10, Window: 9},
		} {
			_, err := s.Take(ctx, "invalid", r.Limit, r.Window, Start)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidRule, "%+v", r)
		}
	})

	t.Run("CancelledContextIsAnError", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Take(cctx, "cancelled", limit, window, Start)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, s.Reset(cctx, "cancelled"), context.Canceled)
	})
}
