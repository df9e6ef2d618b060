// Package ratelimit limits sign-in attempts per account and per client
// address.
//
// This file is a minimal in-memory STAND-IN with the agreed interface, so
// that package authapi compiles and its tests run before the real package
// lands on its own branch; that package replaces this file whole.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Store counts attempts per key in windows.
type Store interface {
	// Take counts one attempt of key and returns 0 if it is within limit
	// attempts per window, or how long until it would be.
	Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (retryAfter time.Duration, err error)
	// Reset forgets the attempts of key.
	Reset(ctx context.Context, key string) error
}

// Rule is a number of attempts per window.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Limiter applies three rules: per account and client address (tight), per
// account alone (looser, so a victim's account is not locked out by one
// attacker address, but a spread-out guessing run still stops), and per
// client address alone (credential stuffing across accounts).
type Limiter struct {
	Store Store
	// Defaults: 5 per minute, 20 per 15 minutes, 100 per 15 minutes.
	AccountClient, Account, Client Rule
}

// Attempt counts a sign-in attempt and returns 0 if it may go on, or how long
// the client must wait.
func (l *Limiter) Attempt(ctx context.Context, account, client string, now time.Time) (time.Duration, error) {
	var wait time.Duration
	for _, k := range []struct {
		key string
		r   Rule
		d   Rule
	}{
		{"ac\x00" + account + "\x00" + client, l.AccountClient, Rule{5, time.Minute}},
		{"a\x00" + account, l.Account, Rule{20, 15 * time.Minute}},
		{"c\x00" + client, l.Client, Rule{100, 15 * time.Minute}},
	} {
		r := k.r
		if r.Limit == 0 {
			r = k.d
		}
		d, err := l.Store.Take(ctx, k.key, r.Limit, r.Window, now)
		if err != nil {
			return 0, err
		}
		wait = max(wait, d)
	}
	return wait, nil
}

// Succeeded clears the account's counts, never the client's.
func (l *Limiter) Succeeded(ctx context.Context, account, client string) error {
	if err := l.Store.Reset(ctx, "ac\x00"+account+"\x00"+client); err != nil {
		return err
	}
	return l.Store.Reset(ctx, "a\x00"+account)
}

// Memory is an in-process Store of fixed windows.
type Memory struct {
	mu sync.Mutex
	w  map[string]window
}

type window struct {
	start time.Time
	n     int
}

// NewMemory returns an empty in-process Store.
func NewMemory() *Memory { return &Memory{w: map[string]window{}} }

// Take implements Store.
func (m *Memory) Take(_ context.Context, key string, limit int, win time.Duration, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.w[key]
	if !now.Before(w.start.Add(win)) {
		w = window{start: now}
	}
	w.n++
	m.w[key] = w
	if w.n > limit {
		return w.start.Add(win).Sub(now), nil
	}
	return 0, nil
}

// Reset implements Store.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.w, key)
	return nil
}
