package storetest

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/sessionauth/sessionauth"
)

// The parts of a wrapped store, one per interface a store may implement.
// gen_wrapper.go combines them into one type per set of interfaces.

// storePart is sessionauth.Store: the plain scs methods, which take no
// context, so their calls carry context.Background().
type storePart struct{ w *Wrapper }

func (p storePart) Find(key string) ([]byte, bool, error) {
	c := &Call{Op: OpFind, Ctx: context.Background(), Key: key}
	p.w.do(c, func(c *Call) (err error) {
		c.Data, c.Found, err = p.w.inner.Find(c.Key)
		return err
	})
	return c.Data, c.Found, c.Err
}

func (p storePart) Commit(key string, b []byte, expiry time.Time) error {
	c := &Call{Op: OpCommit, Ctx: context.Background(), Key: key, Data: b, Expiry: expiry}
	p.w.do(c, func(c *Call) error { return p.w.inner.Commit(c.Key, c.Data, c.Expiry) })
	return c.Err
}

func (p storePart) Delete(key string) error {
	c := &Call{Op: OpDelete, Ctx: context.Background(), Key: key}
	p.w.do(c, func(c *Call) error { return p.w.inner.Delete(c.Key) })
	return c.Err
}

// ctxPart is the rest of sessionauth.CtxStore.
type ctxPart struct{ w *Wrapper }

func (p ctxPart) inner() sessionauth.CtxStore { return p.w.inner.(sessionauth.CtxStore) }

func (p ctxPart) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	c := &Call{Op: OpFind, Ctx: ctx, Key: key}
	p.w.do(c, func(c *Call) (err error) {
		c.Data, c.Found, err = p.inner().FindCtx(c.Ctx, c.Key)
		return err
	})
	return c.Data, c.Found, c.Err
}

func (p ctxPart) CommitCtx(ctx context.Context, key string, b []byte, expiry time.Time) error {
	c := &Call{Op: OpCommit, Ctx: ctx, Key: key, Data: b, Expiry: expiry}
	p.w.do(c, func(c *Call) error { return p.inner().CommitCtx(c.Ctx, c.Key, c.Data, c.Expiry) })
	return c.Err
}

func (p ctxPart) DeleteCtx(ctx context.Context, key string) error {
	c := &Call{Op: OpDelete, Ctx: ctx, Key: key}
	p.w.do(c, func(c *Call) error { return p.inner().DeleteCtx(c.Ctx, c.Key) })
	return c.Err
}

// fullPart is the rest of sessionauth.SessionStore.
type fullPart struct{ w *Wrapper }

func (p fullPart) inner() sessionauth.SessionStore { return p.w.inner.(sessionauth.SessionStore) }

func (p fullPart) Get(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	c := &Call{Op: OpGet, Ctx: ctx, Key: key}
	p.w.do(c, func(c *Call) (err error) {
		c.Data, c.Expiry, c.Found, err = p.inner().Get(c.Ctx, c.Key)
		return err
	})
	return c.Data, c.Expiry, c.Found, c.Err
}

func (p fullPart) Put(ctx context.Context, key, userID string, data []byte, expiry time.Time) error {
	c := &Call{Op: OpPut, Ctx: ctx, Key: key, UserID: userID, Data: data, Expiry: expiry}
	p.w.do(c, func(c *Call) error { return p.inner().Put(c.Ctx, c.Key, c.UserID, c.Data, c.Expiry) })
	return c.Err
}

func (p fullPart) Update(ctx context.Context, key string, data []byte, expiry time.Time) (bool, error) {
	c := &Call{Op: OpUpdate, Ctx: ctx, Key: key, Data: data, Expiry: expiry}
	p.w.do(c, func(c *Call) (err error) {
		c.OK, err = p.inner().Update(c.Ctx, c.Key, c.Data, c.Expiry)
		return err
	})
	return c.OK, c.Err
}

func (p fullPart) Touch(ctx context.Context, key string, expiry time.Time) error {
	c := &Call{Op: OpTouch, Ctx: ctx, Key: key, Expiry: expiry}
	p.w.do(c, func(c *Call) error { return p.inner().Touch(c.Ctx, c.Key, c.Expiry) })
	return c.Err
}

func (p fullPart) Rename(ctx context.Context, oldKey, newKey string) (bool, error) {
	c := &Call{Op: OpRename, Ctx: ctx, Key: oldKey, NewKey: newKey}
	p.w.do(c, func(c *Call) (err error) {
		c.OK, err = p.inner().Rename(c.Ctx, c.Key, c.NewKey)
		return err
	})
	return c.OK, c.Err
}

func (p fullPart) ListUser(ctx context.Context, userID string) ([]sessionauth.Record, error) {
	c := &Call{Op: OpListUser, Ctx: ctx, UserID: userID}
	p.w.do(c, func(c *Call) (err error) {
		c.Records, err = p.inner().ListUser(c.Ctx, c.UserID)
		return err
	})
	return c.Records, c.Err
}

func (p fullPart) DeleteUser(ctx context.Context, userID, except string) (int, error) {
	c := &Call{Op: OpDeleteUser, Ctx: ctx, UserID: userID, Key: except}
	p.w.do(c, func(c *Call) (err error) {
		c.N, err = p.inner().DeleteUser(c.Ctx, c.UserID, c.Key)
		return err
	})
	return c.N, c.Err
}

// iterPart is sessionauth.IterableStore.
type iterPart struct{ w *Wrapper }

func (p iterPart) All() (map[string][]byte, error) {
	c := &Call{Op: OpAll, Ctx: context.Background()}
	p.w.do(c, func(c *Call) (err error) {
		c.All, err = p.w.inner.(sessionauth.IterableStore).All()
		return err
	})
	return c.All, c.Err
}

// iterCtxPart is sessionauth.IterableCtxStore.
type iterCtxPart struct{ w *Wrapper }

func (p iterCtxPart) AllCtx(ctx context.Context) (map[string][]byte, error) {
	c := &Call{Op: OpAll, Ctx: ctx}
	p.w.do(c, func(c *Call) (err error) {
		c.All, err = p.w.inner.(sessionauth.IterableCtxStore).AllCtx(c.Ctx)
		return err
	})
	return c.All, c.Err
}

// loaderPart is sessionauth.SessionLoader.
type loaderPart struct{ w *Wrapper }

func (p loaderPart) LoadSession(ctx context.Context, hash [32]byte, now time.Time) (*sessionauth.Session, error) {
	c := &Call{Op: OpLoadSession, Ctx: ctx, Key: hex.EncodeToString(hash[:]), Now: now}
	p.w.do(c, func(c *Call) (err error) {
		c.Session, err = p.w.inner.(sessionauth.SessionLoader).LoadSession(c.Ctx, hash, c.Now)
		return err
	})
	return c.Session, c.Err
}

// checkPart is sessionauth.CheckedStore. Check is not an operation: it is
// neither counted nor hooked.
type checkPart struct{ w *Wrapper }

func (p checkPart) Check() error { return p.w.inner.(sessionauth.CheckedStore).Check() }
