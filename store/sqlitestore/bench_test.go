package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/sessionauth/store/sqlitestore"
)

// benchDBs caches the benchmark databases for the life of the test process:
// a million sessions take seconds to write, and a benchmark function may run
// more than once (-count). TestMain removes the directory.
var benchDBs struct {
	sync.Mutex
	dir   string
	paths map[int]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDBs.dir != "" {
		os.RemoveAll(benchDBs.dir)
	}
	os.Exit(code)
}

// benchKey is the store key of the i-th benchmark session: a hex SHA-256, as
// the Manager writes them.
func benchKey(i int) string {
	h := sha256.Sum256([]byte("bench-session-" + strconv.Itoa(i)))
	return hex.EncodeToString(h[:])
}

// benchDB returns the path of a database holding n live sessions, building it
// on first use.
func benchDB(b *testing.B, n int) string {
	benchDBs.Lock()
	defer benchDBs.Unlock()
	if path, ok := benchDBs.paths[n]; ok {
		return path
	}
	if benchDBs.dir == "" {
		dir, err := os.MkdirTemp("", "sqlitestore-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDBs.dir, benchDBs.paths = dir, make(map[int]string)
	}
	path := filepath.Join(benchDBs.dir, strconv.Itoa(n)+".db")
	start := time.Now()
	buildBenchDB(b, path, n)
	b.Logf("built %d sessions in %v", n, time.Since(start).Round(time.Millisecond))
	benchDBs.paths[n] = path
	return path
}

// buildBenchDB writes n sessions in one transaction through one prepared
// insert, in key order so that the B-tree grows by appending.
func buildBenchDB(b *testing.B, path string, n int) {
	s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Config{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	slices.Sort(keys)

	// No journal and a cache that holds the whole transaction: the file
	// is written once, at commit. A crash would corrupt it, which is of
	// no matter for a benchmark's scratch file.
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-1048576)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	insert, err := tx.Prepare(`INSERT INTO sessionauth_sessions (key, user_id, data, expiry) VALUES (?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer insert.Close()
	// A record of the size the Manager writes for a session with a
	// browser's User-Agent.
	data := make([]byte, 200)
	for i := range data {
		data[i] = byte(i)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	expiry := time.Now().Add(24 * time.Hour).UnixNano()
	for _, key := range keys {
		user := "user-" + strconv.Itoa(rng.IntN(n/4+1))
		if _, err := insert.Exec(key, user, data, expiry+rng.Int64N(int64(time.Hour))); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLookup reads random live sessions by key from a database of 1,000
// and of 1,000,000 sessions: the B-tree keeps the second within a small
// factor of the first.
func BenchmarkLookup(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			skipLargeIfShort(b, size.n)
			s, err := sqlitestore.Open(context.Background(), benchDB(b, size.n), sqlitestore.Config{SweepInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// Random sessions, more than any cache of the database's
			// pages holds, as a server's traffic would ask for.
			rng := rand.New(rand.NewPCG(3, 4))
			sample := make([]string, 1<<16)
			for i := range sample {
				sample[i] = benchKey(rng.IntN(size.n))
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_, _, found, err := s.Get(ctx, sample[i%len(sample)])
				if err != nil || !found {
					b.Fatalf("Get: found %v, error %v", found, err)
				}
				i++
			}
		})
	}
}

// skipLargeIfShort skips a benchmark of n sessions under -short when n is
// more than a thousand: building a million takes tens of seconds, too long
// for the one-iteration run that checks the benchmarks still work.
func skipLargeIfShort(b *testing.B, n int) {
	if testing.Short() && n > 1000 {
		b.Skipf("%d sessions: skipped with -short", n)
	}
}
