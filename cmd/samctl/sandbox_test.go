package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

// `samctl sandbox --help` lists every rehearsal; an unknown one is a
// usage error naming the choices.
func TestSandboxRehearsalFlags(t *testing.T) {
	isolate(t)
	code, stdout, _ := samctl(t, "sandbox", "--help")
	require.Equal(t, exitOK, code)
	for _, r := range testserver.RehearsalCatalog() {
		assert.Contains(t, stdout, string(r.Name))
		assert.Contains(t, stdout, r.Change)
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, r := range testserver.RehearsalCatalog() {
		assert.Contains(t, string(readme), "| `"+string(r.Name)+"` |", "the README's table of rehearsals lists it")
	}
	code, _, stderr := samctl(t, "sandbox", "--rehearse", "meteor-strike")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "partner-center-mfa", "the error lists the rehearsals")
}

// A sandbox started with --rehearse stages it from the start, samctl
// check meets it with a fix, and the admin endpoint stages more while it
// runs.
func TestSandboxRehearse(t *testing.T) {
	isolate(t)
	info, stop := startSandbox(t, "--customers", "6", "--healthy", "--rehearse", "partner-center-mfa")
	defer stop()
	assert.Equal(t, []string{"partner-center-mfa"}, info.Rehearsing)

	code, stdout, stderr := samctl(t, "check", "--sandbox", info.URL, "--credentials", info.CredentialsFile, "--checks", "partner-center")
	assert.Equal(t, exitFailed, code, "stderr %q", stderr)
	assert.Contains(t, stdout, "900421")
	assert.Contains(t, stdout, "MFA")

	// The admin endpoint, reached as any tool would, with the CA file.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: caConfig(t, info.CAFile)}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, info.Rehearsals+"/refresh-token-revoked", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// Every run now fails at once: listing the tenants needs the revoked
	// refresh token too.
	code, stdout, stderr = samctl(t, "check", "--sandbox", info.URL, "--credentials", info.CredentialsFile, "--checks", "delegated-graph")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout+stderr, "AADSTS50173")
	assert.Contains(t, stdout+stderr, "samctl setup")
}

// startSandbox runs `samctl sandbox --json` with args until stop, which
// returns its exit code, and returns what it printed.
func startSandbox(t *testing.T, args ...string) (sandboxJSON, func() int) {
	t.Helper()
	out, stop := runSandbox(t, append([]string{"--json"}, args...)...)
	var info sandboxJSON
	if err := json.NewDecoder(out).Decode(&info); err != nil {
		_, stderr := stop()
		t.Fatalf("sandbox --json: %v (stderr %q)", err, stderr)
	}
	go io.Copy(io.Discard, out)
	return info, func() int {
		code, _ := stop()
		return code
	}
}

// runSandbox runs `samctl sandbox` with args until stop, which returns its
// exit code and stderr, and returns its output to read as it is printed.
func runSandbox(t *testing.T, args ...string) (io.Reader, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"sandbox"}, args...), strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	return pr, func() (int, string) {
		cancel()
		// What is left unread must not hold the sandbox up as it stops.
		go io.Copy(io.Discard, pr)
		code := <-done
		return code, errOut.String()
	}
}

