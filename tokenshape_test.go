package sessionauth

import (
	"regexp"
	"strings"
	"testing"
)

// b64token is RFC 6750's b64token, independently of the parser's tables.
var b64token = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

// The token shape check and the bearer parser read several bytes per step;
// a byte outside the alphabet must be caught at every position and in every
// lane of the scan, and the parser's verdict must not depend on which path
// it took.
func TestTokenShapeCheckCatchesEveryByteAtEveryPosition(t *testing.T) {
	const good = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234" // 43 characters, last one canonical
	if !wellFormedToken(good) {
		t.Fatal("the reference token is not well formed")
	}
	for pos := range len(good) {
		for c := range 256 {
			b := []byte(good)
			b[pos] = byte(c)
			tok := string(b)
			value := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", byte(c))
			inAlphabet := value >= 0
			canonical := pos != len(good)-1 || value&3 == 0
			want := inAlphabet && canonical
			if got := wellFormedToken(tok); got != want {
				t.Fatalf("wellFormedToken with %q at %d = %v, want %v", byte(c), pos, got, want)
			}

			// A leading space is one more separator: the token is what
			// follows it.
			rest := strings.TrimLeft(tok, " ")
			parsed, wellFormed, err := parseCredentials("Bearer " + tok)
			wantToken := b64token.MatchString(rest)
			if wantToken != (err == nil) || wellFormed != (want && rest == tok) || (err == nil && parsed != rest) {
				t.Fatalf("parseCredentials with %q at %d: %q, %v, %v; want accepted %v, well formed %v",
					byte(c), pos, parsed, wellFormed, err, wantToken, want)
			}
		}
	}
}
