package sessionauth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Revoke ends session s at once: its token stops working on the next request
// of every process that shares the store, and so does the token of any
// rotation of s that raced it. Revoking a session that is already gone is not
// an error.
func (m *Manager) Revoke(ctx context.Context, s *Session) error {
	if s == nil || s.ref == nil {
		return nil // not from a store: the dev session, or a zero Session
	}
	if err := m.delete(ctx, s.ref.key); err != nil {
		return err
	}
	if m.full != nil {
		// A Rotate that won the race moved the session to a new key
		// before the delete; it cannot move it after (Rename needs the old
		// key), so chasing the ID once more finds it for good.
		if _, err := m.deleteID(ctx, s.UserID, s.ID); err != nil {
			return err
		}
	}
	m.emit(ctx, Event{Kind: EventSessionRevoked, SessionID: s.ID, UserID: s.UserID})
	return nil
}

// RevokeID ends the session of userID whose ID is sessionID, the form a
// "sign out that device" request takes, wherever a concurrent Rotate moved
// it. It returns ErrUnknownSession if userID has no such live session, so a
// user cannot revoke another's.
func (m *Manager) RevokeID(ctx context.Context, userID, sessionID string) error {
	found, err := m.deleteID(ctx, userID, sessionID)
	switch {
	case err != nil:
		return err
	case !found:
		return ErrUnknownSession
	}
	m.emit(ctx, Event{Kind: EventSessionRevoked, SessionID: sessionID, UserID: userID})
	return nil
}

// maxChase bounds how many times deleteID lists a user's sessions: each
// round that finds the session again means a Rotate moved it in between,
// which only the holder of its current token can do, that fast.
const maxChase = 16

// deleteID deletes every record of userID that holds session sessionID, and
// lists again until none is left, so that a Rotate moving the session while
// it works cannot save it. It reports whether it found one.
func (m *Manager) deleteID(ctx context.Context, userID, sessionID string) (found bool, err error) {
	for range maxChase {
		sessions, err := m.List(ctx, userID)
		if err != nil {
			return found, err
		}
		hit := false
		for _, s := range sessions {
			if s.ID != sessionID {
				continue
			}
			hit = true
			if err := m.delete(ctx, s.ref.key); err != nil {
				return found, err
			}
		}
		if !hit {
			return found, nil
		}
		found = true
	}
	return found, fmt.Errorf("%w: session %s kept moving while it was revoked", ErrUnavailable, sessionID)
}

// RevokeUser ends every session of userID except keep (none if keep is nil),
// for "sign out everywhere" and "sign out other devices". It reports how many
// sessions it ended. Stores that are neither SessionStore nor IterableStore
// return ErrNotSupported.
func (m *Manager) RevokeUser(ctx context.Context, userID string, keep *Session) (n int, err error) {
	defer func() {
		m.userRevoked(ctx, userID, keep, n, err)
	}()
	except := ""
	if keep != nil && keep.ref != nil {
		except = keep.ref.key
	}
	if m.full != nil {
		sctx, cancel := m.storeContext(ctx)
		defer cancel()
		n, err = m.full.DeleteUser(sctx, userID, except)
		return n, m.callError(ctx, sctx, err)
	}
	records, err := m.userSessions(ctx, userID)
	if err != nil {
		return 0, err
	}
	for _, s := range records {
		if s.ref.key == except {
			continue
		}
		if err := m.delete(ctx, s.ref.key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// List returns the live sessions of userID, newest first. Sessions carry no
// token, so the list is safe to show to the user.
func (m *Manager) List(ctx context.Context, userID string) ([]*Session, error) {
	sessions, err := m.userSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := m.now()
	sessions = slices.DeleteFunc(sessions, func(s *Session) bool { return !s.validAt(now) })
	slices.SortFunc(sessions, func(a, b *Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return sessions, nil
}

// userSessions returns the sessions the store holds for userID, expired by
// the Manager's clock or not, in no order. A store that is not a
// SessionStore is iterated, and its records that are not userID's sessions
// skipped: an scs application may share the store, so a record that does not
// decode is only logged when the store indexed it under userID.
func (m *Manager) userSessions(ctx context.Context, userID string) ([]*Session, error) {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	var records []Record
	var err error
	switch {
	case m.full != nil:
		records, err = m.full.ListUser(sctx, userID)
	case m.iter != nil:
		var all map[string][]byte
		all, err = m.iter(sctx)
		for key, data := range all {
			records = append(records, Record{Key: key, Data: data})
		}
	default:
		return nil, fmt.Errorf("%w: the store can neither list a user's sessions nor iterate", ErrNotSupported)
	}
	if err != nil {
		return nil, m.callError(ctx, sctx, err)
	}
	var sessions []*Session
	for _, r := range records {
		s, err := DecodeSession(r.Key, r.Data, r.Expiry)
		switch {
		case err != nil && m.full != nil:
			m.logCorrupt(ctx, err)
		case err == nil && s.UserID == userID:
			sessions = append(sessions, s)
		}
	}
	return sessions, nil
}
