// Package password hashes passwords with argon2id and checks them against
// argon2id and bcrypt hashes, so that an application's existing bcrypt users
// move to argon2id the next time they sign in.
//
//	h, err := password.New(password.Params{})
//	hash, err := h.Hash(ctx, "correct horse battery staple") // store this
//	ok, rehash, err := h.Verify(ctx, attempt, hash)
//
// Hashes are strings in the PHC format, "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>",
// with salt and key in unpadded standard base64, which other argon2
// libraries read too.
//
// A Hasher does the sign-in's expensive work, so it also bounds it: at most
// Params.MaxConcurrent checks run at once (the others wait, or give up when
// their context ends), and the parameters read from a stored hash are
// bounded, so a hostile or corrupt hash cannot make a check allocate
// gigabytes or run for minutes. VerifyNone does the work of a wrong password
// for a name that matches no account, so that the time of an answer does not
// tell whether the account exists.
//
// That holds for accounts whose hash has the Hasher's current parameters. A
// check against an older hash (bcrypt, or argon2id with other parameters)
// takes that hash's own time until the user's next sign-in upgrades it, and
// so tells that such an account exists, until then. A sign-in handler saves
// the upgrade Verify asks for (package authapi does, through its SaveHash):
// plan the migration window, and ask long-idle users to sign in or reset.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are the argon2id parameters of new hashes and the concurrency of
// checks. The zero value of every field means its default.
//
// The defaults are the first argon2id configuration of the OWASP Password
// Storage Cheat Sheet (19 MiB, 2 passes, 1 lane): a check costs about 20 to
// 40 ms of one core (see BenchmarkVerify for this machine's figure), and the
// memory, times MaxConcurrent, stays small enough for a small server. More
// memory is the better defence against GPU guessing; raise Memory (and lower
// Time) if the machine has it, keeping Memory × MaxConcurrent within what
// the process can spare.
type Params struct {
	// Memory is the memory of one hash, in KiB. Default: 19456 (19 MiB).
	// At most MaxMemory.
	Memory uint32
	// Time is the number of passes over the memory. Default: 2. At most
	// MaxTime.
	Time uint32
	// Threads is the number of lanes (and goroutines) of one hash.
	// Default: 1, so that concurrent sign-ins, not one sign-in, use the
	// cores. At most MaxThreads.
	Threads uint8
	// KeyLen is the length of the derived key in bytes. Default: 32.
	KeyLen uint32
	// SaltLen is the length of the random salt in bytes. Default: 16.
	SaltLen uint32
	// MaxConcurrent caps how many hashes and checks run at once; the rest
	// wait their turn. It bounds both memory (MaxConcurrent × Memory) and
	// the CPU a burst of sign-ins can take from the rest of the server.
	// Default: runtime.GOMAXPROCS(0) at New.
	MaxConcurrent int
}

// Defaults of Params.
const (
	DefaultMemory  = 19 * 1024
	DefaultTime    = 2
	DefaultThreads = 1
	DefaultKeyLen  = 32
	DefaultSaltLen = 16
)

// Bounds on the parameters of a hash, those of Params and those read from a
// stored hash alike: a stored hash outside them is ErrMalformedHash, checked
// before any work is done.
const (
	MaxMemory     = 256 * 1024 // KiB: 256 MiB
	MaxTime       = 16
	MaxThreads    = 16
	MinSaltLen    = 8
	MaxSaltLen    = 64
	MinKeyLen     = 16
	MaxKeyLen     = 64
	MaxBcryptCost = 16 // about 64 times the default cost of 10
	// MaxPasswordLen bounds a password, in bytes. A longer one never
	// matches (and costs what a wrong password costs); Hash refuses it.
	MaxPasswordLen = 1024
)

