package password_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/sessionauth/sessionauth/password"
)

var cheap = password.Params{Memory: 64, Time: 1}

func newHasher(t testing.TB, p password.Params) *password.Hasher {
	t.Helper()
	h, err := password.New(p)
	require.NoError(t, err)
	return h
}

func TestHashVerifiesOnlyTheRightPassword(t *testing.T) {
	h := newHasher(t, cheap)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse")
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, hash)
	other, err := h.Hash(ctx, "correct horse")
	require.NoError(t, err)
	assert.NotEqual(t, hash, other, "every hash has its own salt")

	ok, rehash, err := h.Verify(ctx, "correct horse", hash)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)
	for _, wrong := range []string{"", "correct hors", "correct horsE", "correct horse "} {
		ok, rehash, err := h.Verify(ctx, wrong, hash)
		require.NoError(t, err)
		assert.False(t, ok, wrong)
		assert.False(t, rehash)
	}
}

func TestDefaultsAreOWASPArgon2id(t *testing.T) {
	h := newHasher(t, password.Params{})
	hash, err := h.Hash(context.Background(), "x")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), hash)
}

func TestOlderParametersAndBcryptNeedRehash(t *testing.T) {
	ctx := context.Background()
	old := newHasher(t, password.Params{Memory: 32, Time: 1})
	oldHash, err := old.Hash(ctx, "pw")
	require.NoError(t, err)
	h := newHasher(t, cheap)
	ok, rehash, err := h.Verify(ctx, "pw", oldHash)
	require.NoError(t, err)
	assert.True(t, ok, "a hash of other parameters still verifies")
	assert.True(t, rehash)

	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	ok, rehash, err = h.Verify(ctx, "pw", string(b))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash, "bcrypt users move to argon2id")
	ok, rehash, err = h.Verify(ctx, "wrong", string(b))
	require.NoError(t, err)
	assert.False(t, ok)
	assert.False(t, rehash, "only a matched password is rehashed")

	long := strings.Repeat("a", 72)
	b, err = bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	require.NoError(t, err)
	ok, _, err = h.Verify(ctx, long+"b", string(b))
	require.NoError(t, err)
	assert.False(t, ok, "bytes bcrypt would ignore are not ignored")
}

func TestHostileHashesAreRefusedBeforeAnyWork(t *testing.T) {
	h := newHasher(t, cheap)
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	for _, tt := range []struct{ name, hash string }{
		{"4 TiB of memory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"1 GiB of memory", "$argon2id$v=19$m=1048576,t=1,p=1$" + salt + "$" + key},
		{"a million passes", "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key},
		{"255 lanes", "$argon2id$v=19$m=4096,t=1,p=255$" + salt + "$" + key},
		{"zero passes", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"parameters out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"other version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"huge key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("a", 200)},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
		{"bcrypt cost 31", "$2a$31$" + strings.Repeat("a", 53)},
		{"garbage", "plaintext"},
		{"empty", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "pw", tt.hash)
			assert.ErrorIs(t, err, password.ErrMalformedHash)
			assert.False(t, ok)
			assert.False(t, rehash)
		})
	}
}

func TestNewRefusesParametersOutOfBounds(t *testing.T) {
	for _, p := range []password.Params{
		{Memory: password.MaxMemory + 1},
		{Time: password.MaxTime + 1},
		{Threads: password.MaxThreads + 1},
		{KeyLen: 8},
		{SaltLen: 4},
		{MaxConcurrent: -1},
	} {
		_, err := password.New(p)
		assert.Error(t, err, "%+v", p)
	}
}

func TestChecksWaitForAFreeSlotAndGiveUpWithTheirContext(t *testing.T) {
	h := newHasher(t, password.Params{Memory: 64, Time: 1, MaxConcurrent: 1})
	hash, err := h.Hash(context.Background(), "pw")
	require.NoError(t, err)
	require.NoError(t, h.Hold(context.Background())) // the one slot is busy

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = h.Verify(ctx, "pw", hash)
	assert.True(t, errors.Is(err, context.Canceled), "err %v", err)
	assert.ErrorIs(t, h.VerifyNone(ctx, "pw"), context.Canceled)
	_, err = h.Hash(ctx, "pw")
	assert.ErrorIs(t, err, context.Canceled)

	done := make(chan bool)
	go func() {
		ok, _, _ := h.Verify(context.Background(), "pw", hash)
		done <- ok
	}()
	h.Free()
	assert.True(t, <-done, "the waiting check runs once the slot is free")
}

func TestTooLongPasswordsNeverMatch(t *testing.T) {
	h := newHasher(t, cheap)
	_, err := h.Hash(context.Background(), strings.Repeat("a", password.MaxPasswordLen+1))
	assert.ErrorIs(t, err, password.ErrPasswordTooLong)
	max := strings.Repeat("a", password.MaxPasswordLen)
	hash, err := h.Hash(context.Background(), max)
	require.NoError(t, err)
	ok, _, err := h.Verify(context.Background(), max+"a", hash)
	require.NoError(t, err)
	assert.False(t, ok)
}
