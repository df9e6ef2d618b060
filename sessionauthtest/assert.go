package sessionauthtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sessionauth/sessionauth"
)

// Response is what the assertions accept: the recorder of a handler test
// (User.Do, Do) or the response of a real server.
type Response interface {
	*httptest.ResponseRecorder | *http.Response
}

// AssertUnauthorized checks that r is the library's 401: status 401,
// Content-Type application/json, the body {"message":"Unauthorized"} byte for
// byte, and a WWW-Authenticate Bearer challenge. Otherwise it reports every
// difference with t.Errorf. It returns whether r passed.
//
//	sessionauthtest.AssertUnauthorized(t, rec)
func AssertUnauthorized[R Response](t TB, r R) bool {
	t.Helper()
	return assertResponse(t, r, http.StatusUnauthorized, sessionauth.BodyUnauthorized)
}

// AssertForbidden checks that r is the library's 403: status 403,
// Content-Type application/json and the body {"message":"You don't have
// access to this project"} byte for byte. Otherwise it reports every
// difference with t.Errorf. It returns whether r passed.
func AssertForbidden[R Response](t TB, r R) bool {
	t.Helper()
	return assertResponse(t, r, http.StatusForbidden, sessionauth.BodyForbidden)
}

// AssertUnavailable checks that r is the library's 503, the answer to a
// failing store or access resolver: status 503, Content-Type
// application/json and the body {"message":"Service Unavailable"} byte for
// byte. Otherwise it reports every difference with t.Errorf. It returns
// whether r passed.
func AssertUnavailable[R Response](t TB, r R) bool {
	t.Helper()
	return assertResponse(t, r, http.StatusServiceUnavailable, sessionauth.BodyUnavailable)
}

// maxBodyShown bounds how much of an unexpected body a failure quotes, and
// maxBodyRead how much of a real response's body is read to compare it: the
// bodies checked here are tens of bytes.
const (
	maxBodyShown = 200
	maxBodyRead  = 64 << 10
)

func assertResponse[R Response](t TB, r R, status int, body string) bool {
	t.Helper()
	res, ok := any(r).(*http.Response)
	if rec, isRec := any(r).(*httptest.ResponseRecorder); isRec && rec != nil {
		// Result, unlike the live Header map, is what the client received:
		// the headers as they were when the status was written.
		res, ok = rec.Result(), true
	}
	if !ok || res == nil {
		t.Errorf("sessionauthtest: want a %d response, got nil", status)
		return false
	}
	got, err := peekBody(res)
	if err != nil {
		t.Errorf("sessionauthtest: reading the response body: %v", err)
		return false
	}
	var problems []string
	if res.StatusCode != status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", res.StatusCode, status))
	}
	if ct := res.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
		problems = append(problems, fmt.Sprintf("Content-Type %q, want [application/json]", ct))
	}
	if got != body {
		problems = append(problems, fmt.Sprintf("body %s, want %s", quoteShort(got), quoteShort(body)))
	}
	if status == http.StatusUnauthorized {
		if c := res.Header.Get("WWW-Authenticate"); c != "Bearer" && !strings.HasPrefix(c, "Bearer ") {
			problems = append(problems, fmt.Sprintf("WWW-Authenticate %q, want a Bearer challenge", c))
		}
	}
	if len(problems) > 0 {
		t.Errorf("sessionauthtest: not the library's %d response: %s", status, strings.Join(problems, "; "))
		return false
	}
	return true
}

// peekBody reads res.Body and puts back a body that yields the same bytes,
// so the caller can still read the response after the assertion.
func peekBody(res *http.Response) (string, error) {
	if res.Body == nil || res.Body == http.NoBody {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBodyRead))
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), res.Body), res.Body}
	return string(b), err
}

func quoteShort(s string) string {
	if len(s) > maxBodyShown {
		return fmt.Sprintf("%q... (%d bytes)", s[:maxBodyShown], len(s))
	}
	return fmt.Sprintf("%q", s)
}
