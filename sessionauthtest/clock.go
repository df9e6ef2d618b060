package sessionauthtest

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when told to. Its Now method is what New
// sets as the Manager's Config.Now and the memory store's Config.Now. It is
// safe for concurrent use: a handler may read it while the test advances it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads start until it is moved.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (back if d is negative) and returns
// the new time. Advancing by the Manager's IdleTimeout after a session's last
// use expires it: a session is already expired at its deadline.
//
//	env.Clock.Advance(env.Manager.IdleTimeout())
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
