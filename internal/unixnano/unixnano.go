// Package unixnano converts between time.Time and Unix nanoseconds, the form
// every store keeps an expiry in, without wrapping: time.Time.UnixNano is
// undefined outside the years 1678 to 2262, and an expiry that wrapped would
// turn a session meant to last into one dead on arrival (or the reverse).
package unixnano

import (
	"math"
	"time"
)

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// From returns t as Unix nanoseconds, clamped to the int64 range: an instant
// after 2262 is math.MaxInt64 (never expires before it) and one before 1678,
// the zero time.Time included, is math.MinInt64 (long expired).
func From(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Time returns the instant of ns Unix nanoseconds, in UTC.
func Time(ns int64) time.Time { return time.Unix(0, ns).UTC() }
