package sessionauth_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDevTokenIsInTheBinaryOnlyWithTheDevTag builds a program that uses the
// package and configures a DevPrincipal, once per build, and looks for the
// development token in the executable: the default build must not carry it,
// so no configuration of a production binary can make it accept the token.
func TestDevTokenIsInTheBinaryOnlyWithTheDevTag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	tests := []struct {
		name      string
		flags     []string
		wantToken bool
		marker    string // a string of that build's dev-mode code, so the check is not vacuous
	}{
		{"default build", nil, false, "Config.DevPrincipal is ignored"},
		{"sessionauth_dev build", []string{"-tags", "sessionauth_dev"}, true, "DEVELOPMENT BUILD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "devserver")
			args := append(append([]string{"build", "-o", bin}, tt.flags...), "./testdata/devserver")
			out, err := exec.Command(goTool, args...).CombinedOutput()
			require.NoError(t, err, "go build: %s", out)
			data, err := os.ReadFile(bin)
			require.NoError(t, err)

			require.True(t, bytes.Contains(data, []byte(tt.marker)), "the binary holds the dev-mode code of its build")
			assert.Equal(t, tt.wantToken, bytes.Contains(data, []byte("test-token")), "the token is in the binary")
		})
	}
}
