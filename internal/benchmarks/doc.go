// Package benchmarks holds the request benchmarks of sessionauth: one
// authenticated GET through the real middleware on every store that runs in
// the process, against a bare handler and against scs, in one benchmark
// function so that a single run measures them all on the same machine state.
// See BENCHMARKS.md at the repository root for how to run them and for the
// figures. The package has no code of its own.
package benchmarks
