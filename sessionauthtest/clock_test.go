package sessionauthtest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sessionauth/sessionauth/sessionauthtest"
)

func TestClock_MovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2030, time.June, 1, 12, 0, 0, 0, time.UTC)
	c := sessionauthtest.NewClock(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "reading does not move it")

	assert.Equal(t, start.Add(90*time.Second), c.Advance(90*time.Second))
	assert.Equal(t, start.Add(90*time.Second), c.Now())
	assert.Equal(t, start.Add(30*time.Second), c.Advance(-time.Minute), "a negative duration moves it back")

	c.Set(start.Add(-time.Hour))
	assert.Equal(t, start.Add(-time.Hour), c.Now())
}

func TestClock_AdvanceFromManyGoroutinesAddsUp(t *testing.T) {
	start := time.Date(2030, time.June, 1, 0, 0, 0, 0, time.UTC)
	c := sessionauthtest.NewClock(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	assert.Equal(t, start.Add(50*time.Second), c.Now())
}
