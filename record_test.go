package sessionauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// storedRecord creates a session with md and returns it with the record the
// store received and the store key.
func storedRecord(t *testing.T, h *harness, md sessionauth.Metadata) (*sessionauth.Session, []byte, string) {
	t.Helper()
	h.resetCalls()
	token, s, err := h.m.Create(context.Background(), "user-1", md)
	require.NoError(t, err)
	puts := h.callsOf(storetest.OpPut)
	require.Len(t, puts, 1)
	require.Equal(t, sessionauth.KeyForToken(token), puts[0].Key)
	return s, puts[0].Data, puts[0].Key
}

func TestDecodeSessionReadsBackWhatCreateStored(t *testing.T) {
	h := newHarness(t, sessionauth.Config{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour})
	md := sessionauth.Metadata{IP: "2001:db8::1", UserAgent: "Mozilla/5.0 ünïcode", Values: map[string]string{"org": "acme", "project": "p-1"}}
	s, data, key := storedRecord(t, h, md)
	assert.LessOrEqual(t, len(data), sessionauth.MaxRecordSize)

	got, err := sessionauth.DecodeSession(key, data, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, s.ID, got.ID)
	assert.Equal(t, s.UserID, got.UserID)
	assert.Equal(t, s.Metadata, got.Metadata)
	for _, pair := range [][2]time.Time{
		{s.CreatedAt, got.CreatedAt}, {s.LastUsedAt, got.LastUsedAt},
		{s.IdleExpiresAt, got.IdleExpiresAt}, {s.ExpiresAt, got.ExpiresAt},
	} {
		assert.True(t, pair[0].Equal(pair[1]), "%v != %v", pair[0], pair[1])
	}
}

// A touch on a SessionStore writes only the expiry; the session read back
// must take its idle deadline and last use from that expiry.
func TestDecodeSessionDerivesIdleDeadlineAndLastUseFromStoreExpiry(t *testing.T) {
	const idle = 30 * time.Minute
	h := newHarness(t, sessionauth.Config{IdleTimeout: idle})
	s, data, key := storedRecord(t, h, sessionauth.Metadata{})

	later := s.IdleExpiresAt.Add(7 * time.Minute)
	got, err := sessionauth.DecodeSession(key, data, later)
	require.NoError(t, err)
	assert.True(t, got.IdleExpiresAt.Equal(later))
	assert.True(t, got.LastUsedAt.Equal(later.Add(-idle)))
	assert.True(t, got.CreatedAt.Equal(s.CreatedAt))

	// Pinned at the absolute deadline, the expiry says nothing about use.
	got, err = sessionauth.DecodeSession(key, data, s.ExpiresAt)
	require.NoError(t, err)
	assert.True(t, got.LastUsedAt.Equal(s.LastUsedAt))
}

func TestDecodeSessionRejectsCorruptRecords(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	_, data, key := storedRecord(t, h, sessionauth.Metadata{IP: "192.0.2.1", Values: map[string]string{"a": "b"}})

	bad := map[string][]byte{
		"nil":            nil,
		"wrong version":  append([]byte{data[0] + 1}, data[1:]...),
		"trailing byte":  append(append([]byte{}, data...), 0),
		"oversized":      make([]byte, sessionauth.MaxRecordSize+1),
		"scs gob record": []byte("\x0e\xff\x81\x04\x01\x02\xff\x82\x00\x01\x0c\x01\x10\x00\x00"),
	}
	for n := range len(data) {
		bad["truncated to "+strconv.Itoa(n)] = data[:n]
	}
	for name, b := range bad {
		t.Run(name, func(t *testing.T) {
			s, err := sessionauth.DecodeSession(key, b, time.Time{})
			assert.ErrorIs(t, err, sessionauth.ErrCorruptRecord)
			assert.Nil(t, s)
		})
	}
}

