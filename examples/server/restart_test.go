package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionsSurviveARestartOnTheSameSQLiteFile stops the server and starts
// it again on the same -db file: sessions signed in before are still valid,
// sessions signed out before are still dead, and idle deadlines run on from
// where they were.
func TestSessionsSurviveARestartOnTheSameSQLiteFile(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	db := filepath.Join(t.TempDir(), "sessions.db")
	args := []string{"-db", db, "-idle-timeout", "2s", "-touch-interval", "100ms"} // -store sqlite is the default

	first := startServer(t, args, withClock(clock))
	assert.Contains(t, first.logs.String(), db, "the log names the SQLite file")
	kept := first.signIn(t, "owner@example.com")
	keptID := currentSession(t, first, kept).Session.ID
	idle := first.signIn(t, "developer@example.com")
	signedOut := first.signIn(t, "admin@example.com")
	require.Equal(t, http.StatusNoContent, first.do(t, http.MethodPost, "/auth/sign-out", signedOut, nil).status)
	require.NoError(t, first.stop())

	clock.Advance(1500 * time.Millisecond)
	second := startServer(t, args, withClock(clock))
	r := second.do(t, http.MethodGet, "/keys/api", kept, nil)
	assert.Equal(t, http.StatusOK, r.status, "a session from before the restart works; body: %s", r.body)
	assert.Equal(t, keptID, currentSession(t, second, kept).Session.ID)
	assert.Equal(t, []string{keptID}, sessionIDs(listSessions(t, second, kept)))
	assertUnauthorized(t, second.do(t, http.MethodGet, "/projects", signedOut, nil))

	clock.Advance(500 * time.Millisecond) // 2 s after the last use of idle
	assertUnauthorized(t, second.do(t, http.MethodGet, "/projects", idle, nil))
	assert.Equal(t, http.StatusOK, second.do(t, http.MethodGet, "/projects", kept, nil).status,
		"the use after the restart pushed the deadline forward")
}
