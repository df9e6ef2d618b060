package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Memory is an in-process Store (one app instance), safe for concurrent use, bounded in memory
// (expired state is dropped), with Close or no goroutine at all.
//
// It keeps one int64 per key whose state is still ahead of the clock and no
// goroutine: when the number of keys has doubled since the last sweep, the
// Take that notices drops every key whose state has run out. Memory is
// thus at most about twice the number of keys used in the last Window (and
// never under a thousand keys' worth), whatever the number of keys ever
// used. It is the Store for a single app instance; several instances need a
// shared one (redisstore, pgstore, sqlitestore), or each admits its own
// bursts.
type Memory struct {
	mu      sync.Mutex
	tat     map[string]int64
	sweepAt int // the size at which the next Take sweeps
}

// memorySweepMin is the smallest size at which Memory sweeps: below it a
// sweep would cost more than the memory it frees.
const memorySweepMin = 1024

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{tat: make(map[string]int64), sweepAt: memorySweepMin}
}

// Take implements Store.
func (m *Memory) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("ratelimit: take: %w", err)
	}
	rule := Rule{Limit: limit, Window: window}
	if err := rule.Validate(); err != nil {
		return 0, err
	}
	ns := unixnano.From(now)

	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.tat) >= m.sweepAt {
		m.sweep(ns)
	}
	tat, ok := m.tat[key]
	if !ok {
		tat = math.MinInt64
	}
	next, retry := rule.Step(tat, ns)
	if retry > 0 {
		return retry, nil
	}
	m.tat[key] = next
	return 0, nil
}

// sweep drops every key whose state has run out at now (those behave as
// absent), and sets the size of the next sweep to twice what is left, so
// that sweeps cost O(1) per Take.
func (m *Memory) sweep(now int64) {
	for k, tat := range m.tat {
		if tat <= now {
			delete(m.tat, k)
		}
	}
	m.sweepAt = max(memorySweepMin, 2*len(m.tat))
}

// Reset implements Store.
func (m *Memory) Reset(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ratelimit: reset: %w", err)
	}
	m.mu.Lock()
	delete(m.tat, key)
	m.mu.Unlock()
	return nil
}
