package testenv_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionauth/sessionauth/internal/testenv"
)

// recorder is a testing.TB that records how URL ended the test instead of
// ending the real one.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// callURL runs URL on a recorder in its own goroutine, as the testing
// package runs a test, so that Skipf and Fatalf can stop it.
func callURL(t *testing.T) (url string, r *recorder) {
	r = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url = testenv.URL(r, "SESSIONAUTH_TESTENV_URL", "svc://example", "example")
	}()
	<-done
	return url, r
}

func TestURL(t *testing.T) {
	tests := []struct {
		name, value, require string
		wantURL              string
		wantSkip, wantFail   bool
	}{
		{"a set URL is returned", "svc://here", "", "svc://here", false, false},
		{"a set URL is returned when services are required", "svc://here", "1", "svc://here", false, false},
		{"a missing URL skips the test", "", "", "", true, false},
		{"a missing URL fails the test when services are required", "", "1", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SESSIONAUTH_TESTENV_URL", tt.value)
			t.Setenv(testenv.RequireServicesEnv, tt.require)
			url, r := callURL(t)
			assert.Equal(t, tt.wantURL, url)
			assert.Equal(t, tt.wantSkip, r.skipped != "", "skipped: %q", r.skipped)
			assert.Equal(t, tt.wantFail, r.failed != "", "failed: %q", r.failed)
			if tt.wantSkip {
				assert.Contains(t, r.skipped, "svc://example", "the skip says how to run the tests")
			}
		})
	}
}
