// Package sweeper runs a store's sweep in the background: every store that
// must delete expired sessions itself (memstore, sqlitestore, pgstore) starts
// one Loop in its constructor and stops it in Close.
package sweeper

import (
	"context"
	"sync"
	"time"
)

// Loop calls a sweep function every interval until Stop. The zero Loop and a
// nil *Loop run nothing, and their Stop returns at once.
type Loop struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Start calls sweep every interval in a goroutine of its own until Stop, and
// passes every error it returns to failed (which may be nil) unless Stop
// caused it. An interval of zero or less starts nothing. The ctx sweep gets
// is cancelled by Stop, so that a sweep under way returns early.
func Start(interval time.Duration, sweep func(context.Context) (int, error), failed func(error)) *Loop {
	if interval <= 0 {
		return &Loop{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := sweep(ctx); err != nil && ctx.Err() == nil && failed != nil {
					failed(err)
				}
			}
		}
	}()
	return l
}

// Stop cancels a sweep under way and waits for the goroutine to exit. It is
// idempotent and safe for concurrent use.
func (l *Loop) Stop() {
	if l == nil || l.cancel == nil {
		return
	}
	l.once.Do(l.cancel)
	<-l.done
}
