package sweeper

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoopSweepsEveryIntervalUntilStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		l := Start(time.Minute, func(context.Context) (int, error) { n.Add(1); return 0, nil }, nil)
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		require.EqualValues(t, 3, n.Load())
		l.Stop()
		l.Stop() // idempotent
		time.Sleep(time.Hour)
		assert.EqualValues(t, 3, n.Load(), "no sweep after Stop")
	})
}

func TestStopCancelsASweepUnderWayAndDoesNotReportIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var reported atomic.Int32
		started := make(chan struct{})
		l := Start(time.Minute, func(ctx context.Context) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		}, func(error) { reported.Add(1) })
		time.Sleep(time.Minute)
		<-started
		l.Stop()
		assert.Zero(t, reported.Load(), "the error Stop caused is not a failure")
	})
}

func TestLoopReportsSweepFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		got := make(chan error, 1)
		l := Start(time.Minute, func(context.Context) (int, error) { return 0, boom }, func(err error) {
			select {
			case got <- err:
			default:
			}
		})
		defer l.Stop()
		time.Sleep(time.Minute)
		assert.ErrorIs(t, <-got, boom)
	})
}

func TestANonPositiveIntervalOrAZeroLoopRunsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		called := false
		l := Start(-1, func(context.Context) (int, error) { called = true; return 0, nil }, nil)
		time.Sleep(time.Hour)
		l.Stop()
		new(Loop).Stop()
		(*Loop)(nil).Stop()
		assert.False(t, called)
	})
}
