package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/ratelimit/ratelimittest"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return ratelimit.NewMemory() })
}

// TestMemoryDropsStateThatRanOut proves the bound: keys whose state has run
// out are dropped, so a stream of new keys does not grow the map forever.
func TestMemoryDropsStateThatRanOut(t *testing.T) {
	ctx := context.Background()
	m := ratelimit.NewMemory()
	now := ratelimittest.Start
	for round := range 20 {
		for i := range 1000 {
			_, err := m.Take(ctx, fmt.Sprintf("k%d-%d", round, i), 5, time.Minute, now)
			require.NoError(t, err)
		}
		now = now.Add(time.Minute) // every key of this round has run out
	}
	assert.LessOrEqual(t, ratelimit.MemoryLen(m), 2048, "20000 keys used, at most two sweeps' worth kept")

	// A live key survives a sweep.
	m = ratelimit.NewMemory()
	for range 5 {
		_, err := m.Take(ctx, "live", 5, time.Hour, now)
		require.NoError(t, err)
	}
	for i := range 3000 {
		_, err := m.Take(ctx, fmt.Sprint(i), 5, time.Second, now.Add(time.Minute))
		require.NoError(t, err)
	}
	retry, err := m.Take(ctx, "live", 5, time.Hour, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Positive(t, retry, "the sweeps kept the state of a key still within its window")
}
