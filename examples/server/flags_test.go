package main

import (
	"context"
	"io"
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
