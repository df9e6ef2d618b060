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

// killChildEnv, when set, makes TestSIGKILLLosesNoCreatedSession the child
// process: it names the database file, next to which sits the file of tokens
// from earlier rounds. killTouchesEnv is how many sessions the child
// authenticates, each a touch, between two creates.
const (
	killChildEnv   = "SQLITESTORE_KILL_CHILD_DB"
	killTouchesEnv = "SQLITESTORE_KILL_CHILD_TOUCHES"
)

// TestSIGKILLLosesNoCreatedSession runs this test binary again, round after
// round on one file, as a child that creates sessions and, in most rounds,
// touches the ones it and earlier rounds created; the child prints a token
// only once its Create has returned. Each round SIGKILLs the child at a
// different point: in the first, the child does nothing but create, so the
// kill lands right after a create, in the middle of the next. After every
// kill the file must pass PRAGMA integrity_check and every session whose
// Create returned, in this round or an earlier one, must still authenticate.
func TestSIGKILLLosesNoCreatedSession(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		touches, err := strconv.Atoi(os.Getenv(killTouchesEnv))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		writeUntilKilled(path, touches)
		return
	}
	rounds := []struct {
		killAfter int // creates the child reports before the kill
		touches   int // authentications between two creates
	}{
		{200, 0},
		{5, 3},
		{150, 3},
		{40, 3},
		{300, 3},
		{90, 3},
	}
	if testing.Short() {
		rounds = rounds[:2] // one round of each kind
	}
	path := filepath.Join(t.TempDir(), "sessions.db")
	var tokens []string
	for round, r := range rounds {
		printed := runKillChild(t, path, r.killAfter, r.touches)
		tokens = append(tokens, printed...)

		assert.Equal(t, "ok", integrityCheck(t, path), "round %d", round)
		store, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{SweepInterval: -1})
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
		if r.touches > 0 {
			require.NotZero(t, touched, "round %d: the child touched no session", round)
		}
		t.Logf("round %d: killed after %d creates; all %d sessions so far live, %d of them touched", round, len(printed), len(tokens), touched)
		require.NoError(t, os.WriteFile(path+".tokens", []byte(strings.Join(tokens, "\n")), 0o600))
	}
}

// runKillChild starts a child on path, kills it with SIGKILL once it has
// printed killAfter tokens, and returns every token it printed whole.
func runKillChild(t *testing.T, path string, killAfter, touches int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSIGKILLLosesNoCreatedSession$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path, killTouchesEnv+"="+strconv.Itoa(touches))
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

// integrityCheck returns the result of PRAGMA integrity_check on the file,
// through a connection of its own that it closes, so that no connection of
// the parent outlives the round.
func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	var result string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&result))
	return result
}

// writeUntilKilled is the child of TestSIGKILLLosesNoCreatedSession. It
// creates sessions and, after each, authenticates touches sessions of this
// round and earlier ones, each of which writes a touch. It exits on its own
// only on an error, or after a minute should the parent have died without
// killing it.
func writeUntilKilled(path string, touches int) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	store, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{})
	if err != nil {
		fail(err)
	}
	// A TouchInterval of a microsecond makes nearly every authentication a
	// store write, so that the kill lands among touches as often as creates.
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
		tok, _, err := m.Create(ctx, "user"+strconv.Itoa(i%10), sessionauth.Metadata{IP: "192.0.2.1", UserAgent: "sigkill"})
		if err != nil {
			fail(err)
		}
		// One write per line, so that a line is either whole or cut short
		// by the kill, never interleaved.
		if _, err := os.Stdout.WriteString("created " + tok + "\n"); err != nil {
			fail(errors.New("writing to the parent: " + err.Error()))
		}
		tokens = append(tokens, tok)
		for range touches {
			if _, err := m.Authenticate(ctx, tokens[rand.IntN(len(tokens))]); err != nil {
				fail(fmt.Errorf("authenticating a session created earlier: %w", err))
			}
		}
	}
	os.Exit(3)
}
