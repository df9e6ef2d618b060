package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite" // the driver's errors
)

// SQLite answers SQLITE_BUSY when a lock it needs is held: the write lock,
// held by another process's write (or, with New, the application's),
// and briefly a read lock, while a connection recovers the WAL index or the
// last connection to a file checkpoints and removes the WAL as it closes.
// SQLite can wait itself (busy_timeout), but nothing interrupts that wait,
// not even a done context: a call would overstay its deadline by up to the
// whole timeout. So the Store's connections answer SQLITE_BUSY at once and
// the wait is done here, where the context can end it. Retrying a whole
// statement is safe: one that fails with SQLITE_BUSY has changed nothing.

// retry runs f until it succeeds, fails with anything but SQLITE_BUSY, ctx
// is done, or the store's BusyTimeout has passed since the first SQLITE_BUSY.
func (s *Store) retry(ctx context.Context, f func() error) error {
	return retryBusy(ctx, s.busyTimeout, s.onBusy, f)
}

// retryBusy is retry for a timeout and a hook (see Store.onBusy) of its own,
// as Open and New need before there is a Store.
func retryBusy(ctx context.Context, timeout time.Duration, onBusy func(), f func() error) error {
	err := f()
	if err == nil || !isBusy(err) {
		return err
	}
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return err
		}
		if onBusy != nil {
			onBusy()
		}
		t := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (waiting out %w)", ctx.Err(), err)
		case <-t.C:
		}
		// SQLite's own wait backs off from 1 to 100 ms; staying under 25
		// ms keeps a write from sleeping long after the lock is free.
		wait = min(2*wait, 25*time.Millisecond)
		if err = f(); err == nil || !isBusy(err) {
			return err
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any extended form.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a lock that could
// not be taken.
const sqliteBusy = 5

// writing runs f, which uses the write connection, when no other write of
// the store does, waiting for its turn no longer than ctx allows, and
// retries it while it meets SQLITE_BUSY, releasing the turn while it waits.
func (s *Store) writing(ctx context.Context, f func() error) error {
	return s.retry(ctx, func() error {
		select {
		case s.writeSlot <- struct{}{}:
		default:
			select {
			case s.writeSlot <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		defer func() { <-s.writeSlot }()
		if s.closed {
			return errStoreClosed
		}
		return f()
	})
}
