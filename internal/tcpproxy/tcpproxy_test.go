package tcpproxy_test

import (
	"bufio"
	"net"
	"testing"

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
