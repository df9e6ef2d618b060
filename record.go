package sessionauth

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// The stored form of a session is a small versioned binary record, not gob or
// JSON: decoding it is a few bounded reads, and a hostile or corrupt record
// can never make the decoder allocate more than MaxRecordSize.
const (
	recordVersion = 1

	// MaxRecordSize bounds an encoded session record in bytes. It is above
	// the largest record the Metadata limits allow (about 18 KiB), so that
	// every session Create accepts can be read back.
	MaxRecordSize = 20 << 10

	maxUserIDLen    = 256
	maxIPLen        = 64
	maxUserAgentLen = 512
	maxValues       = 16
	maxValueKeyLen  = 64
	maxValueLen     = 1024
	sessionIDLen    = 16 // random bytes behind Session.ID
)

// ErrCorruptRecord is returned by DecodeSession for bytes that are not a
// session record written by this package.
var ErrCorruptRecord = errors.New("sessionauth: corrupt session record")

// encodeRecord appends the stored form of s. It validates the sizes that
// decodeRecord enforces, so every record written can be read back.
func encodeRecord(s *Session, rawID []byte, idle time.Duration) ([]byte, error) {
	if err := s.Metadata.validate(); err != nil {
		return nil, err
	}
	if s.UserID == "" || len(s.UserID) > maxUserIDLen || !utf8.ValidString(s.UserID) {
		return nil, fmt.Errorf("%w: user ID must be 1 to %d bytes of UTF-8", ErrInvalidMetadata, maxUserIDLen)
	}
	b := make([]byte, 0, 64+len(s.UserID)+len(s.IP)+len(s.UserAgent))
	b = append(b, recordVersion)
	b = append(b, rawID...)
	b = binary.AppendVarint(b, unixnano.From(s.CreatedAt))
	b = binary.AppendVarint(b, unixnano.From(s.ExpiresAt))
	b = binary.AppendVarint(b, unixnano.From(s.LastUsedAt))
	b = binary.AppendVarint(b, unixnano.From(s.IdleExpiresAt))
	b = binary.AppendVarint(b, int64(idle))
	b = appendString(b, s.UserID)
	b = appendString(b, s.IP)
	b = appendString(b, s.UserAgent)
	b = binary.AppendUvarint(b, uint64(len(s.Values)))
	for _, k := range slices.Sorted(maps.Keys(s.Values)) {
		b = appendString(b, k)
		b = appendString(b, s.Values[k])
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeSession decodes a session record written by a Manager. key is the
// store key the record was found under and expiry the expiry the store holds
// for it; a zero expiry means the one recorded at the last full write, which
// is what a plain scs store has.
//
// Stores that keep sessions in memory call it to offer the Manager a decoded
// session (see SessionLoader); applications have no need to. It returns an
// error wrapping ErrCorruptRecord for anything but a well-formed record, and
// never panics or allocates more than len(data).
func DecodeSession(key string, data []byte, expiry time.Time) (*Session, error) {
	s, idle, err := decodeRecord(data)
	if err != nil {
		return nil, err
	}
	if !expiry.IsZero() {
		s.IdleExpiresAt = expiry
	}
	// A touch writes only the expiry, so the last use is what the expiry
	// implies, unless the expiry is pinned at the absolute deadline.
	if lu := s.IdleExpiresAt.Add(-idle); s.IdleExpiresAt.Before(s.ExpiresAt) && lu.After(s.LastUsedAt) {
		s.LastUsedAt = lu
	}
	s.ref = &sessionRef{key: key, idle: idle}
	return s, nil
}

// decodeRecord parses data and returns the session and its idle timeout.
func decodeRecord(data []byte) (*Session, time.Duration, error) {
	if len(data) > MaxRecordSize {
		return nil, 0, fmt.Errorf("%w: %d bytes", ErrCorruptRecord, len(data))
	}
	d := decoder{b: data}
	if v := d.bytes(1)[0]; v != recordVersion {
		return nil, 0, fmt.Errorf("%w: version %d", ErrCorruptRecord, v)
	}
	s := &Session{}
	s.ID = base64.RawURLEncoding.EncodeToString(d.bytes(sessionIDLen))
	s.CreatedAt = d.time()
	s.ExpiresAt = d.time()
	s.LastUsedAt = d.time()
	s.IdleExpiresAt = d.time()
	idle := time.Duration(d.varint())
	s.UserID = d.string(maxUserIDLen)
	s.IP = d.string(maxIPLen)
	s.UserAgent = d.string(maxUserAgentLen)
	if n := d.uvarint(); n > maxValues {
		d.fail()
	} else if n > 0 {
		s.Values = make(map[string]string, n)
		prev := ""
		for range n {
			// encodeRecord writes non-empty keys in increasing order;
			// accepting anything else would give one session several
			// encodings.
			k := d.string(maxValueKeyLen)
			if k <= prev {
				d.fail()
			}
			prev = k
			s.Values[k] = d.string(maxValueLen)
		}
	}
	if len(d.b) != 0 || s.UserID == "" || idle <= 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	return s, idle, nil
}

// decoder reads a record front to back; after the first error every read
// returns a zero value, so callers check d.err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorruptRecord
	}
	d.b = nil
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.fail()
		return make([]byte, n)
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

// varint undoes the zigzag encoding binary.AppendVarint applies to the
// uvarint it writes.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// uvarint accepts only the shortest form, the one binary.AppendUvarint
// writes: a padded one ends in a zero byte.
func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	return time.Unix(0, d.varint()).UTC()
}

func (d *decoder) string(max int) string {
	n := d.uvarint()
	if n > uint64(max) || n > uint64(len(d.b)) || !utf8.Valid(d.b[:n]) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
