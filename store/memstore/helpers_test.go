package memstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/store/memstore"
)

// sweep runs s.Sweep, which fails only on a Store that New did not build.
func sweep(t testing.TB, s *memstore.Store) int {
	t.Helper()
	n, err := s.Sweep(context.Background())
	require.NoError(t, err)
	return n
}
