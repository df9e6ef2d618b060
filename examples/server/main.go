// Command server is a small management API protected by sessionauth: users
// sign in with a password, get a session token, and call the API with it.
//
//	go run ./examples/server
//
// It keeps sessions in a SQLite file by default (-store memory, redis and
// postgres are the alternatives), seeds demo organizations, projects and users
// on start, and prints how to sign in (the demo users' password is
// -demo-password, "demo-password" by default; the log never shows it). See the
// repository README for a curl walkthrough. The sign-in and session routes
// are package authapi's; every response carries X-Content-Type-Options:
// nosniff.
//
// Flags:
//
//	-addr             address to listen on (default 127.0.0.1:8080)
//	-store            session store: sqlite (default), memory, redis or postgres
//	-db               SQLite file of the sqlite store (default sessionauth-example.db)
//	-store-url        Redis or PostgreSQL URL of the redis and postgres stores
//	-store-timeout    longest wait for one answer of the store (default 3s, at most 1h)
//	-idle-timeout     sessions expire after this long unused
//	-lifetime         sessions expire this long after sign-in, whatever their use
//	-touch-interval   how stale the stored last use may get
//	-demo-password    password of every demo user (default demo-password)
//	-trusted-proxies  comma-separated CIDR prefixes (or single addresses) of the
//	                  reverse proxies whose X-Forwarded-For names the client
//	                  (default none)
//
// -store-timeout is the longest the server waits for one answer of the
// session store: a store that is down or hangs turns into a 503
// {"message":"Service Unavailable"} within it, never a request that hangs
// with the store. A whole request is cut, with the same 503, at
// -store-timeout plus one second, the time left for the work around the
// store calls.
//
// # Sign-in limits
//
// Sign-in attempts are counted in the session store itself (the SQLite
// file, Redis, PostgreSQL; in memory for -store memory), so that every
// instance on one store shares the counts, with the defaults of package
// ratelimit: 5 attempts per account per minute (a burst of 5, then one
// every 12 s), 5 per account from one client address per 5 minutes (then
// one a minute), 50 per client address per minute. Past
// them the answer is 429 {"message":"Too Many Requests"} with Retry-After
// in seconds; the password is then not even checked. A correct password
// clears the account's counts, never the address's.
//
// The client address is the connection's peer. Behind a reverse proxy, every
// client would share the proxy's address (and its budget): name the proxy in
// -trusted-proxies, and the address it appends to X-Forwarded-For counts
// instead. Never trust a prefix that clients can connect from directly: they
// could then write any address they like into the header.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/ratelimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	addr          string
	store         string
	db            string
	storeURL      string
	storeTimeout  time.Duration
	idleTimeout   time.Duration
	lifetime      time.Duration
	touchInterval time.Duration
	demoPassword  string
	// trustedProxies is -trusted-proxies, parsed.
	trustedProxies []netip.Prefix
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.store, "store", "sqlite", "session store: sqlite, memory, redis or postgres")
	fs.StringVar(&o.db, "db", "sessionauth-example.db", "SQLite file of the sqlite store")
	fs.StringVar(&o.storeURL, "store-url", "", "Redis or PostgreSQL URL of the redis and postgres stores")
	fs.DurationVar(&o.storeTimeout, "store-timeout", sessionauth.DefaultStoreTimeout,
		"longest wait for one answer of the session store, at most 1h; past it the request gets 503 (a whole request gets this plus 1s)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", sessionauth.DefaultIdleTimeout, "sessions expire after this long unused")
	fs.DurationVar(&o.lifetime, "lifetime", sessionauth.DefaultLifetime, "sessions expire this long after sign-in, whatever their use")
	fs.DurationVar(&o.touchInterval, "touch-interval", 0, "how stale the stored last use may get (default: 1m or idle-timeout/10)")
	fs.StringVar(&o.demoPassword, "demo-password", "demo-password", "password of every demo user")
	fs.Func("trusted-proxies", "comma-separated CIDR prefixes of the reverse proxies whose X-Forwarded-For names the client of a sign-in (default none: the client is the connection's peer)",
		func(s string) (err error) {
			o.trustedProxies, err = parsePrefixes(s)
			return err
		})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.demoPassword == "" {
		return o, errors.New("-demo-password must not be empty")
	}
	if o.storeTimeout <= 0 || o.storeTimeout > maxStoreTimeout {
		return o, fmt.Errorf("-store-timeout must be positive and at most %v", maxStoreTimeout)
	}
	return o, nil
}

// run serves until ctx is done, then shuts down gracefully: in-flight
// requests finish, the store closes. ready, if not nil, is called with the
// address once the listener is open (tests listen on port 0). opts adjust the
// configuration the flags cannot reach, such as the clock in tests.
func run(ctx context.Context, args []string, logOut io.Writer, ready func(addr string), opts ...func(*appConfig)) error {
	o, err := parseFlags(args, logOut)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))

	cfg := appConfig{
		storeTimeout:   o.storeTimeout,
		idleTimeout:    o.idleTimeout,
		lifetime:       o.lifetime,
		touchInterval:  o.touchInterval,
		demoPassword:   o.demoPassword,
		log:            log,
		trustedProxies: o.trustedProxies,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	opened, err := openStore(ctx, o, cfg.storeName, log)
	if err != nil {
		return err
	}
	defer opened.close()
	cfg.store, cfg.limits = opened.sessions, opened.limits
	if cfg.wrapStore != nil {
		cfg.store = cfg.wrapStore(opened.sessions)
	}
	app, err := newApp(cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	// The write deadline must leave a request that waited until its own
	// deadline the time to send its 503.
	writeTimeout := max(30*time.Second, app.requestTimeout+10*time.Second)
	srv := &http.Server{
		Handler:           app.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	rule := func(r ratelimit.Rule) string { return fmt.Sprintf("%d per %v", r.Limit, r.Window) }
	log.Info("sign-in limits", "account", rule(ratelimit.DefaultAccount),
		"account_and_address", rule(ratelimit.DefaultAccountClient), "address", rule(ratelimit.DefaultClient),
		"trusted_proxies", fmt.Sprint(o.trustedProxies))
	log.Info("listening", "addr", "http://"+addr)
	printSignIn(log, addr)
	if ready != nil {
		ready(addr)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printSignIn logs how to sign in. It never logs the password: a log is
// read, kept and shipped by more people and systems than the server's flags.
func printSignIn(log *slog.Logger, addr string) {
	log.Info("demo users: owner@example.com, admin@example.com, developer@example.com (Acme), outsider@example.com (Globex)")
	log.Info("sign in with: curl -s -X POST http://" + addr + `/auth/sign-in -H "Content-Type: application/json" -d '{"email":"owner@example.com","password":"PASSWORD"}'` +
		" where PASSWORD is the demo users' password (see -help)")
	if sessionauth.DevMode {
		log.Warn("development build: the development bearer token is accepted as owner@example.com")
	}
}
