package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// openStore opens the session store the flags name and returns it with the
// function that closes it.
func openStore(ctx context.Context, o options, log *slog.Logger) (sessionauth.Store, func(), error) {
	switch o.store {
	case "memory":
		s := memstore.New()
		log.Info("session store: memory (sessions end when the server stops)")
		return s, func() { _ = s.Close() }, nil
	default:
		return nil, nil, fmt.Errorf("unknown -store %q: want sqlite, memory, redis or postgres", o.store)
	}
}
