package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// walDSN is the DSN of the file at path as New documents it.
func walDSN(path string) string {
	return "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000"
}

// constructors are the two ways to make a Store, each on a fresh file; every
// behaviour is checked through both. A Store from New runs on a pool of
// the caller's, whose connections wait for locks in SQLite (busy_timeout).
var constructors = []struct {
	name string
	open func(t *testing.T, path string, cfg sqlitestore.Config) *sqlitestore.Store
}{
	{"Open", open},
	{"New", func(t *testing.T, path string, cfg sqlitestore.Config) *sqlitestore.Store {
		t.Helper()
		db, err := sql.Open("sqlite", walDSN(path))
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, db.Close()) })
		s, err := sqlitestore.New(context.Background(), db, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })
		return s
	}},
}

// forEachConstructor runs f on a Store of each constructor, on a fresh file.
func forEachConstructor(t *testing.T, cfg sqlitestore.Config, f func(t *testing.T, s *sqlitestore.Store, path string)) {
	for _, c := range constructors {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sessions.db")
			f(t, c.open(t, path, cfg), path)
		})
	}
}
