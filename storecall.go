package sessionauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// get returns the decoded session stored under key, nil if there is none. A
// corrupt record counts as none and is logged.
func (m *Manager) get(ctx context.Context, key string) (*Session, error) {
	data, expiry, found, err := m.getRaw(ctx, key)
	var s *Session
	if err == nil && found {
		s, err = DecodeSession(key, data, expiry)
	}
	return m.absentIfCorrupt(ctx, s, err)
}

// load returns the session of the token whose SHA-256 is hash, nil if there
// is none, from the SessionLoader if the store is one. now is the Manager's
// clock reading, for the loader.
func (m *Manager) load(ctx context.Context, hash [32]byte, now time.Time) (*Session, error) {
	if m.loader == nil {
		return m.get(ctx, storeKey(hash))
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	s, err := m.loader.LoadSession(sctx, hash, now)
	return m.absentIfCorrupt(ctx, s, m.callError(ctx, sctx, err))
}

// absentIfCorrupt logs an error that is a corrupt record and reports no
// session instead: a record nobody can read authenticates nobody, and is no
// store outage either.
func (m *Manager) absentIfCorrupt(ctx context.Context, s *Session, err error) (*Session, error) {
	if errors.Is(err, ErrCorruptRecord) {
		m.logCorrupt(ctx, err)
		return nil, nil
	}
	return s, err
}

func (m *Manager) logCorrupt(ctx context.Context, err error) {
	m.log.LogAttrs(ctx, slog.LevelError, "sessionauth: unreadable session record treated as absent", slog.Any("error", err))
}

func (m *Manager) getRaw(ctx context.Context, key string) (data []byte, expiry time.Time, found bool, err error) {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if m.full != nil {
		data, expiry, found, err = m.full.Get(sctx, key)
	} else {
		data, found, err = m.ctx.FindCtx(sctx, key)
	}
	return data, expiry, found, m.callError(ctx, sctx, err)
}

func (m *Manager) put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if m.full != nil {
		return m.callError(ctx, sctx, m.full.Put(sctx, key, userID, data, expiry))
	}
	return m.callError(ctx, sctx, m.ctx.CommitCtx(sctx, key, data, expiry))
}

func (m *Manager) delete(ctx context.Context, key string) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	return m.callError(ctx, sctx, m.ctx.DeleteCtx(sctx, key))
}

// plainStore gives a Store without context support the methods of a
// CtxStore, which ignore the context: such a store cannot be interrupted.
type plainStore struct{ Store }

func (p plainStore) DeleteCtx(_ context.Context, key string) error { return p.Delete(key) }

func (p plainStore) FindCtx(_ context.Context, key string) ([]byte, bool, error) { return p.Find(key) }

func (p plainStore) CommitCtx(_ context.Context, key string, b []byte, expiry time.Time) error {
	return p.Commit(key, b, expiry)
}

// storeContext returns the context of one store call: ctx bounded by the
// StoreTimeout, or ctx itself for a NonBlockingStore. Call cancel when the
// call returns.
func (m *Manager) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.timeout == 0 {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, m.timeout)
}

func noCancel() {}

// callError turns the error of a store call made under sctx, derived from
// ctx, into the Manager's: nil stays nil, a corrupt record stays
// ErrCorruptRecord (no session, not an outage), and anything else is
// ErrUnavailable. A call cut by the StoreTimeout says so and wraps
// context.DeadlineExceeded, whatever the store returned, so that it is
// logged as an outage; a call cut because the caller went away keeps the
// caller's context error.
func (m *Manager) callError(ctx, sctx context.Context, err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrCorruptRecord):
		return err
	case sctx != ctx && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer within %v (%w): %w", ErrUnavailable, m.timeout, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
