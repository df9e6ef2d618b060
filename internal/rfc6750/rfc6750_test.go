package rfc6750

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// b64token is RFC 6750's b64token, written independently of the tables.
var b64token = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// tchar is RFC 9110's token, written independently of the tables.
var tcharRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

func TestParseAgreesWithTheGrammarAtEveryByte(t *testing.T) {
	const good = "abc.DEF-_~+/123=="
	for pos := range len(good) {
		for c := range 256 {
			b := []byte(good)
			b[pos] = byte(c)
			tok := string(b)
			got, r := Parse("Bearer " + tok)
			rest := strings.TrimLeft(tok, " ")
			want := b64token.MatchString(rest)
			if want != (r == Bearer) || (want && got != rest) {
				t.Fatalf("Parse(%q) = %q, %v; want accepted %v", "Bearer "+tok, got, r, want)
			}
			assert.Equal(t, b64token.MatchString(tok), IsB64Token(tok), "%q", tok)
		}
	}
}

func TestParseSchemes(t *testing.T) {
	for _, tc := range []struct {
		in    string
		token string
		r     Result
	}{
		{"Bearer abc", "abc", Bearer},
		{"bEaReR    abc=", "abc=", Bearer},
		{"Basic dXNlcjpwYXNz", "", OtherScheme},
		{"Negotiate", "", OtherScheme},
		{"", "", Malformed},
		{"Bearer", "", Malformed},
		{"Bearer ", "", Malformed},
		{"Bearer\tabc", "", Malformed},
		{" Bearer abc", "", Malformed},
		{"Bearer abc def", "", Malformed},
		{"Bearer a=b", "", Malformed},
		{"Bearer:abc", "", Malformed},
	} {
		token, r := Parse(tc.in)
		assert.Equal(t, tc.token, token, "%q", tc.in)
		assert.Equal(t, tc.r, r, "%q", tc.in)
	}
}

func TestIsBearerMatchesTheSchemeInAnyCaseOnly(t *testing.T) {
	for _, s := range []string{"bearer", "Bearer", "BEARER", "bEaReR"} {
		assert.True(t, IsBearer(s), s)
	}
	for _, s := range []string{"", "beare", "bearers", "bearer ", "`earer", "bea\x12er", "beaRe\x12", "BEARE@", "Bearer\x00"} {
		assert.False(t, IsBearer(s), "%q", s)
	}
	for i := range len("bearer") {
		for c := range 256 {
			b := []byte("bearer")
			b[i] = byte(c)
			assert.Equal(t, strings.EqualFold(string(b), "bearer") && isASCII(b), IsBearer(string(b)), "%q", b)
		}
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func TestIsTokenCharIsRFC9110Tchar(t *testing.T) {
	for c := range 256 {
		assert.Equal(t, tcharRE.MatchString(string([]byte{byte(c)})), IsTokenChar(byte(c)), "%q", byte(c))
	}
}
