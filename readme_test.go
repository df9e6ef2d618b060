package sessionauth_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestREADMEGoSnippetsAreCompiled holds the README and the package
// documentation to their code: every Go block in them stands, line for line
// (indentation aside), in a _test.go file of the repository, where it
// compiles and runs as an Example or a test. A snippet edited in the docs
// alone, and so no longer checked by the compiler, fails here.
func TestREADMEGoSnippetsAreCompiled(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var sources [][]string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources = append(sources, trimmedLines(string(b)))
		}
		return nil
	})
	require.NoError(t, err)

	var blocks []string
	for _, b := range goBlock.FindAllStringSubmatch(string(readme), -1) {
		blocks = append(blocks, b[1])
	}
	require.NotEmpty(t, blocks)
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	blocks = append(blocks, docCode(string(doc))...)
	for _, b := range blocks {
		snippet := trimmedLines(b)
		found := false
		for _, src := range sources {
			if containsRun(src, snippet) {
				found = true
				break
			}
		}
		assert.True(t, found, "snippet of README.md or doc.go not found in any _test.go file:\n%s", b)
	}
}

func trimmedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// containsRun reports whether run stands in lines as consecutive lines.
func containsRun(lines, run []string) bool {
	for i := 0; i+len(run) <= len(lines); i++ {
		match := true
		for j := range run {
			if lines[i+j] != run[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// docCode returns the Go code blocks of a doc comment: runs of indented
// comment lines (blank comment lines inside a run belong to it), but not the
// tables of responses, whose lines start with a status code.
func docCode(src string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 && !regexp.MustCompile(`^[0-9]`).MatchString(cur[0]) {
			blocks = append(blocks, strings.Join(cur, "\n"))
		}
		cur = nil
	}
	for _, l := range strings.Split(src, "\n") {
		switch {
		case strings.HasPrefix(l, "//\t"):
			cur = append(cur, strings.TrimPrefix(l, "//\t"))
		case l == "//" && len(cur) > 0:
			cur = append(cur, "")
		default:
			flush()
		}
	}
	flush()
	return blocks
}
