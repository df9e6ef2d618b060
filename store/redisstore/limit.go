package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/sessionauth/internal/unixnano"
	"github.com/sessionauth/sessionauth/ratelimit"
)

// LimitStore is a ratelimit.Store on Redis: every app instance whose Limiter
// uses a LimitStore on the same server and prefix sees the same counts. It is
// safe for concurrent use and holds no goroutine.
//
// A key's state is one integer, its GCRA "theoretical arrival time" in
// Unix microseconds of the caller's clock (not Redis's), under
// Prefix + ":limit:" + key, read and written by one Lua script: the step is
// atomic, and a script touches one key, so that it runs on Redis Cluster with
// keys spread over every slot. The key expires (PEXPIRE) when its state has
// run out, so Redis holds only the keys used in the last window.
//
// Times are kept in microseconds, because a Lua number holds integers
// exactly only up to 2^53: Retry-After may be up to a microsecond shorter
// than the exact one, never long enough to admit an event early, and an
// interval (Window/Limit) is rounded up to a whole microsecond.
type LimitStore struct {
	client redis.UniversalClient
	prefix string
}

var _ ratelimit.Store = (*LimitStore)(nil)

// LimitConfig configures a LimitStore. The zero value means the defaults.
type LimitConfig struct {
	// Prefix starts the name of every key of the LimitStore, which is
	// Prefix + ":limit:" + the limiter's key. Default: "sessionauth"
	// (DefaultPrefix).
	Prefix string
}

// NewLimitStore returns a LimitStore that keeps its keys through client
// (any of the clients New accepts: it fails, as New does, for a client that
// ignores context deadlines). It sends nothing to Redis; the client stays
// the caller's to close.
func NewLimitStore(client redis.UniversalClient, cfg LimitConfig) (*LimitStore, error) {
	if err := checkClient(client); err != nil {
		return nil, err
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &LimitStore{client: client, prefix: prefix + ":limit:"}, nil
}

// limitScript is one GCRA step on KEYS[1] (see ratelimit.Rule.Step).
// ARGV: now, the interval, the capacity, in microseconds. It returns 0 when
// the event fits, after storing the new state with a TTL of the time until
// it runs out; otherwise how many microseconds until an event fits,
// leaving the key alone.
var limitScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local slack = tonumber(ARGV[3]) - interval
local base = now
local v = redis.call('GET', KEYS[1])
if v then
	local tat = tonumber(v)
	if not tat then
		return redis.error_reply('limit state is not a number')
	end
	if tat > base then
		base = tat
	end
end
if base - now > slack then
	return base - now - slack
end
local tat = base + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return 0
`)

// Take implements ratelimit.Store.
func (s *LimitStore) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	rule := ratelimit.Rule{Limit: limit, Window: window}
	if err := rule.Validate(); err != nil {
		return 0, err
	}
	ns := unixnano.From(now)
	us := ns / 1000
	if ns%1000 < 0 { // round down before 1970 too
		us--
	}
	interval := (int64(rule.Interval()) + 999) / 1000
	retry, err := limitScript.Run(ctx, s.client, []string{s.prefix + key}, us, interval, interval*int64(limit)).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: limit take: %w", err)
	}
	if retry <= 0 {
		return 0, nil
	}
	// The event fits once the clock reaches microsecond us+retry.
	return time.Duration((us+retry)*1000 - ns), nil
}

// Reset implements ratelimit.Store.
func (s *LimitStore) Reset(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.prefix+key).Err(); err != nil {
		return fmt.Errorf("redisstore: limit reset: %w", err)
	}
	return nil
}
