package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server binaries, built once per build tag and shared by the tests.
var built struct {
	mu   sync.Mutex
	dir  string
	bins map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// buildServer builds the example server with the given build tags ("" for
// the default build) and returns the executable's path. Tests that call it
// are skipped with -short.
func buildServer(t *testing.T, tags string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the server binary")
	}
	built.mu.Lock()
	if built.bins == nil {
		dir, err := os.MkdirTemp("", "sessionauth-example-server-")
		if err != nil {
			built.mu.Unlock()
			t.Fatal(err)
		}
		built.dir, built.bins = dir, map[string]*buildResult{}
	}
	b := built.bins[tags]
	if b == nil {
		b = &buildResult{path: fmt.Sprintf("%s/server-%d", built.dir, len(built.bins))}
		built.bins[tags] = b
	}
	built.mu.Unlock()

	b.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			b.err = err
			return
		}
		cmd := exec.Command(goTool, "build", "-tags", tags, "-o", b.path, ".")
		// GOFLAGS could carry -tags of its own and turn the default build
		// into a development one.
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build -tags %q: %w\n%s", tags, err, out)
		}
	})
	require.NoError(t, b.err)
	return b.path
}

func removeBuiltBinaries() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// process is the server binary running as a child process.
type process struct {
	cmd    *exec.Cmd
	url    string
	logs   *lockedBuffer
	exited chan struct{} // closed when Wait has returned
}

var listeningLine = regexp.MustCompile(`msg=listening addr=http://(\S+)`)

// startBinary starts the server executable with args on 127.0.0.1:0 and
// reads the address it listens on from its log. The process is killed when
// the test ends if it is still running.
func startBinary(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{logs: newLockedBuffer(), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait() // the exit status is read from ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	p.url = "http://" + p.logs.waitFor(t, listeningLine)[1]
	return p
}

// client returns a testServer that sends requests to the child process.
func (p *process) client(t *testing.T) *testServer {
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return &testServer{url: p.url, addr: strings.TrimPrefix(p.url, "http://"), logs: p.logs,
		client: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
}

// waitExit waits for the process to end and returns its exit code.
func (p *process) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("the server did not exit; log:\n%s", p.logs)
	}
	return p.cmd.ProcessState.ExitCode()
}

var shuttingDownLine = regexp.MustCompile(`msg="shutting down`)

