package bearer_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/bearer"
)

// result is what a Refresh call returned.
type result struct {
	token string
	err   error
}

func refresh(ctx context.Context, src *bearer.Source, stale string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		token, err := src.Refresh(ctx, stale)
		ch <- result{token, err}
	}()
	return ch
}

func TestSourceRefreshReturnsATokenThatAlreadyReplacedTheStaleOne(t *testing.T) {
	var calls atomic.Int32
	src := bearer.NewSource("new", func(context.Context) (string, error) {
		calls.Add(1)
		return "newer", nil
	})

	token, err := src.Refresh(t.Context(), "old")

	require.NoError(t, err)
	assert.Equal(t, "new", token)
	assert.Zero(t, calls.Load())
}

func TestSourceKeepsTheTokenItSignedInWith(t *testing.T) {
	var calls atomic.Int32
	src := bearer.NewSource("old", func(context.Context) (string, error) {
		calls.Add(1)
		return "new", nil
	})

	token, err := src.Refresh(t.Context(), "old")
	require.NoError(t, err)
	assert.Equal(t, "new", token)

	token, err = src.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "new", token)
	assert.Equal(t, int32(1), calls.Load())
}

func TestSourceWithoutSignInHasAFixedToken(t *testing.T) {
	src := bearer.NewSource("fixed", nil)
	token, err := src.Token(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "fixed", token)

	_, err = src.Refresh(t.Context(), "fixed")
	assert.ErrorIs(t, err, bearer.ErrNoRefresh)

	_, err = bearer.NewSource("", nil).Token(t.Context())
	assert.Error(t, err, "no token and no way to get one")
}

func TestSourceRejectsAnEmptyOrMalformedSignInToken(t *testing.T) {
	for name, bad := range map[string]string{"empty": "", "malformed": "not a token"} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			src := bearer.NewSource("", func(context.Context) (string, error) {
				if calls.Add(1) == 1 {
					return bad, nil
				}
				return "good", nil
			})

			_, err := src.Token(t.Context())
			require.Error(t, err)

			token, err := src.Token(t.Context())
			require.NoError(t, err, "the bad token was not kept: the next call signs in again")
			assert.Equal(t, "good", token)
		})
	}
}

func TestSourceWaitersShareTheSignInAndItsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBadPassword := errors.New("bad password")
		release := make(chan struct{})
		var calls atomic.Int32
		src := bearer.NewSource("stale", func(context.Context) (string, error) {
			calls.Add(1)
			<-release
			return "", errBadPassword
		})

		first := refresh(t.Context(), src, "stale")
		synctest.Wait() // the first call is signing in
		second := refresh(t.Context(), src, "stale")
		synctest.Wait() // the second waits for it
		close(release)

		assert.ErrorIs(t, (<-first).err, errBadPassword)
		assert.ErrorIs(t, (<-second).err, errBadPassword)
		assert.Equal(t, int32(1), calls.Load())
	})
}

func TestSourceWaiterSignsInItselfWhenTheFirstCallersContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		src := bearer.NewSource("stale", func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return "", ctx.Err()
			}
			return "fresh", nil
		})

		ctx, cancel := context.WithCancel(t.Context())
		first := refresh(ctx, src, "stale")
		synctest.Wait()
		second := refresh(t.Context(), src, "stale")
		synctest.Wait()
		cancel()

		assert.ErrorIs(t, (<-first).err, context.Canceled)
		got := <-second
		require.NoError(t, got.err, "the second caller's own context is live")
		assert.Equal(t, "fresh", got.token)
		assert.Equal(t, int32(2), calls.Load())
	})
}

func TestSourceWaiterStopsWaitingWhenItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		src := bearer.NewSource("stale", func(context.Context) (string, error) {
			<-release
			return "fresh", nil
		})

		first := refresh(t.Context(), src, "stale")
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		second := refresh(ctx, src, "stale")
		synctest.Wait()
		cancel()

		assert.ErrorIs(t, (<-second).err, context.Canceled)
		close(release)
		assert.Equal(t, "fresh", (<-first).token)
	})
}

func TestSourceReleasesWaitersWhenSignInPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		src := bearer.NewSource("stale", func(context.Context) (string, error) {
			<-release
			panic("sign-in bug")
		})

		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			_, _ = src.Refresh(t.Context(), "stale")
		}()
		synctest.Wait()
		second := refresh(t.Context(), src, "stale")
		synctest.Wait()
		close(release)

		assert.Equal(t, "sign-in bug", <-panicked, "the panic reaches the caller that signed in")
		assert.Error(t, (<-second).err, "the waiter gets an error, not a hang")
	})
}
