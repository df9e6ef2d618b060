package sessionauth

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestDefaultClockAgreesWithTimeNow(t *testing.T) {
	c := newMonoClock()
	for range 10_000 {
		before := time.Now()
		got := c.now()
		after := time.Now()
		// Only slewing of the wall clock since the last resync, microseconds
		// at most, can put the reading outside [before, after].
		const slack = time.Millisecond
		if got.Before(before.Add(-slack)) || got.After(after.Add(slack)) {
			t.Fatalf("clock read %v between time.Now readings %v and %v", got, before, after)
		}
		if got.Round(0) != got {
			t.Fatalf("clock reading %v carries a monotonic reading", got)
		}
	}
}

func TestDefaultClockSeesAWallClockStepWithinResync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newMonoClock()
		if got, want := c.now(), time.Now().Round(0); !got.Equal(want) {
			t.Fatalf("now() = %v, want %v", got, want)
		}
		// The wall clock steps an hour forward just after a resync; the
		// clock keeps counting from its last wall reading until the next
		// resync, and no longer.
		start := time.Now()
		c.anchor.Store(&clockAnchor{mono: start, wall: start.Add(-time.Hour).Round(0)})
		time.Sleep(clockResync / 2)
		if got, want := c.now(), start.Add(-time.Hour+clockResync/2).Round(0); !got.Equal(want) {
			t.Fatalf("before resync: now() = %v, want %v", got, want)
		}
		time.Sleep(clockResync / 2)
		if got, want := c.now(), time.Now().Round(0); !got.Equal(want) {
			t.Fatalf("after resync: now() = %v, want %v", got, want)
		}
		time.Sleep(3 * clockResync / 4)
		if got, want := c.now(), time.Now().Round(0); !got.Equal(want) {
			t.Fatalf("between resyncs: now() = %v, want %v", got, want)
		}
	})
}
