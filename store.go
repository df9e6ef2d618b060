package sessionauth

import (
	"context"
	"time"
)

// Store is the store contract of github.com/alexedwards/scs/v2 (scs.Store).
// Any scs store can back a Manager for the core operations: create,
// authenticate, touch, revoke and rotate. Keys are the hex SHA-256 of a token,
// never the token itself, and values are records encoded by the Manager.
//
// A Store must be safe for concurrent use. Find must report found == false for
// an expired or missing key and reserve err for system failures.
//
// A plain Store can only rewrite a whole record, so extending a session on it
// is a read followed by a Commit: a revocation or SetValues that lands between
// the two is undone by the Commit. Where revocation must hold under every
// interleaving, use a SessionStore, whose Touch only extends a record that
// still exists (every store of this module is one).
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
	All() (map[string][]byte, error)
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
// Expiry semantics are the same in every method: a record whose expiry is not
// after the store's clock is absent, and an expiry never moves backwards.
type SessionStore interface {
	CtxStore

	// Get returns the record for key with its current expiry, or found ==
	// false if it is missing or expired.
	Get(ctx context.Context, key string) (data []byte, expiry time.Time, found bool, err error)

	// Put writes data for key and indexes it under userID. If key exists,
	// its data is replaced and its expiry becomes the later of the stored
	// and the given expiry, so a Put racing a Touch never shortens a
	// session.
	Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error

	// Touch moves the expiry of a live record forward to expiry. It never
	// moves it backwards, never changes the data, and is a no-op for a
	// missing or expired key.
	Touch(ctx context.Context, key string, expiry time.Time) error

	// ListUser returns the live records indexed under userID, in no
	// particular order.
	ListUser(ctx context.Context, userID string) ([]Record, error)

	// DeleteUser deletes every record indexed under userID except the one
	// whose key is except (none when except is ""), and reports how many it
	// deleted.
	DeleteUser(ctx context.Context, userID, except string) (int, error)
}

// SessionLoader is an optional fast path for stores that can hand back an
// immutable, already decoded *Session, such as one that keeps sessions in
// memory or keeps the ones it decoded last, so that authenticating a request
// need not decode the record or allocate. hash is the SHA-256 of the token;
// the store's key for it is hex.EncodeToString(hash[:]).
//
// LoadSession returns nil when the session is missing or expired at now. The
// returned *Session is shared between requests and must never be modified.
// A record that does not decode may be reported as an error wrapping
// ErrCorruptRecord, which the Manager logs and treats as no session, as it
// does when it decodes a record itself.
type SessionLoader interface {
	LoadSession(ctx context.Context, hash [32]byte, now time.Time) (*Session, error)
}
