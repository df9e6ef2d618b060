// Package rfc6750 is the grammar of bearer credentials (RFC 6750 §2.1), the
// one definition the server's middleware and the client's transport share:
//
//	credentials = "Bearer" 1*SP b64token
//	b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// The scheme is matched in any case (RFC 9110 §11.1).
package rfc6750

// Result is the verdict of Parse.
type Result uint8

const (
	// Bearer: the value is bearer credentials; Parse returns the token.
	Bearer Result = iota
	// OtherScheme: the value names another scheme, such as Basic.
	OtherScheme
	// Malformed: the value is neither bearer credentials nor another
	// scheme's.
	Malformed
)

// Parse reads one Authorization header value. Bounding its length is the
// caller's job.
func Parse(h string) (token string, r Result) {
	i := 0
	for i < len(h) && IsTokenChar(h[i]) {
		i++
	}
	scheme, rest := h[:i], h[i:]
	if !IsBearer(scheme) {
		if scheme != "" && (rest == "" || rest[0] == ' ') {
			return "", OtherScheme
		}
		return "", Malformed
	}
	if rest == "" || rest[0] != ' ' {
		return "", Malformed
	}
	for rest != "" && rest[0] == ' ' {
		rest = rest[1:]
	}
	if !IsB64Token(rest) {
		return "", Malformed
	}
	return rest, Bearer
}

// IsBearer reports whether scheme is "Bearer" in any case. Setting bit 5
// lowers an ASCII letter's case and maps no other byte to a letter, so the
// test is exact.
func IsBearer(scheme string) bool {
	return len(scheme) == len("bearer") &&
		scheme[0]|0x20 == 'b' && scheme[1]|0x20 == 'e' && scheme[2]|0x20 == 'a' &&
		scheme[3]|0x20 == 'r' && scheme[4]|0x20 == 'e' && scheme[5]|0x20 == 'r'
}

// IsTokenChar reports whether c may appear in an auth-scheme (RFC 9110
// tchar).
func IsTokenChar(c byte) bool { return class[c]&tchar != 0 }

// IsB64Token reports whether s is a b64token.
func IsB64Token(s string) bool {
	i := 0
	for i < len(s) && class[s[i]]&b64 != 0 {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

const (
	tchar = 1 << iota
	b64
)

// class holds the character classes of the grammar, so that a scan costs a
// load and a test per byte.
var class = func() (t [256]uint8) {
	for c := range 256 {
		alnum := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if alnum || has("!#$%&'*+-.^_`|~", c) {
			t[c] |= tchar
		}
		if alnum || has("-._~+/", c) {
			t[c] |= b64
		}
	}
	return t
}()

func has(set string, c int) bool {
	for i := range len(set) {
		if int(set[i]) == c {
			return true
		}
	}
	return false
}
