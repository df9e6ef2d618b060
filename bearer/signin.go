package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Session is the answer of a sign-in endpoint of the sessionauth shape
// (package authapi): the token and its deadlines.
type Session struct {
	Token         string    `json:"token"`
	ExpiresAt     time.Time `json:"expiresAt"`
	IdleExpiresAt time.Time `json:"idleExpiresAt"`
}

// ErrInvalidCredentials is what SignIn returns when the endpoint answers 401:
// the name or password is wrong.
var ErrInvalidCredentials = errors.New("bearer: sign-in refused: wrong name or password")

// ThrottledError is what SignIn returns when the endpoint answers 429: too many
// attempts; RetryAfter is how long the endpoint asked to wait (0 if it did not
// say).
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("bearer: sign-in throttled; retry after %v", e.RetryAfter)
}

// maxSignInResponse bounds what is read of a sign-in answer: a token and two
// timestamps take about 150 bytes.
const maxSignInResponse = 64 << 10

// SignIn posts {"email","password"} as JSON to url (an endpoint such as
// "https://api.example.com/auth/sign-in") with client (nil for
// http.DefaultClient) and returns the session it answers. It returns
// ErrInvalidCredentials for a 401, a *ThrottledError for a 429, and an error
// naming the status for anything else but a 200 with a well-formed token.
// No error contains the password or a token.
//
//	s, err := bearer.SignIn(ctx, nil, "https://api.example.com/auth/sign-in", email, password)
func SignIn(ctx context.Context, client *http.Client, url, email, password string) (*Session, error) {
	body, err := json.Marshal(map[string]string{"email": email, "password": password})
	if err != nil {
		return nil, fmt.Errorf("bearer: sign-in: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bearer: sign-in: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bearer: sign-in: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, ErrInvalidCredentials
	case http.StatusTooManyRequests:
		e := &ThrottledError{}
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
		return nil, e
	default:
		return nil, fmt.Errorf("bearer: sign-in: %s", resp.Status)
	}
	var s Session
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSignInResponse)).Decode(&s); err != nil || !validToken(s.Token) {
		return nil, errors.New("bearer: sign-in: the answer holds no well-formed token")
	}
	return &s, nil
}

// PasswordSignIn returns a sign-in function for NewSource that calls SignIn
// with these credentials, so that a Transport signs in on first use and again
// whenever the API rejects its token:
//
//	src := bearer.NewSource("", bearer.PasswordSignIn(nil, api+"/auth/sign-in", email, password))
//
// client may be the http.Client whose Transport uses the Source: the sign-in
// request then goes out without a token (see NewSource).
func PasswordSignIn(client *http.Client, url, email, password string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		s, err := SignIn(ctx, client, url, email, password)
		if err != nil {
			return "", err
		}
		return s.Token, nil
	}
}
