package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdleSessionsExpireAndUseKeepsThemAlive runs the server with a 2 s idle
// timeout on a clock the test moves: a session used within the timeout lives
// on, one left alone expires, and an expired session is no longer listed.
func TestIdleSessionsExpireAndUseKeepsThemAlive(t *testing.T) {
	t.Parallel()
	for _, store := range localStores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			testIdleExpiry(t, store.args(t))
		})
	}
}

func testIdleExpiry(t *testing.T, storeArgs []string) {
	clock := newFakeClock()
	s := startServer(t, append([]string{"-idle-timeout", "2s", "-touch-interval", "100ms", "-lifetime", "1h"}, storeArgs...), withClock(clock))
	used := s.signIn(t, "owner@example.com")
	idle := s.signIn(t, "owner@example.com")
	ok := func(t *testing.T, token string) {
		t.Helper()
		r := s.do(t, http.MethodGet, "/projects", token, nil)
		assert.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	}
	expired := func(t *testing.T, token string) {
		t.Helper()
		r := s.do(t, http.MethodGet, "/projects", token, nil)
		assertUnauthorized(t, r)
		assert.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))
	}

	clock.Advance(1900 * time.Millisecond)
	ok(t, used)

	clock.Advance(100 * time.Millisecond) // 2 s after sign-in
	expired(t, idle)
	ok(t, used)

	clock.Advance(1900 * time.Millisecond) // 3.9 s after sign-in, 1.9 s after the last use
	ok(t, used)
	cur := currentSession(t, s, used)
	assert.True(t, clock.Now().Add(2*time.Second).Equal(cur.Session.IdleExpiresAt),
		"idleExpiresAt %v is the last use plus -idle-timeout", cur.Session.IdleExpiresAt)

	other := s.signIn(t, "owner@example.com")
	clock.Advance(2 * time.Second)
	expired(t, used)
	expired(t, other)

	fresh := s.signIn(t, "owner@example.com")
	list := listSessions(t, s, fresh)
	require.Len(t, list, 1, "expired sessions are not listed")
	assert.True(t, list[0].Current)
}

// TestSessionsEndAtTheirLifetimeHoweverUsed uses a session more often than
// the idle timeout needs until its absolute lifetime has passed.
func TestSessionsEndAtTheirLifetimeHoweverUsed(t *testing.T) {
	t.Parallel()
	for _, store := range localStores {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			testLifetime(t, store.args(t))
		})
	}
}

func testLifetime(t *testing.T, storeArgs []string) {
	clock := newFakeClock()
	s := startServer(t, append([]string{"-idle-timeout", "2s", "-touch-interval", "100ms", "-lifetime", "5s"}, storeArgs...), withClock(clock))
	signedIn := clock.Now()
	token := s.signIn(t, "developer@example.com")

	for range 3 {
		clock.Advance(1500 * time.Millisecond)
		r := s.do(t, http.MethodGet, "/keys/api", token, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	}
	cur := currentSession(t, s, token) // 4.5 s after sign-in
	assert.True(t, signedIn.Add(5*time.Second).Equal(cur.Session.ExpiresAt), "expiresAt %v", cur.Session.ExpiresAt)
	assert.True(t, cur.Session.IdleExpiresAt.Equal(cur.Session.ExpiresAt),
		"use does not push the idle deadline %v past the lifetime", cur.Session.IdleExpiresAt)

	clock.Advance(500 * time.Millisecond) // exactly the lifetime
	assertUnauthorized(t, s.do(t, http.MethodGet, "/keys/api", token, nil))
}
