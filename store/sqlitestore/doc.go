// Package sqlitestore is a session store on a SQLite file, through
// modernc.org/sqlite: pure Go, no cgo, no server to install. It is the
// embedded default of sessionauth: sessions survive a restart.
//
//	store, err := sqlitestore.Open(ctx, "sessions.db", sqlitestore.Config{})
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//	m, err := sessionauth.New(sessionauth.Config{Store: store})
//
// It implements every capability a sessionauth.Manager can use
// (sessionauth.SessionStore: per-user listing and revocation, and a touch
// that only moves an expiry forward and never rewrites data; and
// sessionauth.SessionLoader, through which a request reads the row but does
// not decode it again while it is unchanged), and it is also
// a store for github.com/alexedwards/scs/v2 (scs.Store, scs.CtxStore,
// scs.IterableStore and scs.IterableCtxStore): a SQLite store for scs
// applications that need no cgo.
//
// # Durability
//
// Open opens the file in WAL mode with synchronous=FULL: when a write returns,
// it is on disk. A created session survives the process being killed and the
// machine losing power, and so does a revocation: a revoked token never comes
// back after a crash. Writes are rare (the Manager touches a session at most
// once per TouchInterval), so the fsync a write costs is cheap insurance.
//
// # Concurrency
//
// A Store is safe for concurrent use. It writes through a single connection,
// so that its writes queue in Go instead of contending for SQLite's lock, and
// reads through read-only connections, which WAL lets run alongside the
// writer: readers never wait for a writer. Lookups run on connections
// reserved for them, so that concurrent requests do not contend for a
// connection pool's lock.
//
// Any number of processes on one machine may share one file, each with its
// own Store: their reads run concurrently, and their writes take turns, each
// waiting up to Config.BusyTimeout for the others. The file must be on a
// local file system (WAL relies on shared memory, which network file systems
// do not provide). Processes on several machines need a shared server
// instead: see the redisstore and pgstore packages.
//
// Every call honours its context: one cancelled or past its deadline returns
// promptly with an error wrapping the context's error, even while another
// process holds the write lock. SQLite's own wait for a lock (busy_timeout)
// cannot be interrupted, so the Store's connections do not use it: a call
// that meets SQLITE_BUSY waits and retries in Go, for up to
// Config.BusyTimeout and never past its context.
//
// # Performance
//
// A lookup is one search of a B-tree keyed by the token hash. Open creates
// files with 8 KiB pages, so that the tree of a million sessions is three
// levels deep, and maps the file into the read connections' memory
// (Config.MmapSize), so that visiting a page needs no system call: a lookup
// among a million sessions costs little more than one among a thousand
// (BenchmarkLookup; the figures are in BENCHMARKS.md).
//
// # Schema
//
// Sessions live in the table sessionauth_sessions, keyed by the hex SHA-256
// of their token (never the token), with indexes on the user and the expiry.
// The schema version is kept in the table sessionauth_schema rather than in
// PRAGMA user_version, so the file may be the application's own database
// (see New). Open and New create or upgrade the schema on first use, and
// refuse a file whose schema is newer than this package (ErrSchemaTooNew).
//
// # Expiry
//
// A session is live strictly before its expiry, by Config.Now. Get and
// LoadSession return a row the file still holds even if it has expired, with
// its expiry, for the Manager to judge by its own clock and delete; every
// other read and every write treats an expired row as absent. A background
// sweep deletes expired sessions in bounded batches to reclaim space, and
// stops on Close.
package sqlitestore
