package main

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ with what the tests print")

// golden compares got with testdata/name.golden, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run go test -run %s -update", t.Name())
	assert.Equal(t, string(want), got, "output differs from %s (go test -update rewrites it)", path)
}

var (
	guidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// stable replaces what changes from run to run (tenant ids, ports).
func stable(s string) string {
	return portRE.ReplaceAllString(guidRE.ReplaceAllString(s, "<id>"), "127.0.0.1:<port>")
}

// sandboxFiles serves a sandbox and writes its certificate and
// credentials, which edit may spoil first. It returns the flags that
// point samctl at it.
func sandboxFiles(t *testing.T, spec testserver.SandboxSpec, edit func(*testserver.SandboxInfo), opts ...testserver.Option) (*testserver.Server, []string) {
	t.Helper()
	spec.App = true
	s, info := testserver.NewSandbox(spec, opts...)
	t.Cleanup(s.Close)
	if edit != nil {
		edit(&info)
	}
	ca := writeCA(t, s)
	_, creds, cleanup, err := writeSandboxFiles(t.Context(), s, info, ca)
	t.Cleanup(cleanup)
	require.NoError(t, err)
	return s, []string{"--sandbox", s.URL(), "--sandbox-ca", ca, "--credentials", creds}
}

// TestRunFailuresAreShort: a failure that makes the whole run impossible
// is told once, in at most three lines of at most 160 characters, with
// what to do, whichever command meets it. Golden files hold the words.
func TestRunFailuresAreShort(t *testing.T) {
	isolate(t)
	cases := []struct {
		name  string
		setup func(t *testing.T) []string
		want  string // words the first line must hold
	}{
		{"wrong-secret", func(t *testing.T) []string {
			_, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true},
				func(i *testserver.SandboxInfo) { i.App.Secret = "not-the-secret-value" })
			return flags
		}, "AADSTS7000215"},
		{"garbled-refresh-token", func(t *testing.T) []string {
			_, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true},
				func(i *testserver.SandboxInfo) { i.RefreshToken = "garbled" + i.RefreshToken[len(i.RefreshToken)/2:] })
			return flags
		}, "AADSTS9002313"},
		{"connection-refused", func(t *testing.T) []string {
			s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true}, nil)
			s.Close()
			return flags
		}, "refused"},
		{"hung-sign-in", func(t *testing.T) []string {
			s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true}, nil)
			s.Inject(testserver.Fault{Kind: testserver.Hang, Service: "login"})
			return append(flags, "--timeout", "300ms")
		}, "sign-in service (Entra ID) did not answer within --timeout 300ms"},
		{"hung-graph", func(t *testing.T) []string {
			s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true}, nil)
			// Partner Center answers; Graph's tenant sources never do.
			s.Inject(testserver.Fault{Kind: testserver.Hang, Service: "graph"})
			return append(flags, "--timeout", "300ms")
		}, "did not answer within --timeout 300ms"},
		{"restarted-sandbox", func(t *testing.T) []string {
			s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true}, nil)
			addr := strings.TrimPrefix(s.URL(), "https://")
			s.Close()
			ln, err := net.Listen("tcp", addr)
			require.NoError(t, err, "listening again on the sandbox's port")
			again, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 3, Healthy: true, App: true}, testserver.WithListener(ln))
			t.Cleanup(again.Close)
			flags[3] = writeCA(t, again) // --sandbox-ca: the new sandbox's certificate
			return flags
		}, "AADSTS90002"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flags := tc.setup(t)
			for _, cmd := range [][]string{{"check"}, {"tenants"}, {"inspect"}} {
				code, stdout, stderr := samctl(t, append(cmd, flags...)...)
				assert.Equal(t, exitFailed, code, "%v: exit code", cmd)
				assert.Empty(t, stdout, "%v: a run that could not start prints no report", cmd)
				lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
				assert.LessOrEqual(t, len(lines), 3, "%v: at most 3 lines:\n%s", cmd, stderr)
				for _, l := range lines {
					assert.LessOrEqual(t, utf8.RuneCountInString(l), maxLineWidth, "%v: line too long: %q", cmd, l)
				}
				assert.Contains(t, lines[0], tc.want, "%v: first line", cmd)
				assert.Contains(t, stderr, "\n  fix: ", "%v: no fix:\n%s", cmd, stderr)
				assert.NotContains(t, stderr, "getting a token", "%v: the layers the error crossed are not told", cmd)
				if cmd[0] == "check" {
					golden(t, "errors/"+tc.name, stable(stderr))
				}
			}
		})
	}
}
