package main

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/sessionauth/sessionauth/authapi"
)

// user is a demo account. Its password is kept only as a hash: bcrypt when
// seeded, argon2id once authapi has upgraded it at a sign-in.
type user struct {
	ID    string
	Email string
	Name  string
	hash  string // guarded by the directory's mu
}

// userJSON is what GET /auth/session shows of a user.
type userJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// directory is the demo user table: the application's own part of a
// sign-in, which authapi asks for an account and tells of upgraded hashes.
type directory struct {
	cost int // bcrypt cost of the seeded hashes

	mu      sync.Mutex
	byEmail map[string]*user
	ids     map[string]*user
}

// newDirectory returns an empty directory hashing with the bcrypt cost, or
// bcrypt.DefaultCost if cost is 0.
func newDirectory(cost int) *directory {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	return &directory{byEmail: map[string]*user{}, ids: map[string]*user{}, cost: cost}
}

// add seeds a user with a bcrypt hash of password, as an application that
// predates argon2id has them: authapi verifies it and moves it to argon2id
// at the user's first sign-in.
func (d *directory) add(id, email, name, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), d.cost)
	if err != nil {
		return err
	}
	u := &user{ID: id, Email: email, Name: name, hash: string(hash)}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byEmail[strings.ToLower(email)] = u
	d.ids[id] = u
	return nil
}

// account implements authapi.Config.Accounts: emails match in any case.
func (d *directory) account(_ context.Context, email string) (authapi.Account, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.byEmail[strings.ToLower(email)]
	if u == nil {
		return authapi.Account{}, authapi.ErrNoSuchAccount
	}
	return authapi.Account{UserID: u.ID, PasswordHash: u.hash}, nil
}

// saveHash implements authapi.Config.SaveHash.
func (d *directory) saveHash(_ context.Context, userID, hash string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.ids[userID]
	if u == nil {
		return authapi.ErrNoSuchAccount
	}
	u.hash = hash
	return nil
}

// show implements authapi.Config.ShowUser.
func (d *directory) show(_ context.Context, userID string) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.ids[userID]
	if u == nil {
		return nil, authapi.ErrNoSuchAccount
	}
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name}, nil
}
