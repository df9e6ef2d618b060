package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/sqlitestore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestConformance runs the suite on a fresh file per subtest. Its Peer is a
// second Store on the same file, which is what a second process would open.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		path := filepath.Join(t.TempDir(), "sessions.db")
		s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{Now: clock.Now, SweepInterval: time.Hour})
		require.NoError(t, err)
		return storetest.Harness{Store: s, Sweep: s.Sweep, Close: s.Close, Nanoseconds: true,
			Peer: func(t *testing.T, clock *storetest.Clock) storetest.Harness {
				peer, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{Now: clock.Now, SweepInterval: -1})
				require.NoError(t, err)
				return storetest.Harness{Store: peer, Close: peer.Close}
			},
		}
	})
}

// TestConformanceFromDB runs the suite on a Store over a *sql.DB of the
// caller's, opened with the DSN that New documents.
func TestConformanceFromDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) storetest.Harness {
		path := filepath.Join(t.TempDir(), "app.db")
		db, err := sql.Open("sqlite", walDSN(path))
		require.NoError(t, err)
		s, err := sqlitestore.New(context.Background(), db, sqlitestore.Config{Now: clock.Now, SweepInterval: time.Hour})
		require.NoError(t, err)
		return storetest.Harness{Store: s, Sweep: s.Sweep, Close: func() error {
			return errors.Join(s.Close(), db.Close())
		}}
	})
}
