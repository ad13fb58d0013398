package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
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

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestNetworkProblems: the failures below HTTP each get a line naming the
// service and its host, and a fix.
func TestNetworkProblems(t *testing.T) {
	t.Parallel()
	sandbox, err := sandboxCloud("https://127.0.0.1:8443")
	require.NoError(t, err)
	at := func(u string, e error) error {
		return fmt.Errorf("graph: GET /users: getting a token: %w", &url.Error{Op: "Post", URL: u, Err: e})
	}
	login := "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token?x=secret"
	for _, tc := range []struct {
		name      string
		err       error
		cloud     cloud.Configuration
		what, fix string
	}{
		{"dns", at(login, &net.OpError{Op: "dial", Err: &net.DNSError{Name: "login.microsoftonline.com", Err: "no such host", IsNotFound: true}}),
			cloud.Public, "the sign-in service (Entra ID): the name login.microsoftonline.com does not resolve", "DNS"},
		{"refused", at("https://127.0.0.1:8443/graph/v1.0/users", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			sandbox, "cannot reach Microsoft Graph: connection to https://127.0.0.1:8443 refused", "nothing listens"},
		{"untrusted", at("https://graph.microsoft.com/v1.0/users", x509.UnknownAuthorityError{}),
			cloud.Public, "Microsoft Graph: the TLS certificate of https://graph.microsoft.com is not trusted (signed by an unknown authority)", "root certificate"},
		{"not tls", at("https://127.0.0.1:8443/partner/v1/customers", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}),
			sandbox, "cannot reach Partner Center: https://127.0.0.1:8443 does not speak TLS", "scheme"},
		{"timeout", at("https://outlook.office365.com/adminapi/beta/x/InvokeCommand", &net.OpError{Op: "read", Err: timeoutErr{}}),
			cloud.Configuration{}, "Exchange Online at https://outlook.office365.com did not answer in time", "--timeout"},
		{"attempt bound", fmt.Errorf("graph: GET /users: %w", &httpx.TimeoutError{Host: "graph.microsoft.com", Wait: 32 * time.Second}),
			cloud.Public, "Microsoft Graph: no response from graph.microsoft.com within 32s", "network path to graph.microsoft.com"},
		{"redirect", at("https://graph.microsoft.com/v1.0/users", &httpx.RedirectError{StatusCode: 307, Location: "https://evil.example"}),
			cloud.Public, "Microsoft Graph: the service answered 307, a redirect to https://evil.example", "proxy"},
		{"sign-in in a sandbox", at("https://127.0.0.1:8443/contoso.com/oauth2/v2.0/token", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			sandbox, "cannot reach the sign-in service (Entra ID)", "nothing listens"},
	} {
		p := problemOf(tc.err, tc.cloud, 0)
		assert.Contains(t, p.what, tc.what, tc.name)
		assert.Contains(t, p.fix, tc.fix, tc.name)
		assert.NotContains(t, p.what+p.fix, "secret", "%s: a query never shows", tc.name)
	}
}

// TestSignInUnreachable: setup and rotate-secret sign in through MSAL,
// which keeps only the text of a network error; they tell it as briefly
// as the other commands.
func TestSignInUnreachable(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 2, Healthy: true}, nil)
	s.Close()
	for _, cmd := range [][]string{{"setup"}, {"rotate-secret"}} {
		code, _, stderr := samctl(t, append(cmd, flags...)...)
		assert.Equal(t, exitFailed, code, "%v", cmd)
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		assert.LessOrEqual(t, len(lines), 3, "%v:\n%s", cmd, stderr)
		assert.Contains(t, lines[0], "cannot reach the sign-in service (Entra ID): connection to https://127.0.0.1:", "%v", cmd)
		assert.Contains(t, stderr, "\n  fix: ", "%v", cmd)
		assert.NotContains(t, stderr, "unable to resolve an endpoint", "%v: MSAL's layers are not told", cmd)
	}
}

func TestRetyped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, what string }{
		{`unable to resolve an endpoint: Get "https://login.example.com/x": dial tcp 1.2.3.4:443: connect: connection refused`, "connection to https://login.example.com refused"},
		{`Get "https://login.example.com/x": dial tcp: lookup login.example.com: no such host`, "the name login.example.com does not resolve"},
		{`Get "https://login.example.com/x": tls: failed to verify certificate: x509: certificate signed by unknown authority`, "not trusted (signed by an unknown authority)"},
		{`Get "https://login.example.com/x": net/http: request canceled (Client.Timeout exceeded while awaiting headers)`, "did not answer in time"},
	} {
		p := problemOf(errors.New(tc.text), cloud.Configuration{}, 0)
		assert.Contains(t, p.what, tc.what, tc.text)
		assert.NotEmpty(t, p.fix, tc.text)
	}
	assert.Nil(t, retyped(errors.New("something else")))
}