var (
	// ErrMalformedHash: a stored hash is neither a well-formed argon2id
	// PHC string nor a bcrypt hash, or its parameters are out of bounds.
	ErrMalformedHash = errors.New("password: malformed or out-of-bounds hash")
	// ErrPasswordTooLong: Hash was given more than MaxPasswordLen bytes.
	ErrPasswordTooLong = errors.New("password: password too long")
)

// Hasher hashes and checks passwords with fixed parameters. It is safe for
// concurrent use.
type Hasher struct {
	p     argonParams
	sem   chan struct{}
	dummy argonHash // what VerifyNone checks against
}

// argonParams are the parameters one argon2id hash was made with.
type argonParams struct {
	memory, time uint32
	threads      uint8
	keyLen       uint32
	saltLen      uint32
}

type argonHash struct {
	argonParams
	salt, key []byte
}

// New returns a Hasher for p, or an error if a parameter is out of bounds.
// It computes one hash, the dummy that VerifyNone checks against, so it
// takes as long as one sign-in.
func New(p Params) (*Hasher, error) {
	ap := argonParams{
		memory:  orDefault(p.Memory, DefaultMemory),
		time:    orDefault(p.Time, DefaultTime),
		threads: p.Threads,
		keyLen:  orDefault(p.KeyLen, DefaultKeyLen),
		saltLen: orDefault(p.SaltLen, DefaultSaltLen),
	}
	if ap.threads == 0 {
		ap.threads = DefaultThreads
	}
	if err := ap.check(); err != nil {
		return nil, fmt.Errorf("password: Params: %w", err)
	}
	n := p.MaxConcurrent
	if n < 0 {
		return nil, errors.New("password: Params.MaxConcurrent is negative")
	}
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{p: ap, sem: make(chan struct{}, n)}
	salt := make([]byte, ap.saltLen)
	_, _ = rand.Read(salt)
	h.dummy = argonHash{argonParams: ap, salt: salt}
	h.dummy.key = derive(ap, []byte("not a password of anyone"), salt)
	return h, nil
}

func orDefault(v, d uint32) uint32 {
	if v == 0 {
		return d
	}
	return v
}

// check reports parameters out of bounds.
func (p argonParams) check() error {
	switch {
	case p.memory > MaxMemory || p.memory < 8*uint32(p.threads):
		return fmt.Errorf("memory %d KiB outside 8×threads..%d", p.memory, MaxMemory)
	case p.time < 1 || p.time > MaxTime:
		return fmt.Errorf("time %d outside 1..%d", p.time, MaxTime)
	case p.threads < 1 || p.threads > MaxThreads:
		return fmt.Errorf("threads %d outside 1..%d", p.threads, MaxThreads)
	case p.keyLen < MinKeyLen || p.keyLen > MaxKeyLen:
		return fmt.Errorf("key length %d outside %d..%d", p.keyLen, MinKeyLen, MaxKeyLen)
	case p.saltLen < MinSaltLen || p.saltLen > MaxSaltLen:
		return fmt.Errorf("salt length %d outside %d..%d", p.saltLen, MinSaltLen, MaxSaltLen)
	}
	return nil
}

func derive(p argonParams, password, salt []byte) []byte {
	return argon2.IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen)
}

// acquire takes a place among the checks allowed to run, or returns ctx's
// error if ctx ends first.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a free hash slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the argon2id hash of password with a fresh random salt, in
// PHC format. It waits for a free slot (see Params.MaxConcurrent) and returns
// ctx's error if ctx ends first, or ErrPasswordTooLong.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argonHash{argonParams: h.p, salt: salt, key: derive(h.p, []byte(password), salt)}.String(), nil
}

