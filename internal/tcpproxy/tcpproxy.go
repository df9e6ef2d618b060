// Package tcpproxy is a TCP proxy for tests that must take a server away from
// a client and give it back: the store tests use it to make Redis or
// PostgreSQL unreachable, or silent, without stopping the server that other
// tests and packages share.
package tcpproxy

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// mode is what the proxy does with connections.
type mode int

const (
	forwarding mode = iota
	cut             // connections are closed
	hung            // connections are held open and never answered
)

// Proxy forwards connections from a local listener to a target address until
// Cut or Hang, and again after Restore. Its methods are safe for concurrent
// use.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  mode
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// New starts a proxy to target (host:port) on a free port of 127.0.0.1. It
// fails tb if it cannot listen, and closes itself, with every connection it
// holds, when tb ends.
func New(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("tcpproxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(func() {
		if err := p.close(); err != nil {
			tb.Errorf("tcpproxy: %v", err)
		}
	})
	return p
}

// Addr returns the proxy's address (host:port): point the client here instead
// of at the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		switch p.mode {
		case cut:
			_ = c.Close()
		case hung:
			p.conns[c] = struct{}{}
			p.wg.Add(1)
			go p.pipe(nil, c)
		default:
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				break
			}
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
		p.mu.Unlock()
	}
}

// pipe copies src to dst (drops what src sends when dst is nil or the proxy
// hangs) until either side closes, then closes both, so that a connection
// dies whole.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil && !p.hanging() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, src)
	if dst != nil {
		_ = dst.Close()
		delete(p.conns, dst)
	}
	p.mu.Unlock()
}

func (p *Proxy) hanging() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode == hung
}

// Cut closes every connection through the proxy and refuses new ones until
// Restore: to the client the server is gone.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = cut
	p.closeConns()
}

// Hang makes the server silent without taking it away, as an overloaded
// server or a route that drops packets does: open connections stay open but
// what either side sends is dropped, and new connections are accepted and
// never answered. Only the client's own deadline ends its wait.
func (p *Proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = hung
}

// Restore lets new connections through again after Cut or Hang. After Hang
// it closes every connection: one that dropped bytes while hung can no longer
// carry its protocol, and its client must dial again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == hung {
		p.closeConns()
	}
	p.mode = forwarding
}

// closeConns closes every connection; p.mu must be held.
func (p *Proxy) closeConns() {
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// close stops the listener and every connection, and waits for the proxy's
// goroutines to end.
func (p *Proxy) close() error {
	err := p.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	p.Cut()
	p.wg.Wait()
	return err
}
