package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/internal/unixnano"
)

// reader is a read connection reserved for Get, with the lookup prepared on
// it as a statement of the driver: a lookup runs inside conn.Raw, without
// database/sql's per-query bookkeeping (its rows, their dependency on the
// statement, argument conversion), which would cost a request several
// allocations. conn is nil until the first Get that takes the reader opens
// it. Only the Get holding the reader uses it, args and dest.
type reader struct {
	conn *sql.Conn
	get  driverStmt
	args [1]driver.NamedValue
	dest [2]driver.Value
	// decoded holds the sessions this reader decoded last, by key, for
	// LoadSession to return again while their rows are unchanged.
	decoded map[string]decodedSession
}

// decodedSession is a row as LoadSession read it and the session it decoded.
type decodedSession struct {
	data string
	exp  int64
	sess *sessionauth.Session
}

// A reader keeps at most maxDecoded sessions, of rows of at most
// maxDecodedRow bytes (a session with a browser's User-Agent and a few
// Values is about 300): about 450 KB per reader for typical sessions, 4 MB
// at worst, times Config.MaxReadConns readers.
const (
	maxDecoded    = 1024
	maxDecodedRow = 1024
)

// driverStmt is what a reader needs of the driver's statement.
type driverStmt interface {
	driver.Stmt
	driver.StmtQueryContext
}

// lookup runs the prepared lookup; it is called inside r.conn.Raw.
func (r *reader) lookup(key string) (data []byte, exp int64, found bool, err error) {
	err = r.query(key, func(row []byte, e int64) error {
		// A driver may reuse the buffers it hands to Next.
		data, exp, found = bytes.Clone(row), e, true
		return nil
	})
	return data, exp, found, err
}

// load is lookup for LoadSession; it is called inside r.conn.Raw. A row
// equal, bytes and expiry, to the one this reader decoded last under key
// gives the same session again, without decoding it: any write to the row
// (a touch included) changes one or the other.
func (r *reader) load(key string) (sess *sessionauth.Session, err error) {
	found := false
	defer func() {
		if !found {
			delete(r.decoded, key) // revoked or swept: keep nothing of it
		}
	}()
	err = r.query(key, func(row []byte, exp int64) error {
		found = true
		if d, ok := r.decoded[key]; ok && d.exp == exp && d.data == string(row) {
			sess = d.sess
			return nil
		}
		s, err := sessionauth.DecodeSession(key, row, unixnano.Time(exp))
		if err != nil {
			delete(r.decoded, key)
			return err
		}
		if len(row) > maxDecodedRow {
			delete(r.decoded, key)
			sess = s
			return nil
		}
		if r.decoded == nil {
			r.decoded = make(map[string]decodedSession)
		}
		if _, ok := r.decoded[key]; !ok && len(r.decoded) >= maxDecoded {
			for k := range r.decoded { // one at random
				delete(r.decoded, k)
				break
			}
		}
		r.decoded[key] = decodedSession{data: string(row), exp: exp, sess: s}
		sess = s
		return nil
	})
	return sess, err
}

// query runs the prepared lookup and passes the row it found, if any, to
// found; the row's data is valid only until found returns.
func (r *reader) query(key string, found func(data []byte, exp int64) error) error {
	r.args[0] = driver.NamedValue{Ordinal: 1, Value: key}
	// The caller's context was checked before; the lookup itself is not
	// interrupted (see Get).
	rows, err := r.get.QueryContext(context.Background(), r.args[:])
	r.args = [1]driver.NamedValue{}
	if err != nil {
		return err
	}
	defer rows.Close()
	defer func() { r.dest = [2]driver.Value{} }()
	switch err := rows.Next(r.dest[:]); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	}
	exp, ok := r.dest[1].(int64)
	if !ok {
		return fmt.Errorf("expiry of type %T", r.dest[1])
	}
	switch v := r.dest[0].(type) {
	case nil:
		return found(nil, exp)
	case []byte:
		return found(v, exp)
	default:
		return fmt.Errorf("data of type %T", v)
	}
}

// openReaders makes n slots for the connections Get reserves; the other
// reads (ListUser, All) share the rest of the pool. A slot's connection opens
// on its first use, as a pool's would: opening one while another Store on
// the file closes may fail with SQLITE_BUSY, which should fail that Get, not
// Open.
func (s *Store) openReaders(n int) {
	s.readers = make(chan *reader, n)
	for range n {
		s.readers <- new(reader)
	}
}

// open reserves a connection for r and prepares the lookup on it, waiting
// for the pool no longer than ctx allows. On failure r stays empty, for a
// later Get to try again.
func (r *reader) open(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		cp, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		stmt, err := cp.PrepareContext(context.WithoutCancel(ctx), qGet)
		if err != nil {
			return err
		}
		if r.get, ok = stmt.(driverStmt); !ok {
			stmt.Close()
			return fmt.Errorf("driver statement %T cannot query", stmt)
		}
		return nil
	})
	if err != nil {
		conn.Close()
		return err
	}
	r.conn = conn
	return nil
}

// closeReaders waits for every reader to come back from the Gets using
// them, closes them, and closes the channel, so that a later Get fails.
func (s *Store) closeReaders() error {
	if s.readers == nil {
		return nil
	}
	var errs []error
	for range cap(s.readers) {
		r := <-s.readers
		if r.conn != nil {
			errs = append(errs, r.conn.Raw(func(any) error { return r.get.Close() }), r.conn.Close())
		}
	}
	close(s.readers)
	return errors.Join(errs...)
}

// withReader runs f inside the connection of a reader, waiting for a reader
// as long as ctx allows, opening its connection if need be, and retrying f
// while it meets SQLITE_BUSY.
func (s *Store) withReader(ctx context.Context, f func(*reader) error) error {
	var r *reader
	var ok bool
	select {
	case r, ok = <-s.readers:
	default:
		select {
		case r, ok = <-s.readers:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !ok {
		return errStoreClosed
	}
	defer func() { s.readers <- r }()
	if r.conn == nil {
		if err := s.retry(ctx, func() error { return r.open(ctx, s.read) }); err != nil {
			return err
		}
	}
	return s.retry(ctx, func() error { return r.conn.Raw(func(any) error { return f(r) }) })
}
