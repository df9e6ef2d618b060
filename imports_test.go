package sessionauth_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// importRules is the layout of the root module as the README draws it: for
// each package (by path below the module), the non-standard packages it may
// import, by prefix. The root package and the client side stay on the
// standard library, so that a user of memstore compiles no driver and no
// third-party code; no package of this module imports a store module.
var importRules = map[string][]string{
	"":                        {"internal/rfc6750", "internal/unixnano"},
	"store/memstore":          {"", "internal/unixnano", "internal/sweeper", "internal/scsforward"},
	"store/storetest":         {"", "internal/", "sessionauthtest", "github.com/alexedwards/scs/", "github.com/stretchr/testify/", "go.uber.org/goleak"},
	"bearer":                  {"internal/rfc6750"},
	"password":                {"golang.org/x/crypto/"},
	"ratelimit":               {"internal/unixnano"},
	"ratelimit/ratelimittest": {"ratelimit", "github.com/stretchr/testify/"},
	"authapi":                 {"", "password", "ratelimit"},
	"sessionauthtest":         {"", "store/memstore", "access/memaccess", "authapi", "password", "ratelimit"},
	"internal/rfc6750":        {},
	"internal/unixnano":       {},
	"internal/testenv":        {},
	"internal/tcpproxy":       {},
	"internal/sweeper":        {},
	"internal/scsforward":     {},
	"access/memaccess":        {""},
}

const modulePath = "github.com/sessionauth/sessionauth"

// TestImportsFollowTheLayout lists every package of the root module with
// the go command and checks its imports (not its tests') against
// importRules. A package missing from the rules fails too, so that a new
// package states what it may depend on.
func TestImportsFollowTheLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Standard", "./...")
	cmd.Env = append(cmd.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("go list: %v\n%s", err, exit.Stderr)
	}
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		seen++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, modulePath), "/")
		allowed, ok := importRules[rel]
		if !ok {
			t.Errorf("package %s is not in importRules: say what it may import", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // the standard library
			}
			if !permitted(imp, allowed) {
				t.Errorf("%s imports %s, which the layout does not allow", p.ImportPath, imp)
			}
		}
	}
	require.Greater(t, seen, 5, "go list found the module's packages")
}

func permitted(imp string, allowed []string) bool {
	for _, a := range allowed {
		switch {
		case a == "":
			if imp == modulePath {
				return true
			}
		case strings.Contains(strings.SplitN(a, "/", 2)[0], "."):
			if strings.HasPrefix(imp, a) {
				return true
			}
		default:
			if imp == modulePath+"/"+a || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, modulePath+"/"+a) {
				return true
			}
		}
	}
	return false
}