// inFlightSignIn opens a connection to addr and starts a sign-in whose body
// is held back: when it returns, the handler is running and waiting for the
// body (the server has answered "100 Continue"). finish sends the body and
// returns the response.
func inFlightSignIn(t *testing.T, addr string) (finish func() *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	body := `{"email":"owner@example.com","password":"` + demoPassword + `"}`
	_, err = fmt.Fprintf(conn, "POST /auth/sign-in HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(body))
	require.NoError(t, err)
	rd := bufio.NewReader(conn)
	status, err := rd.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 100 Continue\r\n", status, "the handler reads the body")
	blank, err := rd.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "\r\n", blank)

	return func() *http.Response {
		_, err := conn.Write([]byte(body))
		require.NoError(t, err)
		resp, err := http.ReadResponse(rd, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
}

// signedIn checks that resp is a successful sign-in and returns its token.
func signedIn(t *testing.T, resp *http.Response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body signInBody
	require.NoError(t, decodeReader(resp.Body, &body))
	require.Regexp(t, tokenShape, body.Token)
	return body.Token
}

// TestShutdownFinishesInFlightRequests cancels run's context, as SIGTERM
// does, while a sign-in is being handled: the sign-in completes, run returns
// nil, and the session it created is in the SQLite file for the next start.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	storeArgs := sqliteStore(t)
	s := startServer(t, storeArgs)
	finish := inFlightSignIn(t, s.addr)

	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	s.logs.waitFor(t, shuttingDownLine)

	token := signedIn(t, finish())
	assert.NoError(t, <-stopped, "run returns nil after a graceful shutdown")
	_, err := net.Dial("tcp", s.addr)
	assert.Error(t, err, "the listener is closed")

	again := startServer(t, storeArgs)
	assert.Equal(t, http.StatusOK, again.do(t, http.MethodGet, "/projects", token, nil).status)
}

// TestBinaryServesAndShutsDownGracefully builds the server, runs it as a
// child process on a SQLite file, walks sign-in, a call and sign-out, then
// sends the signal while a sign-in is in flight: the sign-in completes, the
// process exits with status 0 having closed the store, and the session that
// sign-in created works after a restart on the same file.
func TestBinaryServesAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	bin := buildServer(t, "")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "sessions.db")
			p := startBinary(t, bin, "-db", db)
			s := p.client(t)

			token := s.signIn(t, "developer@example.com")
			keys := s.doHeaders(t, http.MethodGet, "/keys/api", nil, http.Header{
				"Authorization": {"Bearer " + token},
				"Content-Type":  {"application/json"},
			})
			require.Equal(t, http.StatusOK, keys.status, "body: %s", keys.body)
			assert.Contains(t, string(keys.body), `"apiKeys"`)
			assertForbidden(t, s.do(t, http.MethodGet, "/keys/api?projectId=proj_globex_portal", token, nil))
			assert.Equal(t, http.StatusNoContent, s.do(t, http.MethodPost, "/auth/sign-out", token, nil).status)
			assertUnauthorized(t, s.do(t, http.MethodGet, "/keys/api", token, nil))

			finish := inFlightSignIn(t, strings.TrimPrefix(p.url, "http://"))
			require.NoError(t, p.cmd.Process.Signal(sig))
			p.logs.waitFor(t, shuttingDownLine)
			late := signedIn(t, finish())

			assert.Equal(t, 0, p.waitExit(t), "exit status after %v; log:\n%s", sig, p.logs)
			assert.NoFileExists(t, db+"-wal", "closing the store checkpointed and removed the write-ahead log")
			assertNoSecret(t, p.logs.String(), token, "the log")
			assertNoSecret(t, p.logs.String(), late, "the log")

			again := startBinary(t, bin, "-db", db).client(t)
			r := again.do(t, http.MethodGet, "/projects", late, nil)
			assert.Equal(t, http.StatusOK, r.status, "the session of the last sign-in was stored; body: %s", r.body)
			assertUnauthorized(t, again.do(t, http.MethodGet, "/projects", token, nil))
		})
	}
}

// TestDevelopmentTokenOnlyInTheDevBuild builds the server with and without
// -tags sessionauth_dev: only the development build carries the token's
// bytes, says so when it starts, and accepts it as the demo owner.
func TestDevelopmentTokenOnlyInTheDevBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tags string
		dev  bool
	}{
		{"default build", "", false},
		{"sessionauth_dev build", "sessionauth_dev", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bin := buildServer(t, tt.tags)
			data, err := os.ReadFile(bin)
			require.NoError(t, err)
			require.True(t, bytes.Contains(data, []byte("outsider@example.com")), "the file is the example server")
			assert.Equal(t, tt.dev, bytes.Contains(data, []byte("test-token")), "the development token is in the binary")

			p := startBinary(t, bin, sqliteStore(t)...)
			s := p.client(t)
			projects := s.do(t, http.MethodGet, "/projects", "test-token", nil)
			if !tt.dev {
				assertUnauthorized(t, projects)
				assert.Equal(t, `Bearer error="invalid_token"`, projects.header.Get("WWW-Authenticate"))
				assert.NotContains(t, strings.ToLower(p.logs.String()), "development build")
				return
			}
			require.Equal(t, http.StatusOK, projects.status, "body: %s", projects.body)
			assert.JSONEq(t, `{"projects":[
				{"id":"proj_acme_mobile","name":"Acme Mobile","organizationId":"org_acme","role":"owner"},
				{"id":"proj_acme_web","name":"Acme Web","organizationId":"org_acme","role":"owner"}]}`, string(projects.body))
			assertForbidden(t, s.do(t, http.MethodGet, "/keys/api?projectId=proj_globex_portal", "test-token", nil))
			assert.Contains(t, p.logs.String(), "DEVELOPMENT BUILD", "a development build says so when it starts")
		})
	}
}
