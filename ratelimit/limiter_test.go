package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/ratelimit/ratelimittest"
)

// recordingStore is a Memory that records the keys it is given and fails
// when err is set.
type recordingStore struct {
	*ratelimit.Memory
	mu          sync.Mutex
	took, reset []string
	err         error
}

func (s *recordingStore) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	s.mu.Lock()
	s.took = append(s.took, key)
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return s.Memory.Take(ctx, key, limit, window, now)
}

func (s *recordingStore) Reset(ctx context.Context, key string) error {
	s.mu.Lock()
	s.reset = append(s.reset, key)
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Memory.Reset(ctx, key)
}

func newLimiter(t *testing.T, cfg ratelimit.Config) (*ratelimit.Limiter, *recordingStore) {
	t.Helper()
	store := &recordingStore{Memory: ratelimit.NewMemory()}
	cfg.Store = store
	l, err := ratelimit.New(cfg)
	require.NoError(t, err)
	return l, store
}

// attempts makes n attempts at now and returns the Retry-After of each.
func attempts(t *testing.T, l *ratelimit.Limiter, n int, account, client string, now time.Time) []time.Duration {
	t.Helper()
	var got []time.Duration
	for range n {
		retry, err := l.Attempt(context.Background(), account, client, now)
		require.NoError(t, err)
		got = append(got, retry)
	}
	return got
}

func TestDefaultsRefuseTheSixthAttemptWithinAMinute(t *testing.T) {
	now := ratelimittest.Start
	for name, clients := range map[string][]string{
		"one client":  {"192.0.2.1"},
		"two clients": {"192.0.2.1", "198.51.100.7"},
	} {
		t.Run(name, func(t *testing.T) {
			l, _ := newLimiter(t, ratelimit.Config{})
			for i := range 5 {
				retry := attempts(t, l, 1, "alice@example.com", clients[i%len(clients)], now.Add(time.Duration(i)*time.Second))
				require.Zero(t, retry[0], "attempt %d", i+1)
			}
			for _, c := range clients {
				retry := attempts(t, l, 1, "alice@example.com", c, now.Add(5*time.Second))
				assert.Positive(t, retry[0], "the 6th attempt within a minute from %s is refused", c)
			}
			// A minute after the first attempt the account admits again, from either address.
			for _, c := range clients {
				retry := attempts(t, l, 1, "alice@example.com", c, now.Add(time.Minute))
				assert.Zero(t, retry[0], "a minute later an attempt from %s is admitted", c)
				now = now.Add(ratelimit.DefaultAccount.Interval())
			}
		})
	}
}

func TestRetryAfterIsWhenTheAttemptWouldBeAdmitted(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{})
	now := ratelimittest.Start
	attempts(t, l, 5, "alice", "192.0.2.1", now)
	retry := attempts(t, l, 1, "alice", "192.0.2.1", now)[0]
	// One client on one account waits for AccountClient's interval.
	assert.Equal(t, ratelimit.DefaultAccountClient.Interval(), retry)
	assert.Positive(t, attempts(t, l, 1, "alice", "192.0.2.1", now.Add(retry-time.Nanosecond))[0])
	assert.Zero(t, attempts(t, l, 1, "alice", "192.0.2.1", now.Add(retry))[0])
}

// TestOneAddressCannotHoldAnAccountShut: an attacker failing from one
// address as fast as allowed leaves the owner's attempts from elsewhere
// admitted after the first burst.
func TestOneAddressCannotHoldAnAccountShut(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{})
	now := ratelimittest.Start
	attempts(t, l, 5, "victim", "203.0.113.66", now)
	refusedOwner := 0
	for range 10 {
		now = now.Add(time.Minute)
		// The attacker tries as often as it likes: its own rule refuses
		// all but one a minute, and spends nothing of the account's.
		attempts(t, l, 20, "victim", "203.0.113.66", now)
		if attempts(t, l, 1, "victim", "192.0.2.10", now.Add(time.Second))[0] > 0 {
			refusedOwner++
		}
	}
	assert.Zero(t, refusedOwner, "the owner was never refused while one address attacked")
}

func TestRefusedAttemptSpendsNothingOfTheAccount(t *testing.T) {
	// A client over its own Client budget keeps trying one account: none
	// of that reaches the account's budget.
	l, _ := newLimiter(t, ratelimit.Config{Client: ratelimit.Rule{Limit: 1, Window: time.Hour}})
	now := ratelimittest.Start
	require.Zero(t, attempts(t, l, 1, "other", "203.0.113.66", now)[0])
	for _, retry := range attempts(t, l, 50, "victim", "203.0.113.66", now) {
		require.Positive(t, retry)
	}
	for i := range 5 {
		retry := attempts(t, l, 1, "victim", fmt.Sprintf("192.0.2.%d", 10+i), now)[0]
		assert.Zero(t, retry, "owner's attempt %d", i+1)
	}
}

func TestClientLimitSpansAccounts(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{})
	now := ratelimittest.Start
	for i := range ratelimit.DefaultClient.Limit {
		require.Zero(t, attempts(t, l, 1, fmt.Sprintf("user%d", i), "203.0.113.66", now)[0])
	}
	assert.Positive(t, attempts(t, l, 1, "fresh", "203.0.113.66", now)[0],
		"one address is refused on an account it never tried once it spent its budget on others")
	assert.Zero(t, attempts(t, l, 1, "fresh", "192.0.2.10", now)[0], "another address is not")
}

