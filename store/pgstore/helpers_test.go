package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/pgstore"
)

const urlEnv = "SESSIONAUTH_POSTGRES_URL"

// postgresURL returns the URL of the test database, skipping the test when
// none is configured, or failing it when SESSIONAUTH_REQUIRE_SERVICES=1 says
// the database must be there (as in scripts/test.sh).
func postgresURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
		if os.Getenv("SESSIONAUTH_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("%s is not set but SESSIONAUTH_REQUIRE_SERVICES=1", urlEnv)
		}
		tb.Skipf("set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests", urlEnv)
	}
	return url
}

// newPool returns a pool on the test database, through the TCP proxy at addr
// when addr is not "", with at most maxConns connections (0: pgx's default).
func newPool(tb testing.TB, addr string, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(postgresURL(tb))
	require.NoError(tb, err)
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		require.NoError(tb, err)
		cfg.ConnConfig.Host = host
		n, err := strconv.ParseUint(port, 10, 16)
		require.NoError(tb, err)
		cfg.ConnConfig.Port = uint16(n)
		cfg.ConnConfig.Fallbacks = nil
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// uniqueTable returns a table name no other test uses, and drops the table
// when the test ends, so that tests run in parallel on one database.
func uniqueTable(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "sessionauth_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx := context.Background()
		_, _ = pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		_, _ = pool.Exec(ctx, "DELETE FROM sessionauth_schema WHERE table_name = $1", table)
	})
	return table
}

// clock is a settable clock, started far from the real time: the store must
// take expiry from its clock, not from the database's.
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

// fixture is a Store on its own table with its own clock.
type fixture struct {
	store *pgstore.Store
	pool  *pgxpool.Pool
	clock *clock
	table string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := newPool(tb, "", 0)
	f := &fixture{pool: pool, clock: newClock(), table: uniqueTable(tb, pool)}
	s, err := pgstore.New(context.Background(), pool, pgstore.Config{Table: f.table, Now: f.clock.Now, SweepInterval: -1})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	f.store = s
	return f
}

// randomKey returns a store key of the shape the Manager uses.
func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// proxy is a TCP proxy to the test database that a test can cut and
// restore, which is how it simulates the database going away without
// stopping the server that other tests share.
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
