package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionauth/sessionauth/ratelimit"
)

// boundedLimits bounds every call of a ratelimit.Store to timeout, as the
// Manager bounds every session store call to -store-timeout: a sign-in
// whose limits are stuck in a hung Redis or PostgreSQL is a 503 within it,
// like any other request that needs the store.
type boundedLimits struct {
	ratelimit.Store
	timeout time.Duration
}

func (b boundedLimits) Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return b.Store.Take(ctx, key, limit, window, now)
}

func (b boundedLimits) Reset(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return b.Store.Reset(ctx, key)
}

// parsePrefixes reads -trusted-proxies: comma-separated CIDR prefixes or
// single addresses (a /32 or /128), spaces allowed around the commas, ""
// for none. A prefix with host bits set, such as 10.0.0.1/8, is refused:
// it is more likely a typo than a wish to trust the whole block.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if addr, err := netip.ParseAddr(field); err == nil {
			addr = addr.Unmap().WithZone("")
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(field)
		if err != nil {
			return nil, fmt.Errorf("-trusted-proxies: %q is not a CIDR prefix or an address", field)
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("-trusted-proxies: %q has bits set past its prefix length (did you mean %s?)", field, p.Masked())
		}
		out = append(out, p)
	}
	return out, nil
}
