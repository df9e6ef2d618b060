package unixnano

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFromClampsInsteadOfWrapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
		want int64
	}{
		{"zero time is long expired", time.Time{}, math.MinInt64},
		{"year 1 is long expired", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{"year 3000 never wraps to the past", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{"ten thousand years from now", time.Now().AddDate(10000, 0, 0), math.MaxInt64},
		{"epoch", time.Unix(0, 0), 0},
		{"ordinary instant", time.Unix(1_800_000_000, 123), 1_800_000_000_000_000_123},
		{"last representable instant", time.Unix(0, math.MaxInt64), math.MaxInt64},
		{"first representable instant", time.Unix(0, math.MinInt64), math.MinInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, From(tc.t))
		})
	}
}

func TestTimeRoundTripsFrom(t *testing.T) {
	in := time.Date(2031, 5, 6, 7, 8, 9, 10, time.UTC)
	assert.True(t, in.Equal(Time(From(in))))
	assert.Equal(t, time.UTC, Time(0).Location())
}
