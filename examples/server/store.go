package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/ratelimit"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// stores are the session store the flags name and the store of the sign-in
// limits beside it, on the same file, server or database: every instance
// that shares the sessions shares the counts too.
type stores struct {
	sessions sessionauth.Store
	limits   ratelimit.Store
	close    func()
}

// openStore opens the session store the flags name, with its limit store,
// and the function that closes both. name, if not "", is the table of the
// postgres store and the key prefix of the redis store (the limits go in
// table name_limits and under prefix name:limit:). Its log line comes first,
// so the log names the SQLite file before anything else.
func openStore(ctx context.Context, o options, name string, log *slog.Logger) (stores, error) {
	if (o.store == "redis" || o.store == "postgres") && o.storeURL == "" {
		return stores{}, fmt.Errorf("-store %s needs -store-url", o.store)
	}
	switch o.store {
	case "sqlite":
		path, err := filepath.Abs(o.db)
		if err != nil {
			return stores{}, err
		}
		log.Info("session store: sqlite", "file", path)
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Config{Logger: log})
		if err != nil {
			return stores{}, err
		}
		// The limits queue with the session writes on the Store's own
		// write connection; another process on the file shares them.
		limits, err := s.LimitStore(ctx, sqlitestore.LimitConfig{})
		if err != nil {
			closeLogged(log, s.Close())
			return stores{}, err
		}
		return stores{s, limits, func() { closeLogged(log, s.Close()) }}, nil
	case "memory":
		log.Info("session store: memory (sessions and sign-in limits end when the server stops)")
		s := memstore.New(memstore.Config{})
		return stores{s, ratelimit.NewMemory(), func() { closeLogged(log, s.Close()) }}, nil
	case "redis":
		log.Info("session store: redis")
		return openRedis(ctx, o.storeURL, name, log)
	case "postgres":
		log.Info("session store: postgres")
		return openPostgres(ctx, o.storeURL, name, log)
	default:
		return stores{}, fmt.Errorf("unknown -store %q: want sqlite, memory, redis or postgres", o.store)
	}
}

// openRedis connects to the Redis server at url, as redisstore.Open does,
// with one client for the sessions and the limits.
func openRedis(ctx context.Context, url, prefix string, log *slog.Logger) (stores, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return stores{}, errors.New("invalid -store-url for redis") // the URL may hold a password
	}
	// Without it go-redis ignores every deadline, -store-timeout included.
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	s, err := redisstore.New(client, redisstore.Config{Prefix: prefix})
	if err == nil {
		err = client.Ping(ctx).Err()
	}
	var limits *redisstore.LimitStore
	if err == nil {
		limits, err = redisstore.NewLimitStore(client, redisstore.LimitConfig{Prefix: prefix})
	}
	if err != nil {
		_ = client.Close()
		return stores{}, fmt.Errorf("redis: %w", err)
	}
	return stores{s, limits, func() {
		closeLogged(log, s.Close())
		closeLogged(log, client.Close())
	}}, nil
}

// openPostgres connects to the database at url, as pgstore.Open does, with
// one pool for the sessions and the limits.
func openPostgres(ctx context.Context, url, table string, log *slog.Logger) (stores, error) {
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return stores{}, errors.New("invalid -store-url for postgres") // the URL may hold a password
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return stores{}, fmt.Errorf("postgres: %w", err)
	}
	s, err := pgstore.New(ctx, pool, pgstore.Config{Table: table, Logger: log})
	if err != nil {
		pool.Close()
		return stores{}, err
	}
	limitTable := ""
	if table != "" {
		limitTable = table + "_limits"
	}
	limits, err := pgstore.NewLimitStore(ctx, pool, pgstore.LimitConfig{Table: limitTable})
	if err != nil {
		closeLogged(log, s.Close())
		pool.Close()
		return stores{}, err
	}
	return stores{s, limits, func() {
		closeLogged(log, s.Close()) // stops its sweep, which uses the pool
		pool.Close()
	}}, nil
}

func closeLogged(log *slog.Logger, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("closing the session store", "error", err)
	}
}
