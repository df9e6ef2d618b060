// Package bearer is the client side of sessionauth: an http.RoundTripper that
// sends a session token as "Authorization: Bearer <token>" to one API, and
// gets a fresh token and resends the request once when the API answers 401
// because the session expired or was revoked.
//
// A command-line tool or a service that calls a sessionauth API signs in with
// stored credentials, and signs in again when its session ends:
//
//	src := bearer.NewSource("", bearer.PasswordSignIn(nil, "https://api.example.com/auth/sign-in", email, password))
//	api := &http.Client{Transport: &bearer.Transport{
//		Origin: "https://api.example.com",
//		Source: src,
//	}}
//	resp, err := api.Get("https://api.example.com/projects")
//
// The token goes to the configured origin only. A request to any other origin,
// such as the next hop of a redirect that leaves the API, goes out exactly as
// the caller made it.
package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sessionauth/sessionauth/internal/rfc6750"
)

// ErrNoRefresh is what TokenSource.Refresh returns when it cannot get a token
// other than the rejected one (a fixed token, for instance). The Transport
// then hands the 401 response to the caller instead of an error.
var ErrNoRefresh = errors.New("bearer: the token cannot be refreshed")

var (
	errNoSource       = errors.New("bearer: Transport.Source is nil")
	errMalformedToken = errors.New("bearer: the token source returned a malformed token")
)

// TokenSource supplies the tokens a Transport sends. Its methods are called
// concurrently by every request in flight, so an implementation must be safe
// for concurrent use. Source is the implementation for most programs.
type TokenSource interface {
	// Token returns the token to send with a request. It is called for
	// every request to the origin, so it should return a held token rather
	// than fetch one each time. An empty token with a nil error sends the
	// request without credentials, and a 401 to it is returned as is. An
	// error fails the request with that error wrapped.
	Token(ctx context.Context) (string, error)

	// Refresh is called when the server answered 401 to a request that
	// carried the token stale. It returns a token other than stale: a new
	// one, or the current one if another request has already replaced
	// stale, so that a burst of 401s on one expired session costs one
	// sign-in. It returns ErrNoRefresh if it has no other token to offer;
	// any other error fails the request with that error wrapped.
	Refresh(ctx context.Context, stale string) (string, error)
}

// Transport is an http.RoundTripper that adds "Authorization: Bearer <token>"
// from Source to every request to Origin. When Origin answers 401, it asks
// Source for a fresh token once and, if the request can be sent again, resends
// it once with that token; a 401 to the resent request is the caller's
// answer, so a rejected token never causes a loop.
//
// A sessionauth server answers 401 from its middleware, before any handler
// runs, so resending is safe whatever the method; what can prevent it is the
// body: a request with no body (GET, HEAD, DELETE...) or with a body
// that GetBody can produce again (http.NewRequest sets GetBody for a
// *bytes.Buffer, *bytes.Reader or *strings.Reader body) is resent; one whose
// body was a stream that is now consumed is not. Its 401 goes back to the
// caller, and the caller's next request carries the fresh token.
//
// The Transport never modifies the caller's request: it sends a copy with the
// header set, replacing any Authorization header the caller set. Set the
// fields before first use and do not change them afterwards. A Transport is
// safe for concurrent use.
type Transport struct {
	// Origin is the only origin that receives the token, written
	// "scheme://host[:port]" with the scheme http or https, such as
	// "https://api.example.com" or "http://127.0.0.1:8080"; a trailing
	// "/" is allowed, any other path, query or user info is an error. Scheme
	// and host compare case-insensitively and a missing port is the scheme's
	// default, so "https://api.example.com:443" is the same origin, but
	// "http://api.example.com" and "https://api.example.com:8443" are not.
	// Required: it is not taken from the first request, because the first
	// URL a client is handed may itself be a link to somewhere else.
	//
	// Requests to other origins go through Base as they are: no token, no
	// refresh. This covers redirects: http.Client calls the Transport for
	// every hop, and a hop that leaves Origin gets no token.
	Origin string

	// Source supplies the tokens. Required.
	Source TokenSource

	// Base sends the requests. Default: http.DefaultTransport.
	Base http.RoundTripper

	once      sync.Once
	origin    origin
	originErr error
}