// Verify reports whether password matches hash, an argon2id hash in PHC
// format or a bcrypt hash ($2a$, $2b$, $2y$). rehash is true when the
// password matched but the hash should be replaced with a new Hash of it:
// it is bcrypt, or argon2id with other parameters than the Hasher's.
//
// The comparison takes constant time. A hash that cannot be parsed, or whose
// parameters are out of bounds, is ErrMalformedHash after the work of a
// wrong password. Verify waits for a free slot and returns ctx's error if ctx
// ends first.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	pw := []byte(password)
	tooLong := len(pw) > MaxPasswordLen
	if tooLong {
		pw = pw[:MaxPasswordLen]
	}
	if strings.HasPrefix(hash, "$2") {
		ok, err := verifyBcrypt(pw, hash)
		if err != nil {
			h.checkDummy(pw)
			return false, false, err
		}
		return ok && !tooLong, ok && !tooLong, nil
	}
	a, err := parseArgon(hash)
	if err != nil {
		h.checkDummy(pw)
		return false, false, err
	}
	match := subtle.ConstantTimeCompare(derive(a.argonParams, pw, a.salt), a.key) == 1 && !tooLong
	return match, match && a.argonParams != h.p, nil
}

// VerifyNone does the work of a wrong password, against a hash of the
// Hasher's own parameters, and reports nothing: call it when the sign-in
// name matches no account, so that the answer takes as long as for a wrong
// password. Like Verify, it waits for a free slot and returns ctx's error if
// ctx ends first.
func (h *Hasher) VerifyNone(ctx context.Context, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	pw := []byte(password)
	if len(pw) > MaxPasswordLen {
		pw = pw[:MaxPasswordLen]
	}
	h.checkDummy(pw)
	return nil
}

func (h *Hasher) checkDummy(pw []byte) {
	subtle.ConstantTimeCompare(derive(h.dummy.argonParams, pw, h.dummy.salt), h.dummy.key)
}

// verifyBcrypt checks pw against a bcrypt hash whose cost is at most
// MaxBcryptCost. bcrypt reads only 72 bytes of a password, so a longer one
// is checked (for the same work) and refused rather than truncated.
func verifyBcrypt(pw []byte, hash string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || cost > MaxBcryptCost {
		return false, ErrMalformedHash
	}
	long := len(pw) > 72
	if long {
		pw = pw[:72]
	}
	err = bcrypt.CompareHashAndPassword([]byte(hash), pw)
	switch {
	case err == nil:
		return !long, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, ErrMalformedHash
}

var b64 = base64.RawStdEncoding.Strict()

// String returns a in PHC format.
func (a argonHash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, a.memory, a.time, a.threads, b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

// parseArgon reads a PHC argon2id string strictly: fields in this order,
// decimal numbers without sign or leading zeros, canonical unpadded base64,
// every parameter within bounds before anything is allocated for it.
func parseArgon(s string) (argonHash, error) {
	var a argonHash
	if len(s) > 256 {
		return a, ErrMalformedHash
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return a, ErrMalformedHash
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return a, ErrMalformedHash
	}
	m, ok1 := param(ps[0], "m=")
	t, ok2 := param(ps[1], "t=")
	p, ok3 := param(ps[2], "p=")
	if !ok1 || !ok2 || !ok3 || p > MaxThreads {
		return a, ErrMalformedHash
	}
	a.memory, a.time, a.threads = m, t, uint8(p)
	a.saltLen = uint32(b64.DecodedLen(len(f[4])))
	a.keyLen = uint32(b64.DecodedLen(len(f[5])))
	if a.argonParams.check() != nil {
		return a, ErrMalformedHash
	}
	var err1, err2 error
	a.salt, err1 = b64.DecodeString(f[4])
	a.key, err2 = b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || uint32(len(a.salt)) != a.saltLen || uint32(len(a.key)) != a.keyLen {
		return a, ErrMalformedHash
	}
	return a, nil
}

// param reads "name=<decimal>" with at most 9 digits and no leading zero.
func param(s, name string) (uint32, bool) {
	d, ok := strings.CutPrefix(s, name)
	if !ok || d == "" || len(d) > 9 || (d[0] == '0' && len(d) > 1) {
		return 0, false
	}
	n := uint32(0)
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		n = n*10 + uint32(d[i]-'0')
	}
	return n, true
}
