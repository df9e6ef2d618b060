package sessionauth

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bearerCredential is RFC 6750 §2.1's credentials, written independently of
// the parser: the scheme in any case, one or more spaces, a b64token.
var bearerCredential = regexp.MustCompile(`^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)$`)

// FuzzParseBearer feeds BearerToken one, two or no Authorization headers of
// arbitrary bytes. Whatever it gets, it must not panic, must accept exactly
// one header that is a bearer credential within MaxAuthorizationLength (and
// nothing else), must return the credential's token, which parses again to
// itself, and must reject anything longer than the cap.
func FuzzParseBearer(f *testing.F) {
	valid := "Bearer " + testToken(1)
	for _, h := range []string{
		valid, "bearer " + testToken(2), "BEARER    abc", "Bearer a.b-c_d~e+f/g==", "Bearer", "Bearer ",
		"Bearer  ", "Basic dXNlcjpwYXNz", "Bearer\tabc", "Bearer abc def", "Bearer =abc", "Bearer abc=d",
		"Bearer: abc", "Bearer,abc", "Bearerabc", " Bearer abc", "Bearer abc ", "Bearer \x00abc",
		"Bearer ab\xffc", "Bearer tökén", "Bеarer abc", "", "=", "Bearer " + strings.Repeat("A", MaxAuthorizationLength),
	} {
		f.Add(h, "", uint8(1))
	}
	f.Add(valid, valid, uint8(2))
	f.Add(valid, "", uint8(0))

	f.Fuzz(func(t *testing.T, first, second string, count uint8) {
		r := &http.Request{Header: http.Header{}}
		values := []string{first, second}[:count%3]
		if len(values) > 0 {
			r.Header["Authorization"] = values
		}
		want := ""
		if len(values) == 1 && len(first) <= MaxAuthorizationLength {
			if m := bearerCredential.FindStringSubmatch(first); m != nil {
				want = m[1]
			}
		}

		token, err := BearerToken(r)
		switch {
		case want == "" && err == nil:
			t.Fatalf("accepted %q (%d headers) as token %q", values, len(values), token)
		case want != "" && err != nil:
			t.Fatalf("rejected the well-formed credential %q: %v", first, err)
		case err != nil:
			if token != "" || !errorIsOneOf(err, ErrNoToken, ErrMalformedToken) {
				t.Fatalf("rejection returned %q, %v", token, err)
			}
			if len(values) == 0 && !errors.Is(err, ErrNoToken) {
				t.Fatalf("no header: got %v, want ErrNoToken", err)
			}
		case token != want:
			t.Fatalf("%q parsed as token %q, want %q", first, token, want)
		default:
			again, _, err := parseCredentials("Bearer " + token)
			if err != nil || again != token {
				t.Fatalf("token %q does not round-trip: got %q, %v", token, again, err)
			}
		}
	})
}

func errorIsOneOf(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// testToken returns a well-formed token made from seed, for seeds only.
func testToken(seed byte) string {
	raw := bytes.Repeat([]byte{seed}, tokenBytes)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// FuzzDecodeSession feeds DecodeSession arbitrary bytes. It must not panic,
// must return a session whose every field respects the size limits (so a
// hostile record cannot make it allocate beyond them), and anything it
// accepts must be the one encoding of that session: encoding it again gives
// the same bytes.
func FuzzDecodeSession(f *testing.F) {
	for _, s := range recordSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{recordVersion})
	f.Add([]byte{recordVersion + 1})
	f.Add(bytes.Repeat([]byte{0xff}, 64))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, idle, err := decodeRecord(data)
		viaAPI, apiErr := DecodeSession("key", data, time.Time{})
		if (err == nil) != (apiErr == nil) {
			t.Fatalf("decodeRecord and DecodeSession disagree: %v, %v", err, apiErr)
		}
		if _, err := DecodeSession("key", data, time.Unix(0, 1)); (err == nil) != (apiErr == nil) {
			t.Fatalf("the store's expiry changed whether the record decodes: %v", err)
		}
		if err != nil {
			if s != nil || viaAPI != nil {
				t.Fatal("a session returned with an error")
			}
			return
		}
		if len(data) > MaxRecordSize || len(s.UserID) > maxUserIDLen || len(s.IP) > maxIPLen ||
			len(s.UserAgent) > maxUserAgentLen || len(s.Values) > maxValues {
			t.Fatalf("accepted a record beyond the size limits: %d bytes", len(data))
		}
		if viaAPI.ID != s.ID || viaAPI.UserID != s.UserID || viaAPI.ref == nil || viaAPI.ref.key != "key" {
			t.Fatal("DecodeSession returned another session than decodeRecord")
		}
		again, err := reencode(s, idle)
		if err != nil {
			t.Fatalf("a decoded session does not encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", data, again)
		}
	})
}

// reencode is the inverse of decodeRecord: the record of s as a Manager
// writes it.
func reencode(s *Session, idle time.Duration) ([]byte, error) {
	rawID, err := base64.RawURLEncoding.DecodeString(s.ID)
	if err != nil {
		return nil, err
	}
	return encodeRecord(s, rawID, idle)
}

