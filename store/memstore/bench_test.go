package memstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/sessionauth"
	"github.com/sessionauth/sessionauth/store/memstore"
)

// benchPopulation is a store filled with n sessions made by a Manager, their
// tokens, and what they cost in memory.
type benchPopulation struct {
	store  *memstore.Store
	tokens [][sessionauth.TokenLength]byte
	// stored is the heap growth per session once created, loaded once
	// every session has also been authenticated (LoadSession keeps the
	// decoded session of a session in use), swept once a sweep has run
	// since (it drops the decoded sessions).
	stored, loaded, swept float64
	// record is the size of one encoded record, part of both.
	record float64
}

// benchPopulations caches populations for the life of the test process: a
// million sessions take seconds to create, and a benchmark function may run
// more than once (-count).
var benchPopulations struct {
	sync.Mutex
	m map[int]*benchPopulation
}

// discardLogger discards the audit events of the Managers here: logging a
// million session creations is not what these benchmarks measure.
var discardLogger = slog.New(slog.DiscardHandler)

// population returns a store of n sessions of n/4 users, each created with
// the metadata of a command-line client, as the request benchmarks use.
func population(b *testing.B, n int) *benchPopulation {
	// Building a million sessions takes seconds, too long for the
	// one-iteration run that checks the benchmarks still work.
	if testing.Short() && n > 1000 {
		b.Skipf("%d sessions: skipped with -short", n)
	}
	benchPopulations.Lock()
	defer benchPopulations.Unlock()
	if p, ok := benchPopulations.m[n]; ok {
		return p
	}
	if benchPopulations.m == nil {
		benchPopulations.m = make(map[int]*benchPopulation)
	}
	// Allocated before the first measurement: the tokens are the
	// benchmark's, not the store's.
	p := &benchPopulation{tokens: make([][sessionauth.TokenLength]byte, n)}
	ctx := context.Background()
	md := sessionauth.Metadata{IP: "192.0.2.10", UserAgent: "curl/8.5.0"}

	before := heapAlloc()
	p.store = memstore.New(memstore.Config{SweepInterval: -1})
	m, err := sessionauth.New(sessionauth.Config{Store: p.store, Logger: discardLogger})
	if err != nil {
		b.Fatal(err)
	}
	users := max(1, n/4)
	for i := range n {
		token, _, err := m.Create(ctx, "user-"+strconv.Itoa(i%users), md)
		if err != nil {
			b.Fatal(err)
		}
		copy(p.tokens[i][:], token)
	}
	p.stored = float64(heapAlloc()-before) / float64(n)
	now := time.Now()
	for i := range p.tokens {
		if s, err := p.store.LoadSession(ctx, sha256.Sum256(p.tokens[i][:]), now); s == nil || err != nil {
			b.Fatalf("LoadSession: %v, %v", s, err)
		}
	}
	p.loaded = float64(heapAlloc()-before) / float64(n)
	_, _ = p.store.Sweep(context.Background())
	p.swept = float64(heapAlloc()-before) / float64(n)
	for i := range p.tokens { // in use again, as the benchmarks find them
		if s, err := p.store.LoadSession(ctx, sha256.Sum256(p.tokens[i][:]), now); s == nil || err != nil {
			b.Fatalf("LoadSession: %v, %v", s, err)
		}
	}

	// Every session has the same metadata and a user ID of about the same
	// length: one record stands for all.
	h := sha256.Sum256(p.tokens[0][:])
	data, _, found, err := p.store.Get(ctx, hex.EncodeToString(h[:]))
	if err != nil || !found {
		b.Fatalf("Get: %v, %v", found, err)
	}
	p.record = float64(len(data))
	benchPopulations.m[n] = p
	return p
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchSizes are the store sizes of BenchmarkLookup.
var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"1M", 1_000_000}}

// sample returns 64k tokens of p's sessions at random, as a server's
// traffic asks for them: at a million sessions, far more than the CPU
// caches hold.
func (p *benchPopulation) sample() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := make([]string, 1<<16)
	for i := range tokens {
		tokens[i] = string(p.tokens[rng.IntN(len(p.tokens))][:])
	}
	return tokens
}

