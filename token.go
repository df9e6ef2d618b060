package sessionauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

const (
	// tokenBytes of crypto/rand behind every token: 256 bits, so guessing
	// one live token among a billion takes about 2^226 tries.
	tokenBytes = 32
	// TokenLength is the length of a token: 32 bytes in base64url without
	// padding.
	TokenLength = 43
)

// newToken returns a fresh token from r (crypto/rand unless a test injects a
// reader). It never returns a short token: a failing source is an error.
func newToken(r io.Reader) (string, error) {
	var raw [tokenBytes]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("sessionauth: reading random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// newSessionID returns the random bytes behind a Session.ID. The ID is
// independent of the token so that it can be shown, logged and used in URLs
// without revealing anything about the token.
func newSessionID(r io.Reader) ([]byte, error) {
	id := make([]byte, sessionIDLen)
	if _, err := io.ReadFull(r, id); err != nil {
		return nil, fmt.Errorf("sessionauth: reading random session ID: %w", err)
	}
	return id, nil
}

// wellFormedToken reports whether tok has the exact shape of a token this
// package issues: what newToken's encoding decodes back to 32 bytes, 43
// characters of the base64url alphabet, the last one with its two unused bits
// zero. Anything else is rejected before hashing or touching the store.
func wellFormedToken(tok string) bool {
	if len(tok) != TokenLength {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if base64URL[tok[i]] == 0 {
			return false
		}
	}
	// 43 characters carry 258 bits; the last character's low 2 bits must
	// be zero, as in every token newToken encodes.
	return (base64URL[tok[TokenLength-1]]-1)&3 == 0
}

// base64URL maps a byte to 1 + its value in the base64url alphabet, or 0: a
// table, since every request checks its token with it.
var base64URL = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i) + 1
	}
	return t
}()

// hashToken returns SHA-256 of the token's characters. It does not allocate:
// the token is copied to a stack buffer, since converting a string longer
// than 32 bytes to a []byte would.
func hashToken(tok string) [32]byte {
	if len(tok) > TokenLength {
		return sha256.Sum256([]byte(tok))
	}
	var buf [TokenLength]byte
	copy(buf[:], tok)
	return sha256.Sum256(buf[:len(tok)])
}

// storeKey is the key a token's session is stored under: the hex SHA-256 of
// the token. Stores never see the token. It allocates once, for the string
// (hex.EncodeToString allocates twice).
func storeKey(hash [32]byte) string {
	var key [2 * len(hash)]byte
	hex.Encode(key[:], hash[:])
	return string(key[:])
}

// KeyForToken returns the store key of a token: the lowercase hex SHA-256 of
// its characters. It exists for store tests and migrations; the key must be
// treated as a secret, never logged.
func KeyForToken(token string) string {
	return storeKey(hashToken(token))
}
