package sessionauthtest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/sessionauth/sessionauth/sessionauthtest"
)

// TestMain fails the package if any test leaves a goroutine behind: an Env
// must cost a user's test suite nothing once its test is over.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeT is a sessionauthtest.TB that records what the package reports, for
// tests of the failures themselves and for Examples, which have no
// *testing.T. Like testing's, its Fatalf ends the calling goroutine.
type fakeT struct {
	mu       sync.Mutex
	errors   []string
	fatal    string
	cleanups []func()
}

var _ sessionauthtest.TB = (*fakeT)(nil)

func (f *fakeT) Helper() {}

func (f *fakeT) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// failures returns everything reported, the fatal message last.
func (f *fakeT) failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]string(nil), f.errors...)
	if f.fatal != "" {
		out = append(out, f.fatal)
	}
	return out
}

// runFake runs body as a test body on its own goroutine, as go test does, so
// that Fatalf can end it; then it runs the cleanups, last registered first.
func runFake(body func(t *fakeT)) *fakeT {
	f := new(fakeT)
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(f)
	}()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	return f
}

// run is what go test does with a test function, for the Examples: it runs
// body and prints PASS, or each failure.
func run(body func(t sessionauthtest.TB)) {
	f := runFake(func(t *fakeT) { body(t) })
	if msgs := f.failures(); len(msgs) > 0 {
		fmt.Println("FAIL:", strings.Join(msgs, "\nFAIL: "))
		return
	}
	fmt.Println("PASS")
}
