package sessionauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/storetest"
)

func TestCreateIssuesDistinct43CharBase64URLTokensOf32Bytes(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	const n = 2000
	tokens := make(map[string]bool, n)
	ids := make(map[string]bool, n)
	for range n {
		token, s := h.create(t, "user-1")
		require.Len(t, token, 43)
		assert.Equal(t, sessionauth.TokenLength, len(token))
		assert.NotContains(t, token, "=")
		raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
		require.NoError(t, err, "token %d is not canonical base64url", len(tokens))
		assert.Len(t, raw, 32)
		assert.False(t, tokens[token], "token issued twice")
		assert.False(t, ids[s.ID], "session ID issued twice")
		tokens[token] = true
		ids[s.ID] = true
	}
}

func TestKeyForTokenIsLowercaseHexSHA256(t *testing.T) {
	// FIPS 180-2 test vectors.
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sessionauth.KeyForToken("abc"))
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sessionauth.KeyForToken(""))
}

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// The store must only ever see the SHA-256 of a token: every key the Manager
// passes is the lowercase hex of the hash of a token it issued, and no key or
// value carries a token, in text or as its decoded bytes.
func TestStoreSeesOnlyHexSHA256OfTokens(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, o)
		ctx := context.Background()
		var tokens []string
		issue := func(userID string) *sessionauth.Session {
			tok, s, err := h.m.Create(ctx, userID, sessionauth.Metadata{IP: "192.0.2.1", UserAgent: "test", Values: map[string]string{"org": "acme"}})
			require.NoError(t, err)
			tokens = append(tokens, tok)
			return s
		}

		issue("alice")
		issue("alice")
		c := issue("alice")
		h.clock.Advance(2 * time.Minute)
		a, err := h.m.Authenticate(ctx, tokens[0]) // touches the first session
		require.NoError(t, err)
		_, err = h.m.SetValues(ctx, a, map[string]string{"org": "globex"})
		require.NoError(t, err)
		_, err = h.m.List(ctx, "alice")
		require.NoError(t, err)
		rotated, rotatedSession, err := h.m.Rotate(ctx, a)
		require.NoError(t, err)
		tokens = append(tokens, rotated)
		require.NoError(t, h.m.RevokeID(ctx, "alice", c.ID))
		_, err = h.m.RevokeUser(ctx, "alice", rotatedSession)
		require.NoError(t, err)
		require.NoError(t, h.m.Revoke(ctx, rotatedSession))

		keys := map[string]bool{}
		for _, tok := range tokens {
			keys[sessionauth.KeyForToken(tok)] = true
		}
		ops := h.callsOf()
		require.NotEmpty(t, ops)
		seen := map[storetest.Op]bool{}
		for _, op := range ops {
			for _, key := range []string{op.Key, op.NewKey} {
				if key != "" {
					assert.Regexp(t, lowerHex64, key, "%s key", op.Op)
					assert.True(t, keys[key], "%s key is not the hash of an issued token", op.Op)
					seen[op.Op] = true
				}
			}
			for _, tok := range tokens {
				raw, err := base64.RawURLEncoding.DecodeString(tok)
				require.NoError(t, err)
				assert.NotContains(t, op.Key+op.NewKey+op.UserID, tok, op.Op)
				for _, value := range [][]byte{op.Data, []byte(op.UserID)} {
					assert.False(t, bytes.Contains(value, []byte(tok)), "%s value holds a token", op.Op)
					assert.False(t, bytes.Contains(value, raw), "%s value holds a token's bytes", op.Op)
					assert.False(t, bytes.Contains(value, []byte(sessionauth.KeyForToken(tok))), "%s value holds a store key", op.Op)
				}
			}
		}
		for _, op := range []storetest.Op{storetest.OpPut, storetest.OpTouch, storetest.OpDelete, storetest.OpDeleteUser} {
			assert.True(t, seen[op], "the run never reached %s", op)
		}
		if o.noLoader {
			assert.True(t, seen[storetest.OpGet])
		} else {
			assert.True(t, seen[storetest.OpLoadSession])
		}
	})
}

// Tokens of any shape but the one Create issues are rejected before the
// store is asked, so hostile input never reaches it.
func TestAuthenticateRejectsMalformedTokensWithoutStoreAccess(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	good, _ := h.create(t, "user-1")
	// The last character of a 43-character token carries 4 bits of the
	// last byte and 2 bits that must be zero: a set low bit is a different
	// string for the same bytes.
	noncanonical := good[:42] + string(base64URLAlphabet[strings.IndexByte(base64URLAlphabet, good[42])|1])

	tests := map[string]string{
		"empty":                     "",
		"one short":                 good[:42],
		"one long":                  good + "A",
		"padded":                    good + "=",
		"standard base64 alphabet":  "+" + good[1:],
		"slash":                     good[:10] + "/" + good[11:],
		"dot from the b64token set": good[:10] + "." + good[11:],
		"non-canonical last char":   noncanonical,
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			h.resetCalls()
			_, err := h.m.Authenticate(context.Background(), tok)
			assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
			assert.Empty(t, h.callsOf(), "the store was consulted")
		})
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
