package storetest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// RunOutage checks what users see while the server behind store is
// unreachable: requests with a valid token get 503 with the documented body
// (an outage is not a logout), Create fails with sessionauth.ErrUnavailable,
// and the same Manager serves the session again once the server is back,
// without a restart. cut must make the server unreachable to store (for
// example by cutting a TCP proxy between them), and restore must undo it.
// store must be fresh and empty, and reachable when RunOutage starts.
func RunOutage(t *testing.T, store sessionauth.Store, cut, restore func()) {
	t.Helper()
	ctx := t.Context()
	in := newInstance(t, store, newClock())

	token, _, err := in.manager.Create(ctx, "alice", sessionauth.Metadata{})
	require.NoError(t, err)
	code, _ := in.get(t, token)
	require.Equal(t, http.StatusOK, code)

	cut()
	for range 3 {
		code, body := in.get(t, token)
		assert.Equal(t, http.StatusServiceUnavailable, code, "a store outage is not a logout")
		assert.Equal(t, sessionauth.BodyUnavailable, body)
	}
	_, _, err = in.manager.Create(ctx, "bob", sessionauth.Metadata{})
	assert.ErrorIs(t, err, sessionauth.ErrUnavailable)

	restore()
	code, body := in.get(t, token)
	assert.Equal(t, http.StatusOK, code, "the same Manager works again once the server is back")
	assert.Equal(t, "alice", body)
}
