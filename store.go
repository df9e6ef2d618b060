package sessionauth

import (
	"context"
	"time"
)

// Store is the store contract of github.com/alexedwards/scs/v2 (scs.Store).
// Any scs store can back a Manager for create, authenticate and revoke. Keys
// are the hex SHA-256 of a token, never the token itself, and values are
// records encoded by the Manager.
//
// A Store must be safe for concurrent use. Find must report found == false for
// an expired or missing key and reserve err for system failures.
//
// A plain Store can only rewrite a whole record, and a rewrite after a read
// would undo a revocation that landed in between. So on a store that is not a
// SessionStore the Manager never writes back what it read: SetValues and
// Rotate fail with ErrNotSupported, and a session is not extended by use (it
// ends IdleTimeout after Create; set IdleTimeout to Lifetime on such a store
// for sessions that last their whole Lifetime). Create, Authenticate and
// every Revoke keep their guarantees.
type Store interface {
	Delete(key string) error
	Find(key string) (b []byte, found bool, err error)
	Commit(key string, b []byte, expiry time.Time) error
}

// CtxStore is scs.CtxStore: a Store whose calls honour a context. The Manager
// prefers these methods when a store has them, so that a cancelled request
// stops its store call.
type CtxStore interface {
	Store
	DeleteCtx(ctx context.Context, key string) error
	FindCtx(ctx context.Context, key string) (b []byte, found bool, err error)
	CommitCtx(ctx context.Context, key string, b []byte, expiry time.Time) error
}

// IterableStore is scs.IterableStore. The Manager uses it, when a store is not
// a SessionStore, to list and revoke the sessions of a user by decoding every
// live record: correct, but linear in the number of sessions.
type IterableStore interface {
	// All returns every live record by key. A record that is not the
	// store's to return (a foreign value under the store's prefix) is
	// skipped, not an error.
	All() (map[string][]byte, error)
}

// IterableCtxStore is scs.IterableCtxStore: an iterable store whose All
// honours a context. The Manager prefers it to IterableStore.
type IterableCtxStore interface {
	// AllCtx is All under ctx.
	AllCtx(ctx context.Context) (map[string][]byte, error)
}

// Record is one stored session as a SessionStore returns it.
type Record struct {
	// Key is the hex SHA-256 of the session's token. It identifies the
	// record to the store and must never be logged or shown to a user.
	Key    string
	Data   []byte
	Expiry time.Time
}

// SessionStore is the full contract of this module's stores: what scs stores
// lack and the Manager uses when it is there. Every store in this module
// implements it; the conformance suite in store/storetest defines it.
//
// No write that follows a read can bring back a deleted record: Update,
// Touch and Rename change a record only if it still exists, atomically in the
// store, so a revocation that lands between the Manager's read and its write
// holds. Put is the only write that creates, and the Manager uses it only for
// a new session's fresh random key.
//
// Expiry: a record is live strictly before its expiry by the store's clock;
// an expiry never moves backwards. Get returns a record that the store still
// holds even when it has expired, so that the Manager, which judges expiry by
// its own clock, can refuse it as expired and delete it (an expired record
// must never become valid again when a clock steps back). Every other method
// treats an expired record as absent.
type SessionStore interface {
	CtxStore

	// Get returns the record for key with its expiry, found == true while
	// the store holds it, expired or not (a store may drop expired
	// records at any time, and then reports found == false).
	Get(ctx context.Context, key string) (data []byte, expiry time.Time, found bool, err error)

	// Put writes data for key and indexes it under userID, creating the
	// record if need be. If a live record exists, its data is replaced and
	// its expiry becomes the later of the stored and the given expiry.
	Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error

	// Update replaces the data of the live record of key and moves its
	// expiry to the later of the stored and the given one, keeping its
	// user. It never creates a record: for a missing or expired key it
	// changes nothing and reports updated == false. The check and the
	// write are one atomic step in the store.
	Update(ctx context.Context, key string, data []byte, expiry time.Time) (updated bool, err error)

	// Touch moves the expiry of a live record forward to expiry. It never
	// moves it backwards, never changes the data, and is a no-op for a
	// missing or expired key.
	Touch(ctx context.Context, key string, expiry time.Time) error

	// Rename moves the live record of oldKey (data, expiry and user) to
	// newKey, which must not exist (a store may fail the call if it does),
	// in one atomic step: afterwards oldKey is absent and newKey holds the
	// record. For a missing or expired oldKey it changes nothing and
	// reports renamed == false.
	Rename(ctx context.Context, oldKey, newKey string) (renamed bool, err error)

	// ListUser returns the live records indexed under userID, in no
	// particular order.
	ListUser(ctx context.Context, userID string) ([]Record, error)

	// DeleteUser deletes every record indexed under userID except the one
	// whose key is except (none when except is ""), in one atomic step,
	// and reports how many live records it deleted.
	DeleteUser(ctx context.Context, userID, except string) (int, error)
}

// NonBlockingStore is implemented by a store whose calls never wait on I/O
// or on a server (an in-memory store). The Manager calls it without the
// Config.StoreTimeout deadline, which would cost a timer per call and bound
// nothing.
type NonBlockingStore interface {
	// NeverBlocks marks the store; it is never called.
	NeverBlocks()
}

// CheckedStore is implemented by a store that can tell, without I/O, whether
// it can serve calls at all. New refuses a store whose Check fails, such as a
// zero value that no constructor built.
type CheckedStore interface {
	// Check returns an error if the store cannot serve calls.
	Check() error
}

// SessionLoader is an optional fast path for stores that can hand back an
// immutable, already decoded *Session, such as one that keeps sessions in
// memory or keeps the ones it decoded last, so that authenticating a request
// need not decode the record or allocate. hash is the SHA-256 of the token;
// the store's key for it is hex.EncodeToString(hash[:]).
//
// LoadSession returns nil when the store holds no session for hash. Like
// Get, it returns a session that has expired while the store still holds it:
// the Manager judges expiry at now and deletes an expired session. now is
// the Manager's clock reading, for a store that caches by it. The returned
// *Session is shared between requests and must never be modified.
// A record that does not decode may be reported as an error wrapping
// ErrCorruptRecord, which the Manager logs and treats as no session, as it
// does when it decodes a record itself.
type SessionLoader interface {
	LoadSession(ctx context.Context, hash [32]byte, now time.Time) (*Session, error)
}