// caConfig trusts the certificate in the PEM file path.
func caConfig(t *testing.T, path string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(path)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// `samctl sandbox --state DIR` keeps its world across restarts: the same
// partner, app and credentials work after it.
func TestSandboxState(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "world")
	first, stop := startSandbox(t, "--state", dir, "--customers", "6", "--healthy", "--rehearse", "invokecommand-off")
	assert.False(t, first.Restored)
	code, _, stderr := samctl(t, "check", "--sandbox", first.URL, "--credentials", first.CredentialsFile, "--checks", "delegated-graph")
	require.Equal(t, exitOK, code, "stderr %q", stderr)
	require.Equal(t, exitOK, stop())
	fi, err := os.Stat(filepath.Join(dir, "world.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the state holds the fake's secrets")

	second, stop := startSandbox(t, "--state", dir)
	assert.True(t, second.Restored)
	assert.Equal(t, first.PartnerTenantID, second.PartnerTenantID)
	assert.Equal(t, first.ApplicationID, second.ApplicationID)
	assert.Equal(t, first.Customers, second.Customers)
	assert.Equal(t, []string{"invokecommand-off"}, second.Rehearsing, "rehearsals are kept")
	code, _, stderr = samctl(t, "check", "--sandbox", second.URL, "--credentials", second.CredentialsFile, "--checks", "delegated-graph")
	assert.Equal(t, exitOK, code, "the credentials of the first run work in the second: stderr %q", stderr)
	require.Equal(t, exitOK, stop())

	// --customers shapes a new world only: the saved one comes back as it
	// was, and the person who asked for another is told so.
	out, stopThird := runSandbox(t, "--json", "--state", dir, "--customers", "25")
	var third sandboxJSON
	require.NoError(t, json.NewDecoder(out).Decode(&third))
	code, stderr = stopThird()
	require.Equal(t, exitOK, code)
	assert.True(t, third.Restored)
	assert.Equal(t, first.Customers, third.Customers)
	assert.Contains(t, stderr, "warning: --customers and --healthy shape a new world only: "+dir+" holds a saved one, restored as it was with 6 customers")
}

// `samctl sandbox --customers N` serves exactly N customers, the broken
// ones among them, and its summary and --json say the same number. Fewer
// than the broken ones is refused unless --healthy asks for healthy ones;
// 0 is a partner with no customer yet.
func TestSandboxCustomers(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args          []string
		total, broken int
	}{
		{[]string{"--customers", "0"}, 0, 0},
		{[]string{"--customers", "1", "--healthy"}, 1, 0},
		{[]string{"--customers", "5", "--healthy"}, 5, 0},
		{[]string{"--customers", "6"}, 6, 6},
		{[]string{"--customers", "7"}, 7, 6},
		{[]string{"--customers", "25"}, 25, 6},
		{nil, testserver.DefaultSandboxCustomers, 6},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			info, stop := startSandbox(t, tc.args...)
			broken := 0
			for _, c := range info.Customers {
				if c.Problem != "" {
					broken++
				}
			}
			assert.Len(t, info.Customers, tc.total, "--json lists exactly the customers asked for")
			assert.Equal(t, tc.broken, broken, "--json: the broken customers among them")
			require.Equal(t, exitOK, stop())

			// Only the customers' line is compared: the summary also prints
			// the sandbox's credentials.
			m := regexp.MustCompile(`(?m)^  customers\s+(\d+)\s+(.*)$`).FindStringSubmatch(sandboxText(t, tc.args...))
			require.Len(t, m, 3, "the summary has a customers line")
			assert.Equal(t, strconv.Itoa(tc.total), m[1], "the summary counts what --json lists")
			want := "none with a problem"
			if tc.broken > 0 {
				want = fmt.Sprintf("%d with a problem on purpose:", tc.broken)
			}
			assert.Equal(t, want, m[2])
		})
	}
}

// Numbers of customers the sandbox cannot serve exactly are usage errors
// that say what to ask for instead.
func TestSandboxCustomersRefused(t *testing.T) {
	isolate(t)
	// A stopped context: a sandbox the flags wrongly let through ends at
	// once instead of serving until the test times out.
	stopped, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--customers", "-1"}, []string{"--customers -1", "cannot be negative"}},
		{[]string{"--customers", "1"}, []string{"--customers 1 is fewer than the 6 customers broken on purpose", "6 or more", "--healthy"}},
		{[]string{"--customers", "5"}, []string{"--customers 5", "6 or more", "--healthy for 5 healthy customers"}},
		{[]string{"--customers", "-3", "--healthy"}, []string{"cannot be negative"}},
	} {
		code, stdout, stderr := samctlCtx(stopped, append([]string{"sandbox"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, "%v: a usage error", tc.args)
		assert.Empty(t, stdout, "%v: no sandbox is served", tc.args)
		for _, w := range tc.want {
			assert.Contains(t, stderr, w, "%v", tc.args)
		}
	}
	code, _, stderr := samctlCtx(stopped, "demo", "--tenants", "5")
	assert.Equal(t, exitUsage, code, "the demo cannot show its 6 broken tenants among 5")
	assert.Contains(t, stderr, "6 or more")
}

// sandboxText runs `samctl sandbox` with args, reads its summary up to
// the last line it prints, and stops it.
func sandboxText(t *testing.T, args ...string) string {
	t.Helper()
	pr, stop := runSandbox(t, args...)
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		// The summary ends with the curl line; then the sandbox serves.
		if strings.Contains(sc.Text(), "curl --cacert") {
			break
		}
	}
	code, stderr := stop()
	require.Equal(t, exitOK, code, "sandbox %v: stderr %q", args, stderr)
	return out.String()
}
