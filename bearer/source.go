package bearer

import (
	"context"
	"errors"
	"sync"
)

// Source is a TokenSource that holds one token in memory and gets a new one
// by calling a sign-in function: on first use if it starts without a token,
// and whenever the server rejects the token it holds. Concurrent requests
// rejected with the same token share one sign-in. A Source is safe for
// concurrent use.
type Source struct {
	signIn func(context.Context) (string, error)
	// inSignIn marks the context passed to signIn, so that the sign-in's own
	// requests through a Transport of this Source go out without a token
	// instead of waiting for the sign-in they are part of.
	inSignIn *contextKey

	mu     sync.Mutex
	token  string
	flight *signInFlight // non-nil while a sign-in runs
}

type contextKey struct{ name string }

// signInFlight is one call of the sign-in function, which every request that
// needs its result waits for.
type signInFlight struct {
	done  chan struct{} // closed when token and err are set
	token string
	err   error
}

var (
	errEmptySignIn  = errors.New("bearer: sign-in returned an empty token")
	errSignInPanic  = errors.New("bearer: sign-in panicked")
	errNothingToUse = errors.New("bearer: no token and no sign-in function")
)

// NewSource returns a Source that starts with token and calls signIn for a
// new token when it has none or the server rejects it. The token may be ""
// (sign in on first use); signIn may be nil, for a fixed token that is never
// refreshed (Refresh returns ErrNoRefresh, so its 401s reach the caller).
//
// signIn receives the context of the request that needs the token; an error
// it returns fails that request and every request waiting for the same
// sign-in. It typically posts stored credentials to the API's sign-in
// endpoint. A sign-in request sent through a Transport of this Source, with
// the context signIn received, goes out without a token and is never
// refreshed, so signIn may use the same http.Client without deadlocking.
//
//	src := bearer.NewSource("", func(ctx context.Context) (string, error) { return login(ctx) })
func NewSource(token string, signIn func(ctx context.Context) (string, error)) *Source {
	return &Source{signIn: signIn, inSignIn: &contextKey{"bearer sign-in"}, token: token}
}

// Token returns the token the Source holds, signing in first if it holds
// none. Called from within the Source's own sign-in, it returns "" so that
// the sign-in request is sent without credentials.
func (s *Source) Token(ctx context.Context) (string, error) {
	if ctx.Value(s.inSignIn) != nil {
		return "", nil
	}
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	if token != "" {
		return token, nil
	}
	if s.signIn == nil {
		return "", errNothingToUse
	}
	return s.Refresh(ctx, "")
}

// Refresh returns a token other than stale. If the Source already holds
// another one (a concurrent request refreshed it), it returns that one;
// otherwise it calls the sign-in function, or waits for the call already
// under way, and keeps the token it returns. It returns ErrNoRefresh if the
// Source has no sign-in function or is called from within its own sign-in,
// and ctx.Err() if ctx ends while it waits for another request's sign-in.
func (s *Source) Refresh(ctx context.Context, stale string) (string, error) {
	if s.signIn == nil || ctx.Value(s.inSignIn) != nil {
		return "", ErrNoRefresh
	}
	for {
		s.mu.Lock()
		if s.token != "" && s.token != stale {
			token := s.token
			s.mu.Unlock()
			return token, nil
		}
		f := s.flight
		if f == nil {
			f = &signInFlight{done: make(chan struct{}), err: errSignInPanic}
			s.flight = f
			s.mu.Unlock()
			s.runSignIn(ctx, f)
			return f.token, f.err
		}
		s.mu.Unlock()

		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if f.err == nil {
			return f.token, nil
		}
		// A sign-in that failed because the context of the request that
		// started it ended says nothing about this request, which is still
		// live: sign in again with this one's context.
		if ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
			continue
		}
		return "", f.err
	}
}

// runSignIn calls the sign-in function for flight f and publishes its result,
// even if it panics, so that no waiter is left blocked.
func (s *Source) runSignIn(ctx context.Context, f *signInFlight) {
	defer func() {
		s.mu.Lock()
		if f.err == nil {
			s.token = f.token
		}
		s.flight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	token, err := s.signIn(context.WithValue(ctx, s.inSignIn, true))
	switch {
	case err != nil:
		f.token, f.err = "", err
	case token == "":
		f.token, f.err = "", errEmptySignIn
	case !validToken(token):
		f.token, f.err = "", errMalformedToken
	default:
		f.token, f.err = token, nil
	}
}
