package redisstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// The stored value carries the exact expiry and the owner in front of the
// data (layout in scripts.go). The expiry is kept to the nanosecond because
// Redis TTLs only have millisecond resolution, and the owner because Touch,
// Delete and a Commit over a user's session must find the user's index.
const (
	valueVersion = 1
	headerLen    = 11
	maxUserLen   = math.MaxUint16
)

// nanos returns t as Unix nanoseconds, clamped by unixnano and then to 0
// below: the value and the scripts hold an instant as an unsigned 8-byte
// string compared byte by byte, where a negative number would sort after
// every positive one. An instant before 1970 is 0, expired for every clock.
func nanos(t time.Time) int64 {
	return max(unixnano.From(t), 0)
}

// instant encodes t for the scripts: 8 big-endian bytes of nanos(t).
func instant(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(nanos(t)))
}

func encodeValue(expiry time.Time, userID string, data []byte) ([]byte, error) {
	if len(userID) > maxUserLen {
		return nil, fmt.Errorf("redisstore: user ID longer than %d bytes", maxUserLen)
	}
	v := make([]byte, headerLen, headerLen+len(userID)+len(data))
	v[0] = valueVersion
	binary.BigEndian.PutUint64(v[1:9], uint64(nanos(expiry)))
	binary.BigEndian.PutUint16(v[9:11], uint16(len(userID)))
	v = append(v, userID...)
	return append(v, data...), nil
}

// decodeValue splits a stored value into its data, which aliases v, and its
// expiry in Unix nanoseconds.
func decodeValue(v []byte) (data []byte, expiry int64, err error) {
	if len(v) < headerLen || v[0] != valueVersion {
		return nil, 0, errCorrupt
	}
	n := headerLen + int(binary.BigEndian.Uint16(v[9:11]))
	if len(v) < n {
		return nil, 0, errCorrupt
	}
	return v[n:], int64(binary.BigEndian.Uint64(v[1:9])), nil
}

// errCorrupt is returned for a value under the store's prefix that the store
// did not write. It says nothing of the key.
var errCorrupt = fmt.Errorf("redisstore: value not written by this store: %w", sessionauth.ErrCorruptRecord)