func TestSucceededClearsTheAccountButNotTheClient(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{Client: ratelimit.Rule{Limit: 10, Window: time.Minute}})
	ctx := context.Background()
	now := ratelimittest.Start
	const stuffer = "203.0.113.66"
	// Failures on the account from the stuffer's address and another one.
	attempts(t, l, 3, "mine", stuffer, now)
	attempts(t, l, 2, "mine", "192.0.2.10", now)
	require.Positive(t, attempts(t, l, 1, "mine", "192.0.2.11", now)[0], "precondition: the account is spent")
	// Guesses on other accounts from the stuffer's address.
	attempts(t, l, 5, "someone-else", stuffer, now)

	require.NoError(t, l.Succeeded(ctx, "mine", stuffer))

	assert.Zero(t, attempts(t, l, 1, "mine", "192.0.2.11", now)[0], "the account's failures are cleared")
	// 8 of the stuffer's 10 were spent, and signing in to its own
	// account gave none back.
	assert.Zero(t, attempts(t, l, 1, "third", stuffer, now)[0])
	assert.Zero(t, attempts(t, l, 1, "fourth", stuffer, now)[0])
	assert.Positive(t, attempts(t, l, 1, "fifth", stuffer, now)[0], "the client's budget is not cleared")
}

func TestSucceededClearsOnlyThatAccount(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{})
	now := ratelimittest.Start
	attempts(t, l, 5, "alice", "192.0.2.1", now)
	attempts(t, l, 5, "bob", "192.0.2.1", now)
	require.NoError(t, l.Succeeded(context.Background(), "alice", "192.0.2.1"))
	assert.Zero(t, attempts(t, l, 1, "alice", "192.0.2.1", now)[0])
	assert.Positive(t, attempts(t, l, 1, "bob", "192.0.2.1", now)[0])
}

func TestKeysHoldNeitherAccountNorAddress(t *testing.T) {
	l, store := newLimiter(t, ratelimit.Config{})
	ctx := context.Background()
	const account, client = "alice.private@example.com", "192.0.2.123"
	_, err := l.Attempt(ctx, account, client, ratelimittest.Start)
	require.NoError(t, err)
	require.NoError(t, l.Succeeded(ctx, account, client))
	keys := append(append([]string(nil), store.took...), store.reset...)
	require.Len(t, keys, 5, "three rules taken, two reset")
	for _, k := range keys {
		for _, secret := range []string{"alice", "example", "192.0.2", "c0:2:7b"} {
			assert.NotContains(t, strings.ToLower(k), secret)
		}
	}
}

func TestVariantsShareOneBudget(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{})
	now := ratelimittest.Start
	accounts := []string{"Alice@Example.com", "alice@example.com", " ALICE@example.com", "alice@EXAMPLE.com\t", "alice@example.com"}
	clients := []string{"192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1:4431", "[::ffff:192.0.2.1]:80", "192.0.2.1"}
	for i := range accounts {
		require.Zero(t, attempts(t, l, 1, accounts[i], clients[i], now)[0])
	}
	assert.Positive(t, attempts(t, l, 1, "ALICE@example.COM", "192.0.2.1:9999", now)[0],
		"case, space, port and IPv4-mapped spelling do not make a new budget")
}

func TestIPv6AddressesOfOne64ShareOneClient(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Config{Client: ratelimit.Rule{Limit: 2, Window: time.Minute}})
	now := ratelimittest.Start
	require.Zero(t, attempts(t, l, 1, "a", "2001:db8:1:2::1", now)[0])
	require.Zero(t, attempts(t, l, 1, "b", "[2001:db8:1:2:ffff::9%eth0]:443", now)[0])
	assert.Positive(t, attempts(t, l, 1, "c", "2001:db8:1:2:abcd::", now)[0], "same /64")
	assert.Zero(t, attempts(t, l, 1, "c", "2001:db8:1:3::1", now)[0], "another /64")
}

func TestLabelsKeepLimitersApart(t *testing.T) {
	store := ratelimit.NewMemory()
	signin, err := ratelimit.New(ratelimit.Config{Store: store})
	require.NoError(t, err)
	reset, err := ratelimit.New(ratelimit.Config{Store: store, Label: "password-reset"})
	require.NoError(t, err)
	now := ratelimittest.Start
	attempts(t, signin, 5, "alice", "192.0.2.1", now)
	require.Positive(t, attempts(t, signin, 1, "alice", "192.0.2.1", now)[0])
	assert.Zero(t, attempts(t, reset, 1, "alice", "192.0.2.1", now)[0])
}

func TestStoreFailureIsAnError(t *testing.T) {
	l, store := newLimiter(t, ratelimit.Config{})
	boom := errors.New("connection refused")
	store.err = boom
	ctx := context.Background()
	retry, err := l.Attempt(ctx, "alice", "192.0.2.1", ratelimittest.Start)
	assert.ErrorIs(t, err, boom, "the handler must be able to fail closed")
	assert.Zero(t, retry)
	assert.ErrorIs(t, l.Succeeded(ctx, "alice", "192.0.2.1"), boom)
}

func TestRuleOffAndInvalidRule(t *testing.T) {
	l, store := newLimiter(t, ratelimit.Config{
		Client:        ratelimit.Rule{Limit: -1},
		AccountClient: ratelimit.Rule{Limit: -1},
		Account:       ratelimit.Rule{Limit: 2, Window: time.Hour},
	})
	now := ratelimittest.Start
	assert.Equal(t, []time.Duration{0, 0, time.Hour / 2}, attempts(t, l, 3, "alice", "192.0.2.1", now))
	assert.Len(t, store.took, 3, "only the Account rule is taken")

	_, err := ratelimit.New(ratelimit.Config{Account: ratelimit.Rule{Limit: 5}})
	assert.ErrorIs(t, err, ratelimit.ErrInvalidRule)
}
