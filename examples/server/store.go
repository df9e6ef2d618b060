package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/redisstore"
	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// openStore opens the session store the flags name and returns it with the
// function that closes it. name, if not "", is the table of the postgres
// store and the key prefix of the redis store. Its log line comes first, so
// the log names the SQLite file before anything else.
func openStore(ctx context.Context, o options, name string, log *slog.Logger) (sessionauth.Store, func(), error) {
	if (o.store == "redis" || o.store == "postgres") && o.storeURL == "" {
		return nil, nil, fmt.Errorf("-store %s needs -store-url", o.store)
	}
	switch o.store {
	case "sqlite":
		path, err := filepath.Abs(o.db)
		if err != nil {
			return nil, nil, err
		}
		log.Info("session store: sqlite", "file", path)
		s, err := sqlitestore.New(path, sqlitestore.Config{Logger: log})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { closeLogged(log, s.Close()) }, nil
	case "memory":
		log.Info("session store: memory (sessions end when the server stops)")
		s := memstore.New()
		return s, func() { closeLogged(log, s.Close()) }, nil
	case "redis":
		log.Info("session store: redis")
		s, err := redisstore.Open(ctx, o.storeURL, redisstore.Config{Prefix: name})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { closeLogged(log, s.Close()) }, nil
	case "postgres":
		log.Info("session store: postgres")
		s, err := pgstore.Open(ctx, o.storeURL, pgstore.Config{Table: name, Logger: log})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { closeLogged(log, s.Close()) }, nil
	default:
		return nil, nil, fmt.Errorf("unknown -store %q: want sqlite, memory, redis or postgres", o.store)
	}
}

func closeLogged(log *slog.Logger, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("closing the session store", "error", err)
	}
}
