package sessionauthtest_test

import (
	"context"
	"fmt"
	"go/build/constraint"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/authapi"
	"github.com/sessionauth/sessionauth/password"
	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// loggingT is a fakeT with the Logf of a *testing.T.
type loggingT struct {
	fakeT
	mu    sync.Mutex
	lines []string
}

func (l *loggingT) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *loggingT) logged() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func TestEnvLogsToTheTestsOwnLogAndStopsWhenItEnds(t *testing.T) {
	lt := &loggingT{}
	env := sessionauthtest.New(lt)
	u := env.User(lt, "ada")
	require.NotNil(t, u)
	lines := lt.logged()
	require.NotEmpty(t, lines)
	last := lines[len(lines)-1]
	assert.Contains(t, last, "session_created")
	assert.NotContains(t, last, u.Token)

	for _, fn := range lt.cleanups {
		fn()
	}
	_ = env.Manager.Revoke(context.Background(), u.Session) // logs after the test: dropped
	assert.Len(t, lt.logged(), len(lines), "nothing reaches a test that has completed")
}

func TestEnvWithoutALogDiscards(t *testing.T) {
	ft := &fakeT{} // no Logf
	env := sessionauthtest.New(ft)
	require.NotNil(t, env.User(ft, "ada"), "creating a session logs, into nothing")
	assert.Empty(t, ft.failures())
}

// TestDevTokenOnlyInDevBuildFiles: the development token's value appears in
// no file of this package that a default build compiles.
func TestDevTokenOnlyInDevBuildFiles(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		if !strings.Contains(string(data), "test-token") {
			continue
		}
		first, _, _ := strings.Cut(string(data), "\n")
		expr, err := constraint.Parse(first)
		require.NoError(t, err, "%s holds the token without a build constraint", name)
		assert.False(t, expr.Eval(func(tag string) bool { return false }), "%s is compiled without sessionauth_dev", name)
	}
}

func TestSignInThroughTheEndpointsInOneLine(t *testing.T) {
	env := sessionauthtest.New(t)
	h, err := password.New(password.Params{Memory: 64, Time: 1})
	require.NoError(t, err)
	hash, err := h.Hash(context.Background(), "correct horse")
	require.NoError(t, err)
	api, err := authapi.New(authapi.Config{Manager: env.Manager, Hasher: h,
		Accounts: func(_ context.Context, name string) (authapi.Account, error) {
			if name != "ada@example.com" {
				return authapi.Account{}, authapi.ErrNoSuchAccount
			}
			return authapi.Account{UserID: "ada", PasswordHash: hash}, nil
		}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	api.Register(mux)

	ada := env.SignIn(t, mux, "ada@example.com", "correct horse")
	assert.Equal(t, "ada", ada.ID)
	rec := ada.Do(mux, http.MethodGet, "/auth/sessions", nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), ada.Session.ID)

	ft := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		env.SignIn(ft, mux, "ada@example.com", "wrong")
	}()
	<-done
	require.Len(t, ft.failures(), 1)
	assert.Contains(t, ft.failures()[0], "status 401")
	assert.NotContains(t, ft.failures()[0], "wrong\"", "the password is not repeated")
}
