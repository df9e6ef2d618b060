package sessionauth

import (
	"context"
	"sync"
	"time"
)

// maybeTouch pushes s's idle deadline forward, capped at the absolute one, if
// the uncapped deadline would move by at least TouchInterval and no other
// request of this process already did so.
func (m *Manager) maybeTouch(ctx context.Context, hash [32]byte, s *Session, now time.Time) *Session {
	// Decide on the uncapped deadline: near the absolute deadline the capped
	// one moves by less than TouchInterval, and skipping that last touch
	// would end a session in use before its Lifetime.
	// The test every request makes is on integer nanoseconds, the form the
	// record stores: time.Time's Add and Sub, which handle monotonic
	// readings and saturate, cost more than the rest of the test together.
	if m.full == nil {
		return s // a plain scs store cannot extend without a rewrite (see Store)
	}
	idleNS := s.IdleExpiresAt.UnixNano()
	if now.UnixNano()+int64(m.idle)-idleNS < int64(m.touchEvery) || idleNS >= s.ExpiresAt.UnixNano() {
		return s
	}
	want := now.Add(m.idle)
	if !m.touches.claim(hash, want, now, m.touchEvery) {
		return s
	}
	target := want
	if target.After(s.ExpiresAt) {
		target = s.ExpiresAt
	}
	sctx, cancel := m.storeContext(ctx)
	err := m.callError(ctx, sctx, m.full.Touch(sctx, s.ref.key, target))
	cancel()
	if err != nil {
		m.reportOn(ctx, nil, s, Event{Kind: EventStoreFailure, Op: opTouch, Err: err})
		return s
	}
	t := *s
	t.IdleExpiresAt = target
	t.LastUsedAt = now.UTC()
	return &t
}

// touchLimiter remembers, per session, the idle deadline this process last
// wrote, so that a burst of concurrent requests on one session writes the
// store once, not once per request. It only ever suppresses writes: a
// forgotten entry costs one extra write, never a wrong answer.
type touchLimiter struct {
	mu        sync.Mutex
	last      map[[32]byte]int64 // SHA-256 of token -> deadline written, Unix ns
	pruneSize int
}

const minPruneSize = 1024

// claim reports whether the caller should write target for hash; it records
// the claim so that other requests within interval of it do not.
func (l *touchLimiter) claim(hash [32]byte, target, now time.Time, interval time.Duration) bool {
	t := target.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.last[hash]; ok && t-prev < int64(interval) {
		return false
	}
	if l.last == nil {
		l.last = make(map[[32]byte]int64)
	}
	l.last[hash] = t
	if len(l.last) >= max(l.pruneSize, minPruneSize) {
		// Entries of sessions whose written deadline has passed are dead
		// weight; dropping them keeps the map near the live session count.
		n := now.UnixNano()
		for h, d := range l.last {
			if d <= n {
				delete(l.last, h)
			}
		}
		l.pruneSize = max(minPruneSize, 2*len(l.last))
	}
	return true
}
