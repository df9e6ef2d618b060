package sqlitestore

// The statements of the store. Expiries are Unix nanoseconds; a record is
// live strictly before its expiry. Each write is one statement, so one atomic
// step: it checks that the record is live and changes it under the write
// lock, and a revocation cannot land between the two.
const (
	// Get returns a row the file holds, expired or not: the Manager
	// judges expiry (see sessionauth.SessionStore).
	qGet = `SELECT data, expiry FROM sessionauth_sessions WHERE key = ?1`

	// The later expiry wins, so that a Put racing a Touch never shortens a
	// session. No need to tell live from expired records: a new expiry
	// earlier than an expired one is itself past, so the record stays
	// expired either way.
	qPut = `INSERT INTO sessionauth_sessions (key, user_id, data, expiry) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (key) DO UPDATE SET
			user_id = excluded.user_id,
			data = excluded.data,
			expiry = max(expiry, excluded.expiry)`

	// scs semantics: data and expiry exactly as given, owned by no user.
	qCommit = `INSERT INTO sessionauth_sessions (key, user_id, data, expiry) VALUES (?1, '', ?2, ?3)
		ON CONFLICT (key) DO UPDATE SET user_id = '', data = excluded.data, expiry = excluded.expiry`

	qUpdate = `UPDATE sessionauth_sessions SET data = ?2, expiry = max(expiry, ?3) WHERE key = ?1 AND expiry > ?4`
	qTouch  = `UPDATE sessionauth_sessions SET expiry = ?1 WHERE key = ?2 AND expiry < ?1 AND expiry > ?3`

	// A new primary key moves the row, data, expiry and user, in one
	// statement. A newKey that exists fails the statement (a UNIQUE
	// constraint, whose message names the column, not the key), and then
	// nothing moves.
	qRename = `UPDATE sessionauth_sessions SET key = ?2 WHERE key = ?1 AND expiry > ?3`

	qDelete     = `DELETE FROM sessionauth_sessions WHERE key = ?1`
	qListUser   = `SELECT key, data, expiry FROM sessionauth_sessions WHERE user_id = ?1 AND expiry > ?2`
	qDeleteUser = `DELETE FROM sessionauth_sessions WHERE user_id = ?1 AND key <> ?2 RETURNING expiry`
	qAll        = `SELECT key, data FROM sessionauth_sessions WHERE expiry > ?1`

	// One statement selects and deletes, under the write lock: a record a
	// Put revives cannot be deleted on the strength of its old expiry.
	qSweep = `DELETE FROM sessionauth_sessions WHERE key IN
		(SELECT key FROM sessionauth_sessions WHERE expiry <= ?1 LIMIT ?2)`
)
