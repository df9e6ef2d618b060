package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/redisstore"
)

const urlEnv = "SESSIONAUTH_REDIS_URL"

// redisURL returns the URL of the test server, skipping the test when none
// is configured, or failing it when SESSIONAUTH_REQUIRE_SERVICES=1 says the
// server must be there (as in scripts/test.sh).
func redisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
		if os.Getenv("SESSIONAUTH_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("%s is not set but SESSIONAUTH_REQUIRE_SERVICES=1", urlEnv)
		}
		tb.Skipf("set %s (e.g. redis://127.0.0.1:6379/0) to run the Redis tests", urlEnv)
	}
	return url
}

// newClient returns a client of the test server, or of addr instead of the
// server's address when addr is not "" (to go through a proxy).
func newClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(redisURL(tb))
	require.NoError(tb, err)
	if addr != "" {
		opts.Addr = addr
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// uniquePrefix returns a key prefix no other test uses, and deletes its keys
// when the test ends, so that tests and packages share one server safely.
func uniquePrefix(tb testing.TB, c redis.UniversalClient) string {
	tb.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "sessionauth-test-" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		del := func(ctx context.Context, n *redis.Client) error {
			keys, err := n.Keys(ctx, "{"+prefix+"}*").Result()
			if err == nil && len(keys) > 0 {
				err = n.Del(ctx, keys...).Err()
			}
			return err
		}
		if cc, ok := c.(*redis.ClusterClient); ok {
			_ = cc.ForEachMaster(ctx, del)
		} else if n, ok := c.(*redis.Client); ok {
			_ = del(ctx, n)
		}
	})
	return prefix
}

// clock is a settable clock. Tests start it far from the real time on
// purpose: the store must take expiry from its clock, not from Redis's.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2031, 3, 4, 5, 6, 7, 890123456, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a Store on the test server with its own prefix and clock.
type fixture struct {
	store  *redisstore.Store
	client *redis.Client
	clock  *clock
	prefix string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	c := newClient(tb, "")
	f := &fixture{client: c, clock: newClock(), prefix: uniquePrefix(tb, c)}
	s, err := redisstore.New(c, redisstore.Config{Prefix: f.prefix, Now: f.clock.Now})
	require.NoError(tb, err)
	f.store = s
	return f
}

func (f *fixture) sessionKey(key string) string { return "{" + f.prefix + "}:s:" + key }
func (f *fixture) indexKey(user string) string  { return "{" + f.prefix + "}:u:" + user }

// randomKey returns a store key of the shape the Manager uses.
func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// proxy is a TCP proxy to the test server that a test can cut and restore,
// which is how it simulates Redis going away without stopping the server
// that other tests share.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(p.close)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Cut drops every connection and refuses new ones until Restore.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *proxy) close() {
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		panic(err)
	}
	p.Cut()
	p.wg.Wait()
}
