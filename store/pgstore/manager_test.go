package pgstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionauth/sessionauth/internal/tcpproxy"
	"github.com/sessionauth/sessionauth/store/pgstore"
	"github.com/sessionauth/sessionauth/store/storetest"
)

// TestDatabaseOutageIs503AndRecoversWithoutRestart runs the store through a
// TCP proxy that the test cuts: the database goes away without stopping the
// server that other tests share.
func TestDatabaseOutageIs503AndRecoversWithoutRestart(t *testing.T) {
	t.Parallel()
	direct := newPool(t, "", 0)
	p := tcpproxy.New(t, direct.Config().ConnConfig.Host+":"+strconv.Itoa(int(direct.Config().ConnConfig.Port)))
	store, err := pgstore.New(context.Background(), newPool(t, p.Addr(), 0), pgstore.Config{Table: uniqueTable(t, direct)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	storetest.RunOutage(t, store, p.Cut, p.Restore)
}
