package sessionauthtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/sessionauthtest"
)

func TestUserRequest_CarriesTheBearerToken(t *testing.T) {
	env := sessionauthtest.New(t)
	u := env.User(t, "ada")

	r := u.Request("POST", "/keys?x=1", strings.NewReader(`{"a":1}`))
	assert.Equal(t, []string{"Bearer " + u.Token}, r.Header.Values("Authorization"))
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/keys?x=1", r.URL.RequestURI())
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(body))
}

func TestUserRequest_AnonymousCarriesNoAuthorization(t *testing.T) {
	for name, u := range map[string]*sessionauthtest.User{"zero User": {}, "nil User": nil} {
		t.Run(name, func(t *testing.T) {
			r := u.Request("GET", "/projects", nil)
			assert.Empty(t, r.Header.Values("Authorization"))
		})
	}
}

func TestDo_ServesTheRequestAndRecordsTheResponse(t *testing.T) {
	env := sessionauthtest.New(t)
	u := env.User(t, "ada")
	var seen *http.Request
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.Header().Set("X-Test", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	})

	rec := u.Do(h, "PUT", "/pot", nil)
	require.NotNil(t, seen)
	assert.Equal(t, "PUT", seen.Method)
	assert.Equal(t, "Bearer "+u.Token, seen.Header.Get("Authorization"))
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "yes", rec.Header().Get("X-Test"))
	assert.Equal(t, "short and stout", rec.Body.String())
}
