package azsam_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFromAnotherModule builds and runs, with the go command, a program in
// a module of its own that uses samkit as a user's program would: through
// public packages only (the go command refuses an internal import across
// modules), with the fake started in-process by samtest, tokens for each
// customer through azsam, and Graph read through an azcore pipeline.
func TestFromAnotherModule(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a program with the go command; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: this test builds a program with it")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	azcore := regexp.MustCompile(`(?m)^\s*github\.com/Azure/azure-sdk-for-go/sdk/azcore (v\S+)`).FindSubmatch(gomod)
	require.NotNil(t, azcore, "samkit's go.mod requires azcore")
	main, err := os.ReadFile(filepath.Join("testdata", "outside", "main.go.txt"))
	require.NoError(t, err)

	dir := t.TempDir()
	// azcore is required at samkit's version, so that the go command finds
	// every module in the shared cache; samkit's go.sum covers them all.
	write(t, filepath.Join(dir, "go.mod"), "module example.com/outside\n\ngo 1.25.0\n\n"+
		"require (\n\tgithub.com/samkit/samkit v0.0.0\n\tgithub.com/Azure/azure-sdk-for-go/sdk/azcore "+string(azcore[1])+"\n)\n\n"+
		"replace github.com/samkit/samkit => "+root+"\n")
	write(t, filepath.Join(dir, "go.sum"), string(gosum))
	write(t, filepath.Join(dir, "main.go"), string(main))

	cmd := exec.CommandContext(t.Context(), goBin, "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go run in a module outside samkit:\n%s", out)

	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2, "one line per customer:\n%s", out)
	for _, line := range lines {
		fields := strings.Fields(line)
		require.Greater(t, len(fields), 1, "a customer with users: %q", line)
		domain, upns := fields[0], fields[1:]
		assert.Contains(t, upns, "admin@"+domain, "the customer's own admin is listed")
		for _, upn := range upns {
			assert.True(t, strings.HasSuffix(upn, "@"+domain), "%s is a user of %s, not of another tenant", upn, domain)
		}
	}
	assert.NotEqual(t, strings.Fields(lines[0])[0], strings.Fields(lines[1])[0], "two customers, each read with its own token")
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