// BenchmarkLookup finds random sessions in stores of 1,000 and 1,000,000
// sessions, and reports what a session costs in memory: bytes/session once
// created, bytes/session-loaded once also authenticated, bytes/session-swept
// once a sweep has run after that, and record-bytes, the encoded record
// included in all three.
//
//   - store-1k, store-1M: LoadSession alone, given the SHA-256 of a token:
//     the store's part of a request.
//   - gomap-1k, gomap-1M: the reference, a plain map[[32]byte]*T of as many
//     entries, reading one field of the value: how much slower a lookup
//     among a million is than among a thousand on this machine whatever the
//     store, since a thousand fit in the CPU caches and a million do not.
//   - memread-1k, memread-1M: the reference for a single memory access, one
//     read at a random place in 256 bytes per session, whose address depends
//     on the previous read: what one cache miss costs at each size.
//   - authenticate-1k, authenticate-1M: Manager.Authenticate of a token:
//     the shape check, SHA-256, clock and LoadSession a request pays.
func BenchmarkLookup(b *testing.B) {
	for _, size := range benchSizes {
		b.Run("store-"+size.name, func(b *testing.B) {
			p := population(b, size.n)
			tokens := p.sample()
			hashes := make([][32]byte, len(tokens))
			for i, t := range tokens {
				hashes[i] = sha256.Sum256([]byte(t))
			}
			ctx := context.Background()
			now := time.Now()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s, err := p.store.LoadSession(ctx, hashes[i%len(hashes)], now)
				if s == nil || err != nil {
					b.Fatalf("LoadSession: %v, %v", s, err)
				}
				i++
			}
			p.report(b)
		})
	}
	for _, size := range benchSizes {
		b.Run("gomap-"+size.name, func(b *testing.B) {
			p := population(b, size.n)
			m := p.goMap(size.n)
			tokens := p.sample()
			hashes := make([][32]byte, len(tokens))
			for i, t := range tokens {
				hashes[i] = sha256.Sum256([]byte(t))
			}
			now := time.Now()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if v := m[hashes[i%len(hashes)]]; v == nil || !now.Before(v.ExpiresAt) {
					b.Fatal("missing")
				}
				i++
			}
		})
	}
	for _, size := range benchSizes {
		b.Run("memread-"+size.name, func(b *testing.B) {
			if testing.Short() && size.n > 1000 {
				b.Skipf("%d sessions: skipped with -short", size.n)
			}
			next := randomCycle(size.n * 64) // 256 bytes per session
			j := uint32(0)
			for b.Loop() {
				j = next[j]
			}
			memreadSink = j // keeps the loop from being optimised away
		})
	}
	for _, size := range benchSizes {
		b.Run("authenticate-"+size.name, func(b *testing.B) {
			p := population(b, size.n)
			tokens := p.sample()
			// An idle timeout far shorter than the sessions' own keeps
			// the Manager from touching them, however long the run.
			m, err := sessionauth.New(sessionauth.Config{
				Store: p.store, Logger: discardLogger, IdleTimeout: 2 * time.Minute, TouchInterval: time.Minute,
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := m.Authenticate(ctx, tokens[i%len(tokens)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			p.report(b)
		})
	}
}

var memreadSink uint32

// randomCycle returns next such that following i = next[i] from 0 visits
// all n indexes once, in random order (Sattolo's algorithm): every step of
// memread is one read whose address depends on the previous one.
func randomCycle(n int) []uint32 {
	next := make([]uint32, n)
	for i := range next {
		next[i] = uint32(i)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := n - 1; i > 0; i-- {
		j := rng.IntN(i)
		next[i], next[j] = next[j], next[i]
	}
	return next
}

// goMapSession stands for what a lookup reads: a pointer to a value of a
// session's size, of which the caller reads one field.
type goMapSession struct {
	sessionauth.Session
}

// goMaps caches the reference maps of BenchmarkLookup, by size.
var goMaps struct {
	sync.Mutex
	m map[int]map[[32]byte]*goMapSession
}

// goMap returns a plain Go map from the SHA-256 of p's tokens to values of a
// session's size: the floor a lookup among n sessions can reach in this
// language on this machine.
func (p *benchPopulation) goMap(n int) map[[32]byte]*goMapSession {
	goMaps.Lock()
	defer goMaps.Unlock()
	if m, ok := goMaps.m[n]; ok {
		return m
	}
	m := make(map[[32]byte]*goMapSession, n)
	for i := range p.tokens {
		m[sha256.Sum256(p.tokens[i][:])] = &goMapSession{sessionauth.Session{ExpiresAt: time.Now().Add(time.Hour)}}
	}
	if goMaps.m == nil {
		goMaps.m = make(map[int]map[[32]byte]*goMapSession)
	}
	goMaps.m[n] = m
	return m
}

func (p *benchPopulation) report(b *testing.B) {
	b.ReportMetric(p.stored, "bytes/session")
	b.ReportMetric(p.loaded, "bytes/session-loaded")
	b.ReportMetric(p.swept, "bytes/session-swept")
	b.ReportMetric(p.record, "record-bytes")
}