// RoundTrip implements http.RoundTripper. It returns an error, closing the
// request body, if the Transport is misconfigured, if Source fails, or if
// Source returns a token that is not a well-formed RFC 6750 b64token. Errors
// never contain a token.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(func() { t.origin, t.originErr = parseOrigin(t.Origin) })
	err := t.originErr
	if err == nil && t.Source == nil {
		err = errNoSource
	}
	if err != nil {
		closeBody(req)
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if req.URL == nil || originOf(req.URL) != t.origin {
		return base.RoundTrip(req)
	}

	ctx := req.Context()
	token, err := t.Source.Token(ctx)
	switch {
	case err != nil:
		closeBody(req)
		return nil, fmt.Errorf("bearer: getting a token: %w", err)
	case token == "":
		return base.RoundTrip(req)
	case !validToken(token):
		closeBody(req)
		return nil, errMalformedToken
	}
	resp, err := base.RoundTrip(withToken(req, token))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}

	// The request body, if any, was consumed (and closed) by base: from
	// here on only GetBody can produce it again.
	fresh, err := t.Source.Refresh(ctx, token)
	switch {
	case errors.Is(err, ErrNoRefresh):
		return resp, nil
	case err != nil:
		discard(resp)
		return nil, fmt.Errorf("bearer: refreshing the token: %w", err)
	case fresh == "" || fresh == token:
		return resp, nil
	case !validToken(fresh):
		discard(resp)
		return nil, errMalformedToken
	}
	retry := withToken(req, fresh)
	switch {
	case req.GetBody != nil:
		body, err := req.GetBody()
		if err != nil {
			discard(resp)
			return nil, fmt.Errorf("bearer: replaying the request body: %w", err)
		}
		retry.Body = body
	case req.Body != nil && req.Body != http.NoBody:
		return resp, nil
	}
	discard(resp)
	return base.RoundTrip(retry)
}

// withToken returns a copy of req that carries token. The header map is
// copied so that neither the caller's request nor a concurrent hop sees it.
func withToken(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	r.Header["Authorization"] = []string{"Bearer " + token}
	return r
}

// maxDrain bounds what is read of a rejected response before closing it: a
// sessionauth 401 body is a few dozen bytes, and reading it to the end lets
// the connection carry the retry; a huge body is not worth reading.
const maxDrain = 4 << 10

func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// maxTokenLen keeps the header within the 1024 bytes a sessionauth server
// reads (sessionauth.MaxAuthorizationLength): a longer token would be
// rejected there anyway, so it is not sent.
const maxTokenLen = 1024 - len("Bearer ")

// validToken reports whether tok is an RFC 6750 b64token that a sessionauth
// server would read. Checking it keeps a broken source from injecting header
// syntax.
func validToken(tok string) bool {
	return len(tok) <= maxTokenLen && rfc6750.IsB64Token(tok)
}

// origin is a normalized scheme, host and port. Two URLs are the same origin
// when their origins are equal.
type origin struct {
	scheme, host, port string
}

func parseOrigin(s string) (origin, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		u.User != nil || u.Opaque != "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return origin{}, fmt.Errorf("bearer: Transport.Origin %q is not of the form scheme://host[:port]", s)
	}
	return originOf(u), nil
}

// originOf returns the origin of u. Anything unusual (a trailing dot, an
// explicit port with leading zeros) makes a different origin, so an oddly
// written URL fails closed: it gets no token.
func originOf(u *url.URL) origin {
	o := origin{
		scheme: strings.ToLower(u.Scheme),
		host:   strings.ToLower(u.Hostname()),
		port:   u.Port(),
	}
	if o.port == "" {
		switch o.scheme {
		case "http":
			o.port = "80"
		case "https":
			o.port = "443"
		}
	}
	return o
}