// recordSeeds returns records written by encodeRecord for a range of
// sessions: empty and full metadata, extreme times, multibyte text.
func recordSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	id := bytes.Repeat([]byte{7}, sessionIDLen)
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	full := map[string]string{}
	for i := range maxValues {
		full[strings.Repeat(string(rune('a'+i)), maxValueKeyLen)] = strings.Repeat("v", maxValueLen)
	}
	sessions := []*Session{
		{UserID: "u", CreatedAt: base, LastUsedAt: base, IdleExpiresAt: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour)},
		{UserID: "user-ü-日本", CreatedAt: base, LastUsedAt: base.Add(time.Second), IdleExpiresAt: base.Add(2 * time.Hour),
			ExpiresAt: base.Add(time.Hour), Metadata: Metadata{IP: "2001:db8::1", UserAgent: "curl/8.0", Values: map[string]string{"org": "acme", "theme": ""}}},
		{UserID: strings.Repeat("x", maxUserIDLen), CreatedAt: time.Unix(0, -1<<63).UTC(), LastUsedAt: time.Unix(0, 1<<63-1).UTC(),
			Metadata: Metadata{IP: strings.Repeat("9", maxIPLen), UserAgent: strings.Repeat("é", maxUserAgentLen/2), Values: full}},
	}
	var out [][]byte
	for _, s := range sessions {
		b, err := encodeRecord(s, id, 30*time.Minute)
		require.NoError(tb, err)
		out = append(out, b)
	}
	return out
}

// TestDecodeSessionRejectsEveryAlternativeEncoding proves the decoder accepts
// one encoding per session: records padded, reordered or lying about lengths
// are corrupt, not a second spelling of a valid session.
func TestDecodeSessionRejectsEveryAlternativeEncoding(t *testing.T) {
	id := bytes.Repeat([]byte{1}, sessionIDLen)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	record := func(values ...string) []byte { // values are alternating keys and values, in the given order
		b := []byte{recordVersion}
		b = append(b, id...)
		for range 4 {
			b = binary.AppendVarint(b, at.UnixNano())
		}
		b = binary.AppendVarint(b, int64(time.Minute))
		b = appendString(b, "user")
		b = appendString(b, "")
		b = appendString(b, "")
		b = binary.AppendUvarint(b, uint64(len(values)/2))
		for _, v := range values {
			b = appendString(b, v)
		}
		return b
	}
	_, _, err := decodeRecord(record("a", "1", "b", "2"))
	require.NoError(t, err, "the canonical form decodes")

	padded := record()
	// The IP's length, 0, written as two bytes: 0x80 0x00.
	ipAt := 1 + sessionIDLen + 4*len(binary.AppendVarint(nil, at.UnixNano())) + len(binary.AppendVarint(nil, int64(time.Minute))) + 1 + len("user")
	require.Equal(t, byte(0), padded[ipAt])
	padded = append(padded[:ipAt:ipAt], append([]byte{0x80, 0x00}, padded[ipAt+1:]...)...)

	for name, data := range map[string][]byte{
		"padded varint":      padded,
		"keys out of order":  record("b", "2", "a", "1"),
		"duplicate key":      record("a", "1", "a", "2"),
		"empty key":          record("", "1"),
		"trailing byte":      append(record(), 0),
		"truncated":          record("a", "1")[:20],
		"too many values":    record(strings.Split(strings.Repeat("k,v,", maxValues+1), ",")[:2*(maxValues+1)]...),
		"huge string length": append(record()[:ipAt:ipAt], binary.AppendUvarint(nil, 1<<62)...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeSession("key", data, time.Time{})
			assert.ErrorIs(t, err, ErrCorruptRecord)
		})
	}
}

// TestDecodeSessionAllocationIsBounded proves that a record claiming huge
// lengths or counts costs the decoder no more than a small, fixed amount of
// memory, so a corrupt or hostile store cannot exhaust it.
func TestDecodeSessionAllocationIsBounded(t *testing.T) {
	header := append([]byte{recordVersion}, make([]byte, sessionIDLen)...)
	for range 5 {
		header = binary.AppendVarint(header, 1)
	}
	hostile := map[string][]byte{
		"user ID of 2^62 bytes": binary.AppendUvarint(bytes.Clone(header), 1<<62),
		"2^62 values":           append(appendString(appendString(appendString(bytes.Clone(header), "u"), ""), ""), binary.AppendUvarint(nil, 1<<62)...),
		"maximum varints":       append(header[:1+sessionIDLen:1+sessionIDLen], bytes.Repeat([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 64)...),
		"over the size limit":   make([]byte, MaxRecordSize+1),
	}
	for name, data := range hostile {
		t.Run(name, func(t *testing.T) {
			const runs = 100
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				_, err := DecodeSession("key", data, time.Time{})
				require.ErrorIs(t, err, ErrCorruptRecord)
			}
			runtime.ReadMemStats(&after)
			// A few hundred bytes per call at most; the bound leaves room for
			// whatever else the test binary allocates meanwhile.
			assert.Less(t, (after.TotalAlloc-before.TotalAlloc)/runs, uint64(4<<10))
		})
	}
}
