package sessionauth

import (
	"net/http"

	"github.com/sessionauth/sessionauth/internal/rfc6750"
)

// MaxAuthorizationLength caps the Authorization header the parser looks at,
// in bytes. A longer header is rejected as malformed without being scanned.
const MaxAuthorizationLength = 1024

// BearerToken extracts the token from the request's Authorization header as
// RFC 6750 §2.1 defines it: the scheme "Bearer" in any case, one or more
// spaces, then a b64token (ALPHA DIGIT - . _ ~ + / followed by any "=").
// It fails with ErrNoToken when there is no Authorization header or it names
// another scheme, and with ErrMalformedToken for anything else that is not
// exactly one well-formed bearer credential, including two Authorization
// headers. Tokens in the URL query, a form body or a cookie are never read.
func BearerToken(r *http.Request) (string, error) {
	token, _, err := bearerToken(r)
	return token, err
}

// bearerToken is BearerToken that also reports whether the token has the
// exact shape of the tokens this package issues (wellFormedToken), so that
// the middleware scans the token once, not twice.
func bearerToken(r *http.Request) (token string, wellFormed bool, err error) {
	switch values := r.Header["Authorization"]; len(values) {
	case 0:
		return "", false, ErrNoToken
	case 1:
		return parseCredentials(values[0])
	}
	return "", false, ErrMalformedToken
}

// parseCredentials is bearerToken for the value of one Authorization header.
func parseCredentials(h string) (token string, wellFormed bool, err error) {
	if len(h) > MaxAuthorizationLength {
		return "", false, ErrMalformedToken
	}
	token, r := rfc6750.Parse(h)
	switch r {
	case rfc6750.OtherScheme:
		return "", false, ErrNoToken
	case rfc6750.Malformed:
		return "", false, ErrMalformedToken
	}
	return token, wellFormedToken(token), nil
}
