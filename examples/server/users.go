package main

import (
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// user is a demo account. Passwords are kept only as bcrypt hashes.
type user struct {
	ID    string
	Email string
	Name  string
	hash  []byte
}

// directory is the demo user table.
type directory struct {
	byEmail map[string]*user
	ids     map[string]*user
	// dummy is the hash compared against when the email is unknown, so an
	// unknown email costs the same bcrypt work as a wrong password.
	dummy []byte
	cost  int
}

// newDirectory returns an empty directory hashing with the bcrypt cost, or
// bcrypt.DefaultCost if cost is 0.
func newDirectory(cost int) (*directory, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
	if err != nil {
		return nil, err
	}
	return &directory{byEmail: map[string]*user{}, ids: map[string]*user{}, dummy: dummy, cost: cost}, nil
}

func (d *directory) add(id, email, name, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), d.cost)
	if err != nil {
		return err
	}
	u := &user{ID: id, Email: email, Name: name, hash: hash}
	d.byEmail[strings.ToLower(email)] = u
	d.ids[id] = u
	return nil
}

func (d *directory) byID(id string) *user { return d.ids[id] }

// authenticate returns the user whose email and password match. bcrypt's
// comparison is constant-time, and it runs whether or not the email exists.
func (d *directory) authenticate(email, password string) (*user, bool) {
	if len(email) > 254 || len(password) > 72 {
		return nil, false // bcrypt ignores bytes past 72: refuse rather than truncate
	}
	u := d.byEmail[strings.ToLower(email)]
	hash := d.dummy
	if u != nil {
		hash = u.hash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil {
		return nil, false
	}
	return u, true
}
