package authapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds how many X-Forwarded-For entries are read: a chain of
// trusted proxies is short, and a longer list is the client's own invention.
const maxHops = 16

// clientAddr returns the client's address: the connection's peer, or, when
// the peer is a trusted proxy, the rightmost X-Forwarded-For entry that is
// not a trusted proxy. Entries left of it were written by the client, who
// can write anything, so they are never read. A peer address that does not
// parse (a Unix socket) is returned as it is.
func (a *API) clientAddr(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !a.trustedAddr(peer) {
		return peer.String()
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	n := 0
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			n++
			addr, err := netip.ParseAddr(strings.TrimSpace(entries[j]))
			if err != nil || n > maxHops {
				// A trusted proxy wrote what no proxy writes: stop at
				// the last address a trusted hop vouched for.
				return client.String()
			}
			client = addr.Unmap().WithZone("")
			if !a.trustedAddr(client) {
				return client.String()
			}
		}
	}
	return client.String()
}

func (a *API) trustedAddr(addr netip.Addr) bool {
	for _, p := range a.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if addr, err := netip.ParseAddr(s); err == nil {
		return addr.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// limitKey is the key a client address is counted under: an IPv6 address by
// its /64, the block one host or one customer usually holds whole, so that
// cycling through it buys nothing.
func limitKey(client string) string {
	addr, err := netip.ParseAddr(client)
	if err != nil || !addr.Is6() {
		return client
	}
	p, _ := addr.Prefix(64)
	return p.String()
}
