package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Config configures a Limiter. The zero value means the defaults; a Rule
// whose Limit is negative turns that rule off.
//
// # Policy against locking a victim out
//
// Anyone may type a victim's email with a wrong password, so any limit on an
// account alone lets a stranger hold its owner out by failing on purpose. The
// defaults keep that cheap to survive and costly to sustain:
//
//   - No lockout outlives the attack: a rule never blocks for more than
//     its Interval after the last refused attempt (12 seconds for the
//     account, 1 minute for one client on it), so there is no "locked for
//     30 minutes" state to trigger with five requests.
//   - One address cannot hold an account shut: after its burst of 5, one
//     client address gets one attempt per minute on an account
//     (AccountClient), while the account as a whole refills one attempt every
//     12 seconds (Account). Keeping the owner out needs five or more
//     addresses failing without pause, each also spending its Client budget.
//   - An attempt that a rule refuses spends nothing of the rules after it,
//     and the rules are taken in the order Client, AccountClient, Account:
//     the account's budget, the one its owner shares with strangers, is only
//     ever spent by attempts that every rule admitted.
//
// The trade-off: a distributed attacker who keeps at least 5 attempts a
// minute on one account from several addresses does keep its owner out (each
// refusal is a 429 with a Retry-After of seconds) for as long as they pay for
// it, because the Account rule must refuse the 6th attempt within a minute
// whatever its address: without it, every new address would be 5 more
// guesses. An application that prefers availability raises Account (for
// example 20 per minute) and keeps AccountClient tight; one that prefers
// secrecy lowers both.
type Config struct {
	// Store keeps the counts. Every app instance must use one shared Store
	// (redisstore, pgstore, sqlitestore) for the limits to hold across
	// instances. Default: NewMemory(), for one instance.
	Store Store

	// Label keeps this Limiter's keys apart from those of another Limiter
	// on the same Store (sign-in and password reset, say). Default:
	// "signin".
	Label string

	// AccountClient limits attempts on one account from one client
	// address. Default: 5 per 5 minutes (a burst of 5, then one a minute).
	AccountClient Rule

	// Account limits attempts on one account from every address. Default:
	// 5 per minute (a burst of 5, then one every 12 seconds).
	Account Rule

	// Client limits attempts from one client address on every account,
	// against credential stuffing. Default: 50 per minute.
	Client Rule
}

// Defaults of Config.
var (
	DefaultAccountClient = Rule{Limit: 5, Window: 5 * time.Minute}
	DefaultAccount       = Rule{Limit: 5, Window: time.Minute}
	DefaultClient        = Rule{Limit: 50, Window: time.Minute}
)

// DefaultLabel is the default of Config.Label.
const DefaultLabel = "signin"

// The scopes of a Limiter's keys, in the order Attempt takes them.
const (
	scopeClient        = "c"
	scopeAccountClient = "ac"
	scopeAccount       = "a"
)

type scopedRule struct {
	scope string
	rule  Rule
}

// Limiter limits sign-in attempts per account, per client address and per
// pair of both (see Config for the policy). It is safe for concurrent use.
type Limiter struct {
	store Store
	label string
	rules []scopedRule // in the order Attempt takes them
}

// New returns a Limiter, or an error wrapping ErrInvalidRule for a rule that
// is neither zero, nor off, nor valid.
func New(cfg Config) (*Limiter, error) {
	l := &Limiter{store: cfg.Store, label: cfg.Label}
	if l.store == nil {
		l.store = NewMemory()
	}
	if l.label == "" {
		l.label = DefaultLabel
	}
	for _, r := range []struct {
		scope     string
		rule, def Rule
	}{
		{scopeClient, cfg.Client, DefaultClient},
		{scopeAccountClient, cfg.AccountClient, DefaultAccountClient},
		{scopeAccount, cfg.Account, DefaultAccount},
	} {
		rule := r.rule
		switch {
		case rule == Rule{}:
			rule = r.def
		case rule.Limit < 0:
			continue
		}
		if err := rule.Validate(); err != nil {
			return nil, err
		}
		l.rules = append(l.rules, scopedRule{r.scope, rule})
	}
	return l, nil
}

// Attempt counts one sign-in attempt on account from client at now, before
// the password is checked. It returns 0 if every rule admits it, or how
// long until the first rule that refused it would admit one (> 0: answer
// 429 with that Retry-After, rounded up to a second, and do not check the
// password). A Store failure is an error (answer 503: failing open would
// hand out unlimited guesses during an outage).
//
// The rules are taken one after the other, each atomically in the Store; a
// refused attempt spends nothing of the rules after the one that refused it
// but stays counted by those before it (the Store interface has no way to
// give a unit back). Since the order is Client, AccountClient, Account, what
// a refused attempt spends belongs to its own client address.
//
// account is the sign-in name as typed; Attempt ignores case and
// surrounding space, so that variants of one name share one budget (an
// application whose names differ by more than that must pass its canonical
// form). client is the client's IP address (as the trusted-proxy rule found
// it), with or without a port, which Attempt drops; all the addresses of an
// IPv6 /64 count as one client, as one host usually holds them all. Neither
// reaches the Store: keys are SHA-256 hashes of the label, the scope and
// these values.
func (l *Limiter) Attempt(ctx context.Context, account, client string, now time.Time) (retryAfter time.Duration, err error) {
	account, client = canonicalAccount(account), canonicalClient(client)
	for _, r := range l.rules {
		retry, err := l.store.Take(ctx, l.key(r.scope, account, client), r.rule.Limit, r.rule.Window, now)
		if err != nil {
			return 0, fmt.Errorf("ratelimit: attempt: %w", err)
		}
		if retry > 0 {
			return retry, nil
		}
	}
	return 0, nil
}

// Succeeded clears the failures counted on account (from every address, and
// from client), after a correct password. It never clears client's own
// budget: a credential stuffer who holds one valid account must not be able
// to reset the count of their guesses on all the others by signing in to
// it. A Store failure is an error; the sign-in may still succeed, the
// failures then stay counted until they run out.
func (l *Limiter) Succeeded(ctx context.Context, account, client string) error {
	account, client = canonicalAccount(account), canonicalClient(client)
	var errs []error
	for _, r := range l.rules {
		if r.scope == scopeClient {
			continue
		}
		if err := l.store.Reset(ctx, l.key(r.scope, account, client)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ratelimit: succeeded: %w", err)
	}
	return nil
}

// key is the Store key of scope for account and client: label:scope:hash.
// The hash covers the label and the scope too, and every field is
// length-prefixed, so that no two (label, scope, account, client) share a key.
// Only the values the scope involves are hashed: the account key of one
// account is the same from every client.
func (l *Limiter) key(scope, account, client string) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(l.label)
	field(scope)
	if strings.Contains(scope, "a") {
		field(account)
	}
	if strings.Contains(scope, "c") {
		field(client)
	}
	return l.label + ":" + scope + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func canonicalAccount(account string) string {
	return strings.ToLower(strings.TrimSpace(account))
}

// canonicalClient returns one form for every spelling of an address (an
// IPv4-mapped IPv6 address is its IPv4 address; a port and a zone are
// dropped) and the /64 of an IPv6 address. Anything else is kept as given.
func canonicalClient(client string) string {
	client = strings.TrimSpace(client)
	addr, err := netip.ParseAddr(client)
	if err != nil {
		ap, err := netip.ParseAddrPort(client)
		if err != nil {
			return client
		}
		addr = ap.Addr()
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}
