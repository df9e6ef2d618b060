package bearer

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOriginMatchesOnlyTheSameSchemeHostAndPort(t *testing.T) {
	for _, tc := range []struct {
		origin, url string
		same        bool
	}{
		{"https://api.example.com", "https://api.example.com/projects?x=1", true},
		{"https://api.example.com", "https://API.Example.COM:443/projects", true},
		{"https://api.example.com:443/", "https://api.example.com/", true},
		{"HTTPS://API.EXAMPLE.COM", "https://api.example.com/", true},
		{"http://api.example.com", "http://api.example.com:80/", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/auth/session", true},
		{"http://[::1]:8080", "http://[::1]:8080/x", true},

		{"https://api.example.com", "http://api.example.com/", false},
		{"https://api.example.com", "https://api.example.com:8443/", false},
		{"https://api.example.com", "https://api.example.com:80/", false},
		{"https://api.example.com", "https://evil.example.com/", false},
		{"https://api.example.com", "https://api.example.com.evil.test/", false},
		{"https://api.example.com", "https://example.com/", false},
		{"https://api.example.com", "https://sub.api.example.com/", false},
		{"https://api.example.com", "https://api.example.com./", false},
		{"https://api.example.com", "ws://api.example.com/", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8081/", false},
		{"http://127.0.0.1:8080", "http://localhost:8080/", false},
	} {
		t.Run(tc.origin+" "+tc.url, func(t *testing.T) {
			o, err := parseOrigin(tc.origin)
			require.NoError(t, err)
			u, err := url.Parse(tc.url)
			require.NoError(t, err)
			assert.Equal(t, tc.same, originOf(u) == o)
		})
	}
}

func TestValidTokenAcceptsOnlyB64Tokens(t *testing.T) {
	for _, tc := range []struct {
		token string
		ok    bool
	}{
		{"Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg", true},
		{"a-._~+/b==", true},
		{"", false},
		{"=", false},
		{"a=b", false},
		{"a b", false},
		{"a\r\nb", false},
		{"a,b", false},
		{"é", false},
	} {
		assert.Equal(t, tc.ok, validToken(tc.token), "%q", tc.token)
	}
}
