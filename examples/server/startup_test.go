package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStartupLogShowsNoPassword starts the server with the default and with
// a custom -demo-password: the log tells how to sign in, yet holds the
// password nowhere, not even after a sign-in with it. A log is kept and read
// far more widely than a command line.
func TestStartupLogShowsNoPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		password string
	}{
		{"default password", memoryStore, "demo-password"},
		{"custom password", append([]string{"-demo-password", "Tr0ub4dor&3-custom"}, memoryStore...), "Tr0ub4dor&3-custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tt.args)
			r := s.do(t, http.MethodPost, "/auth/sign-in", "", map[string]string{"email": "owner@example.com", "password": tt.password})
			assert.Equal(t, http.StatusOK, r.status, "the password works; body: %s", r.body)

			logs := s.logs.String()
			assert.Contains(t, logs, "sign in with: curl", "the log tells how to sign in")
			assert.Contains(t, logs, "/auth/sign-in")
			assert.NotContains(t, logs, tt.password)
		})
	}
}