func TestCreateRejectsMetadataOverItsLimits(t *testing.T) {
	tooMany := map[string]string{}
	for i := range 17 {
		tooMany["k"+strconv.Itoa(i)] = "v"
	}
	tests := map[string]struct {
		userID string
		md     sessionauth.Metadata
	}{
		"empty user ID":       {"", sessionauth.Metadata{}},
		"user ID over 256":    {strings.Repeat("u", 257), sessionauth.Metadata{}},
		"user ID not UTF-8":   {"\xff", sessionauth.Metadata{}},
		"IP over 64 bytes":    {"u", sessionauth.Metadata{IP: strings.Repeat("1", 65)}},
		"IP not UTF-8":        {"u", sessionauth.Metadata{IP: "\xc0"}},
		"17 values":           {"u", sessionauth.Metadata{Values: tooMany}},
		"empty value key":     {"u", sessionauth.Metadata{Values: map[string]string{"": "v"}}},
		"value key over 64":   {"u", sessionauth.Metadata{Values: map[string]string{strings.Repeat("k", 65): "v"}}},
		"value over 1 KiB":    {"u", sessionauth.Metadata{Values: map[string]string{"k": strings.Repeat("v", 1025)}}},
		"value not UTF-8":     {"u", sessionauth.Metadata{Values: map[string]string{"k": "\xff"}}},
		"value key not UTF-8": {"u", sessionauth.Metadata{Values: map[string]string{"\xff": "v"}}},
	}
	h := newHarness(t, sessionauth.Config{})
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h.resetCalls()
			token, s, err := h.m.Create(context.Background(), tt.userID, tt.md)
			assert.ErrorIs(t, err, sessionauth.ErrInvalidMetadata)
			assert.Empty(t, token)
			assert.Nil(t, s)
			assert.Empty(t, h.writes(), "nothing is stored")
		})
	}

	// The limits themselves are accepted.
	atLimit := map[string]string{}
	for i := range 16 {
		atLimit[strings.Repeat("k", 62)+strconv.Itoa(10+i)] = strings.Repeat("v", 1024)
	}
	token, s, err := h.m.Create(context.Background(), strings.Repeat("u", 256), sessionauth.Metadata{IP: strings.Repeat("1", 64), Values: atLimit})
	require.NoError(t, err)
	assert.Equal(t, atLimit, s.Values)
	got, err := h.m.Authenticate(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, atLimit, got.Values)
}

func TestCreateTruncatesLongUserAgentWithoutSplittingCharacters(t *testing.T) {
	h := newHarness(t, sessionauth.Config{})
	ua := "a" + strings.Repeat("é", 400) // 801 bytes; byte 512 is inside a character
	_, s, err := h.m.Create(context.Background(), "user-1", sessionauth.Metadata{UserAgent: ua})
	require.NoError(t, err)
	assert.Len(t, s.UserAgent, 511)
	assert.True(t, utf8.ValidString(s.UserAgent))
	assert.True(t, strings.HasPrefix(ua, s.UserAgent))

	_, s, err = h.m.Create(context.Background(), "user-1", sessionauth.Metadata{UserAgent: "bad \xff agent"})
	require.NoError(t, err)
	assert.True(t, utf8.ValidString(s.UserAgent), "invalid UTF-8 is replaced, not stored")
}

func TestRequestMetadataTakesPeerAddressNotForwardedHeaders(t *testing.T) {
	tests := map[string]struct{ remote, ip string }{
		"IPv4":         {"203.0.113.7:51234", "203.0.113.7"},
		"IPv6":         {"[2001:db8::1]:443", "2001:db8::1"},
		"no port":      {"203.0.113.7", "203.0.113.7"},
		"IPv6 no port": {"[2001:db8::1]", "2001:db8::1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/auth/sign-in", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-For", "198.51.100.66")
			r.Header.Set("X-Real-IP", "198.51.100.67")
			r.Header.Set("User-Agent", "curl/8.5")
			md := sessionauth.RequestMetadata(r)
			assert.Equal(t, tt.ip, md.IP)
			assert.Equal(t, "curl/8.5", md.UserAgent)
			assert.Nil(t, md.Values)
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("User-Agent", strings.Repeat("x", 2000))
	assert.Len(t, sessionauth.RequestMetadata(r).UserAgent, 512)
}

func TestCorruptStoredRecordIsUnknownSessionNotFailure(t *testing.T) {
	storeModes(t, func(t *testing.T, o harnessOpts) {
		h := newHarness(t, sessionauth.Config{}, o)
		token := plantableToken(t)
		require.NoError(t, h.mem.Put(context.Background(), sessionauth.KeyForToken(token), "user-1", []byte{1, 2, 3}, h.clock.Now().Add(time.Hour)))
		_, err := h.m.Authenticate(context.Background(), token)
		assert.ErrorIs(t, err, sessionauth.ErrUnknownSession)
		assert.Equal(t, http.StatusUnauthorized, h.authStatus(token))
		assert.Contains(t, h.logs.String(), "unreadable session record", "authentication logs it")

		list, err := h.m.List(context.Background(), "user-1")
		require.NoError(t, err)
		assert.Empty(t, list)
	})
}
