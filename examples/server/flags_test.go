package main

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
)

// TestFlagDefaults pins the defaults the documentation promises: `go run
// ./examples/server` alone serves on 127.0.0.1:8080 from a SQLite file, and
// waits at most 3 s for the store.
func TestFlagDefaults(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, options{
		addr:         "127.0.0.1:8080",
		store:        "sqlite",
		db:           "sessionauth-example.db",
		storeTimeout: 3 * time.Second,
		idleTimeout:  sessionauth.DefaultIdleTimeout,
		lifetime:     sessionauth.DefaultLifetime,
		demoPassword: demoPassword,
	}, o)
}

// TestRunRefusesBadConfiguration checks that run fails with an error, before
// serving, on flags that cannot work.
func TestRunRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-port", "8080"}},
		{"stray argument", []string{"-store", "memory", "serve"}},
		{"unknown store", []string{"-store", "mongodb"}},
		{"empty demo password", []string{"-store", "memory", "-demo-password", ""}},
		{"touch interval not below the idle timeout", []string{"-store", "memory", "-idle-timeout", "2s", "-touch-interval", "2s"}},
		{"negative lifetime", []string{"-store", "memory", "-lifetime", "-1h"}},
		{"zero store timeout", []string{"-store", "memory", "-store-timeout", "0s"}},
		{"negative store timeout", []string{"-store", "memory", "-store-timeout", "-1s"}},
		{"store timeout over an hour", []string{"-store", "memory", "-store-timeout", "61m"}},
		{"store timeout without a unit", []string{"-store", "memory", "-store-timeout", "3"}},
		{"address that cannot be listened on", []string{"-store", "memory", "-addr", "127.0.0.1:99999"}},
		{"trusted proxy that is no prefix", []string{"-store", "memory", "-trusted-proxies", "proxy.internal"}},
		{"trusted prefix too long", []string{"-store", "memory", "-trusted-proxies", "10.0.0.0/33"}},
		{"trusted prefix with host bits", []string{"-store", "memory", "-trusted-proxies", "10.0.0.0/8,192.168.1.1/16"}},
		{"trusted proxies with an empty entry", []string{"-store", "memory", "-trusted-proxies", "10.0.0.0/8,,127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready := false
			err := run(context.Background(), tt.args, io.Discard, func(string) { ready = true }, fastPasswords)
			assert.Error(t, err)
			assert.False(t, ready, "the server did not start")
		})
	}
}

// TestTrustedProxiesFlag pins how -trusted-proxies reads: comma-separated
// prefixes or single addresses, spaces allowed, none by default.
func TestTrustedProxiesFlag(t *testing.T) {
	tests := []struct {
		value string
		want  []netip.Prefix
	}{
		{"", nil},
		{"10.0.0.0/8", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{"10.0.0.0/8, 127.0.0.1 ,fd00::/8", []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd00::/8")}},
		{"::ffff:192.0.2.1", []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}},
		{"2001:db8::1", []netip.Prefix{netip.MustParsePrefix("2001:db8::1/128")}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			o, err := parseFlags([]string{"-trusted-proxies", tt.value}, io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.trustedProxies)
		})
	}
}
