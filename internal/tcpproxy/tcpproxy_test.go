package tcpproxy_test

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/tcpproxy"
)

// echoServer listens on a free port and echoes every line back.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line over c and returns the line read back.
func roundTrip(c net.Conn, r *bufio.Reader, line string) (string, error) {
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

func TestCutDropsConnectionsAndRestoreLetsNewOnesThrough(t *testing.T) {
	p := tcpproxy.New(t, echoServer(t))

	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	got, err := roundTrip(c, r, "before")
	require.NoError(t, err)
	assert.Equal(t, "before\n", got, "the proxy forwards both ways")

	p.Cut()
	_, err = roundTrip(c, r, "during")
	assert.Error(t, err, "an open connection dies at the cut")
	refused, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err, "the listener stays up while cut")
	_, err = roundTrip(refused, bufio.NewReader(refused), "during")
	assert.Error(t, err, "a new connection is closed at once while cut")
	_ = refused.Close()

	p.Restore()
	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c2.Close()
	got, err = roundTrip(c2, bufio.NewReader(c2), "after")
	require.NoError(t, err)
	assert.Equal(t, "after\n", got, "a new connection works after Restore")
}

// silence is how long a test waits for an answer that must not come.
const silence = 200 * time.Millisecond

// assertSilent checks that c stays open but gets no answer to a line within
// silence.
func assertSilent(t *testing.T, c net.Conn, r *bufio.Reader, msg string) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(silence)))
	_, err := roundTrip(c, r, "unanswered")
	var netErr net.Error
	assert.True(t, errors.As(err, &netErr) && netErr.Timeout(), "%s: want a read timeout, got %v", msg, err)
	require.NoError(t, c.SetReadDeadline(time.Time{}))
}

func TestHangHoldsConnectionsOpenWithoutAnswerAndRestoreEndsIt(t *testing.T) {
	p := tcpproxy.New(t, echoServer(t))

	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	got, err := roundTrip(c, r, "before")
	require.NoError(t, err)
	require.Equal(t, "before\n", got)

	p.Hang()
	assertSilent(t, c, r, "an open connection")
	held, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err, "a new connection is accepted while hung")
	defer held.Close()
	heldReader := bufio.NewReader(held)
	assertSilent(t, held, heldReader, "a new connection")

	p.Restore()
	_, err = roundTrip(c, r, "after")
	assert.Error(t, err, "a connection that dropped bytes while hung is closed at Restore")
	_, err = roundTrip(held, heldReader, "after")
	assert.Error(t, err, "a connection accepted while hung is closed at Restore")
	c2, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer c2.Close()
	got, err = roundTrip(c2, bufio.NewReader(c2), "after")
	require.NoError(t, err)
	assert.Equal(t, "after\n", got, "a new connection works after Restore")
}
