//go:build unix

package sqlitestore_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// hammerChildEnv, when set, makes TestSIGKILLWhileCreatingAndTouching the
// child process: it names the database file; the file of tokens from earlier
// rounds sits next to it.
const hammerChildEnv = "SQLITESTORE_HAMMER_CHILD_DB"

// TestSIGKILLWhileCreatingAndTouching runs this test binary again, round
// after round on one file, as a child that creates sessions and touches the
// ones it and earlier rounds created, with every request writing the store.
// Each round SIGKILLs the child at a different point. After every kill the
// file must pass PRAGMA integrity_check and every session whose Create
// returned (the child prints its token only then), in this round or an
// earlier one, must still authenticate.
func TestSIGKILLWhileCreatingAndTouching(t *testing.T) {
	if path := os.Getenv(hammerChildEnv); path != "" {
		hammerUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.db")
	tokensFile := path + ".tokens"
	var tokens []string
	for round, killAfter := range []int{5, 150, 40, 300, 90} {
		printed := runHammerChild(t, path, killAfter)
		tokens = append(tokens, printed...)

		assert.Equal(t, "ok", integrityCheck(t, path), "round %d", round)
		store, err := sqlitestore.New(path, sqlitestore.Config{SweepInterval: -1})
		require.NoError(t, err)
		m, err := sessionauth.New(sessionauth.Config{Store: store, IdleTimeout: time.Hour})
		require.NoError(t, err)
		lost, touched := 0, 0
		for _, tok := range tokens {
			s, err := m.Authenticate(t.Context(), tok)
			if err != nil {
				lost++
				continue
			}
			// This Manager touches nothing so soon; a deadline beyond the
			// first one is a touch of the child's that survived.
			if s.IdleExpiresAt.After(s.CreatedAt.Add(time.Hour)) {
				touched++
			}
		}
		require.NoError(t, store.Close())
		require.Zero(t, lost, "round %d: sessions whose Create returned were lost", round)
		require.NotZero(t, touched, "round %d: the child touched no session", round)
		t.Logf("round %d: killed after %d creates; all %d sessions so far live, %d of them touched", round, len(printed), len(tokens), touched)
		require.NoError(t, os.WriteFile(tokensFile, []byte(strings.Join(tokens, "\n")), 0o600))
	}
}

// runHammerChild starts a child on path, kills it with SIGKILL once it has
// printed killAfter tokens, and returns every token it printed whole.
func runHammerChild(t *testing.T, path string, killAfter int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSIGKILLWhileCreatingAndTouching$", "-test.count=1")
	cmd.Env = append(os.Environ(), hammerChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := bufio.NewReader(out)
	var tokens []string
	// A line cut short by the kill has no newline: its Create had not
	// returned, so it promises nothing.
	next := func() bool {
		line, err := lines.ReadString('\n')
		if err != nil {
			return false
		}
		tok, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "created ")
		require.True(t, ok, "unexpected child output %q", line)
		tokens = append(tokens, tok)
		return true
	}
	for len(tokens) < killAfter {
		if !next() {
			t.Fatalf("the child stopped after %d sessions: %v\n%s", len(tokens), cmd.Wait(), stderr.String())
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	for next() {
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child must die of the kill: %s", stderr.String())
	status, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, status.Signaled() && status.Signal() == syscall.SIGKILL, "child exit: %v\n%s", err, stderr.String())
	return tokens
}

func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	var result string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&result))
	return result
}

// hammerUntilKilled is the child of TestSIGKILLWhileCreatingAndTouching. It
// creates sessions and, between creates, authenticates sessions of this
// round and of earlier ones, each of which writes a touch. It exits on its
// own only on an error, or after a minute should the parent have died
// without killing it.
func hammerUntilKilled(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	store, err := sqlitestore.New(path, sqlitestore.Config{})
	if err != nil {
		fail(err)
	}
	// A TouchInterval of a microsecond makes nearly every authentication a
	// store write, so the kill lands among touches as often as creates.
	m, err := sessionauth.New(sessionauth.Config{Store: store, IdleTimeout: time.Hour, TouchInterval: time.Microsecond})
	if err != nil {
		fail(err)
	}
	var tokens []string
	if b, err := os.ReadFile(path + ".tokens"); err == nil {
		tokens = strings.Fields(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		fail(err)
	}
	ctx := context.Background()
	for i, deadline := 0, time.Now().Add(time.Minute); time.Now().Before(deadline); i++ {
		tok, _, err := m.Create(ctx, fmt.Sprintf("user%d", i%10), sessionauth.Metadata{IP: "192.0.2.1", UserAgent: "hammer"})
		if err != nil {
			fail(err)
		}
		// One write per line, so that a line is either whole or cut short
		// by the kill, never interleaved.
		if _, err := os.Stdout.WriteString("created " + tok + "\n"); err != nil {
			fail(err)
		}
		tokens = append(tokens, tok)
		for range 3 {
			if _, err := m.Authenticate(ctx, tokens[rand.IntN(len(tokens))]); err != nil {
				fail(fmt.Errorf("authenticating a session created earlier: %w", err))
			}
		}
	}
	os.Exit(3)
}
