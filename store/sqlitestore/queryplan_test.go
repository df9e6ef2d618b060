package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueriesUseIndexes checks the plan of every statement that picks rows:
// each searches a B-tree instead of scanning the table, which is what keeps a
// lookup in a million-session database as fast as in a small one.
func TestQueriesUseIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sessions.db"), Config{SweepInterval: -1})
	require.NoError(t, err)
	defer s.Close()

	tests := []struct {
		name  string
		query string
		args  []any
		uses  string // in the plan's detail
	}{
		{"Get", qGet, []any{"k"}, "USING PRIMARY KEY (key=?)"},
		{"Update", qUpdate, []any{"k", []byte("v"), 0, 0}, "USING PRIMARY KEY (key=?)"},
		{"Touch", qTouch, []any{0, "k", 0}, "USING PRIMARY KEY (key=?)"},
		{"Rename", qRename, []any{"k", "n", 0}, "USING PRIMARY KEY (key=?)"},
		{"Delete", qDelete, []any{"k"}, "USING PRIMARY KEY (key=?)"},
		{"ListUser", qListUser, []any{"u", 0}, "USING INDEX sessionauth_sessions_user (user_id=? AND expiry>?)"},
		{"DeleteUser", qDeleteUser, []any{"u", "k"}, "sessionauth_sessions_user (user_id=?)"},
		{"All", qAll, []any{0}, "USING INDEX sessionauth_sessions_expiry (expiry>?)"},
		{"Sweep", qSweep, []any{0, 10}, "USING COVERING INDEX sessionauth_sessions_expiry (expiry<?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			require.NoError(t, err)
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
				plan = append(plan, detail)
			}
			require.NoError(t, rows.Err())
			joined := strings.Join(plan, "\n")
			assert.NotContains(t, joined, "SCAN sessionauth_sessions", "a full table scan")
			assert.Contains(t, joined, tt.uses)
		})
	}
}
