package sqlitestore

import (
	"context"
	"fmt"

	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// Sweep deletes the sessions expired at the store's clock now and reports how
// many it deleted. It only reclaims space: expired sessions are already
// invisible to every read. It deletes in batches of Config.SweepBatch, so
// other writes are never held up for long, and stops early, with ctx's error,
// when ctx is done. It is safe to call at any time, concurrently with every
// other method.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.Check(); err != nil {
		return 0, err
	}
	now := unixnano.From(s.now())
	total := 0
	for {
		n, err := s.exec(ctx, s.sweep, now, s.batch)
		if err != nil {
			return total, fmt.Errorf("sqlitestore: sweep: %w", err)
		}
		total += int(n)
		if n < int64(s.batch) {
			return total, nil
		}
	}
}
