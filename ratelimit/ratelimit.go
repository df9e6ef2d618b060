// Package ratelimit counts events per key in windows shared by every app
// instance, to slow down password guessing: the sign-in handlers of authapi
// ask a Limiter before they check a password.
//
//	lim, err := ratelimit.New(ratelimit.Config{Store: ratelimit.NewMemory()})
//	retryAfter, err := lim.Attempt(ctx, email, clientIP, time.Now())
//
// # Algorithm
//
// A Rule of Limit events per Window is the generic cell rate algorithm
// (GCRA): a key admits a burst of Limit events at once, then one event every
// Window/Limit, so that in the long run it never admits more than Limit per
// Window; a key left alone for Window is as good as new. Its state is one
// number per key (the "theoretical arrival time", TAT): the instant at which
// the key would be back to a full burst. That one number is what makes a
// shared store simple: one read-compute-write of one value, atomic in Redis
// (a Lua script), PostgreSQL (one UPSERT) and SQLite (one IMMEDIATE
// transaction), and state past its TAT can be dropped, so stores stay small.
//
// # Why no library
//
// golang.org/x/time/rate is an in-process token bucket with state a store
// cannot share, and github.com/go-chi/httprate is HTTP middleware whose
// LimitCounter increments and reads in separate calls, which several app
// instances cannot use to admit exactly Limit events. Neither offers the one
// atomic step per backend that a shared GCRA needs (least of all on SQL), and
// the step itself is Rule.Step, about twenty lines.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Store keeps a Limiter's counters; one shared Store makes every app instance see the same counts.
type Store interface {
	// Take counts one event under key at now if that keeps the key within rate (limit events per window,
	// GCRA / sliding-window semantics, bursts of up to limit), atomically in the store, and returns 0;
	// otherwise it counts nothing and returns how long until one more event would fit (> 0).
	Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (retryAfter time.Duration, err error)
	// Reset forgets every event counted under key.
	Reset(ctx context.Context, key string) error
}

// Rule is one limit: at most Limit events per Window.
type Rule struct {
	Limit  int
	Window time.Duration
}

// ErrInvalidRule is returned (wrapped) for a Rule that Validate refuses.
var ErrInvalidRule = errors.New("ratelimit: invalid rule")

// Validate fails with an error wrapping ErrInvalidRule unless Limit is at
// least 1 and Window holds at least Limit nanoseconds (Interval is then at
// least one nanosecond).
func (r Rule) Validate() error {
	if r.Limit < 1 || r.Window <= 0 || r.Window/time.Duration(r.Limit) < 1 {
		return fmt.Errorf("%w: %d per %v", ErrInvalidRule, r.Limit, r.Window)
	}
	return nil
}

// Interval is the time one event takes to come back: Window/Limit, rounded
// down to the nanosecond. It is the Retry-After of the first event refused
// after a burst.
func (r Rule) Interval() time.Duration { return r.Window / time.Duration(r.Limit) }

// Capacity is the span of a full burst, Limit × Interval: a key whose TAT is
// Capacity ahead of now refuses the next event. It is Window rounded down to
// a multiple of Limit nanoseconds, so that a burst is exactly Limit events.
func (r Rule) Capacity() time.Duration { return r.Interval() * time.Duration(r.Limit) }

// Step is one Take of the rule on a key whose state is tat (Unix
// nanoseconds; math.MinInt64, or any instant not after now, for a key
// without state) at now (Unix nanoseconds). If the event fits, retryAfter
// is 0 and next is the state to store; otherwise retryAfter > 0 and next is
// tat unchanged. A key whose state is not after now may be forgotten: it
// behaves as one without state. r must be valid (see Validate).
func (r Rule) Step(tat, now int64) (next int64, retryAfter time.Duration) {
	interval, capacity := int64(r.Interval()), int64(r.Capacity())
	base := max(tat, now)
	// The event fits if base + interval - capacity <= now. base >= now, so
	// their difference fits in a uint64 whatever the instants.
	ahead := uint64(base) - uint64(now)
	if slack := uint64(capacity - interval); ahead > slack {
		return tat, time.Duration(min(ahead-slack, math.MaxInt64))
	}
	if base > math.MaxInt64-interval {
		return math.MaxInt64, 0
	}
	return base + interval, 0
}
