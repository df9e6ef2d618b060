package storetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// RunOutage checks what users see while the server behind store is
// unreachable: requests with a valid token get 503 with the documented body
// (an outage is not a logout), Create fails with sessionauth.ErrUnavailable,
// no error of the store names the session's token or key (errors end up in
// logs), and the same Manager serves the session again once the server is
// back, without a restart. cut must make the server unreachable to store (for
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
	assertErrorsHideKey(t, store, token)

	restore()
	code, body := in.get(t, token)
	assert.Equal(t, http.StatusOK, code, "the same Manager works again once the server is back")
	assert.Equal(t, "alice", body)
}

// assertErrorsHideKey calls every method of the unreachable store on the
// session of token and checks that each fails without naming the token, its
// key, or a prefix of the key long enough to find it by.
func assertErrorsHideKey(t *testing.T, store sessionauth.Store, token string) {
	t.Helper()
	ctx := t.Context()
	key, exp := sessionauth.KeyForToken(token), time.Now().Add(time.Hour)
	errs := map[string]error{}
	c, isCtx := store.(sessionauth.CtxStore)
	full, isFull := store.(sessionauth.SessionStore)
	if !isCtx || isFull { // the plain forms of a third-party CtxStore may panic
		_, _, errs["Find"] = store.Find(key)
		errs["Commit"] = store.Commit(key, []byte("x"), exp)
		errs["Delete"] = store.Delete(key)
	}
	if isCtx {
		_, _, errs["FindCtx"] = c.FindCtx(ctx, key)
		errs["CommitCtx"] = c.CommitCtx(ctx, key, []byte("x"), exp)
		errs["DeleteCtx"] = c.DeleteCtx(ctx, key)
	}
	if isFull {
		_, _, _, errs["Get"] = full.Get(ctx, key)
		errs["Put"] = full.Put(ctx, key, "alice", []byte("x"), exp)
		_, errs["Update"] = full.Update(ctx, key, []byte("x"), exp)
		errs["Touch"] = full.Touch(ctx, key, exp)
		_, errs["Rename"] = full.Rename(ctx, key, sessionauth.KeyForToken(token+"x"))
		_, errs["ListUser"] = full.ListUser(ctx, "alice")
		_, errs["DeleteUser"] = full.DeleteUser(ctx, "alice", key)
	}
	for op, err := range errs {
		if !assert.Error(t, err, "%s on an unreachable store", op) {
			continue
		}
		for _, secret := range []string{token, key, key[:16]} {
			assert.NotContains(t, err.Error(), secret, op)
		}
	}
}
