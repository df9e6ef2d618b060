//go:build unix

package sqlitestore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// crashChildEnv, when set, makes TestSIGKILLLosesNoCreatedSession the child
// process: it names the database the child writes.
const crashChildEnv = "SQLITESTORE_CRASH_CHILD_DB"

// TestSIGKILLLosesNoCreatedSession runs this test binary again as a child that
// creates sessions as fast as it can and prints each token as soon as Create
// returns, kills it with SIGKILL in the middle of that, and checks that every
// token it printed authenticates against the reopened file, which SQLite
// still finds intact.
func TestSIGKILLLosesNoCreatedSession(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		createSessionsUntilKilled(path)
		return
	}
	path := newPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSIGKILLLosesNoCreatedSession$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := bufio.NewReader(out)
	var tokens []string
	// readToken returns the next token the child printed; ok is false at
	// the end of its output. A line cut short by the kill has no newline:
	// its Create had not returned, so it promises nothing.
	readToken := func() (string, bool) {
		line, err := lines.ReadString('\n')
		if err != nil {
			return "", false
		}
		tok, found := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "token ")
		require.True(t, found, "unexpected child output %q", line)
		return tok, true
	}
	for len(tokens) < 200 {
		tok, ok := readToken()
		if !ok {
			waitErr := cmd.Wait()
			t.Fatalf("the child stopped after %d sessions: %v\n%s", len(tokens), waitErr, stderr.String())
		}
		tokens = append(tokens, tok)
	}
	require.NoError(t, cmd.Process.Kill())
	for {
		tok, ok := readToken()
		if !ok {
			break
		}
		tokens = append(tokens, tok)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die of the kill: %s", stderr.String())
	status, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, status.Signaled() && status.Signal() == syscall.SIGKILL, "child exit: %v\n%s", err, stderr.String())
	t.Logf("the child printed %d tokens before SIGKILL", len(tokens))

	db := rawDB(t, path)
	var integrity string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity))
	assert.Equal(t, "ok", integrity)

	s := open(t, path, sqlitestore.Config{})
	m, err := sessionauth.New(sessionauth.Config{Store: s})
	require.NoError(t, err)
	lost := 0
	for _, tok := range tokens {
		if _, err := m.Authenticate(ctx, tok); err != nil {
			lost++
		}
	}
	assert.Zero(t, lost, "sessions created before the kill were lost")
}

// createSessionsUntilKilled is the child of TestSIGKILLLosesNoCreatedSession.
// It exits on its own only on an error, or after a minute should the parent
// have died without killing it.
func createSessionsUntilKilled(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := sqlitestore.New(path, sqlitestore.Config{})
	if err != nil {
		fail(err)
	}
	m, err := sessionauth.New(sessionauth.Config{Store: s})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	for i, deadline := 0, time.Now().Add(time.Minute); time.Now().Before(deadline); i++ {
		tok, _, err := m.Create(ctx, "user"+strconv.Itoa(i%10), sessionauth.Metadata{})
		if err != nil {
			fail(err)
		}
		// One write per line, so that a line is either whole or cut
		// short by the kill, never interleaved.
		if _, err := os.Stdout.WriteString("token " + tok + "\n"); err != nil {
			fail(errors.New("writing to the parent: " + err.Error()))
		}
	}
	os.Exit(3)
}
