package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"sandbox", "--json"}, args...), strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	var info sandboxJSON
	if err := json.NewDecoder(pr).Decode(&info); err != nil {
		cancel()
		<-done
		t.Fatalf("sandbox --json: %v (stderr %q)", err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	return info, func() int {
		cancel()
		return <-done
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
	defer stop()
	assert.True(t, second.Restored)
	assert.Equal(t, first.PartnerTenantID, second.PartnerTenantID)
	assert.Equal(t, first.ApplicationID, second.ApplicationID)
	assert.Equal(t, first.Customers, second.Customers)
	assert.Equal(t, []string{"invokecommand-off"}, second.Rehearsing, "rehearsals are kept")
	code, _, stderr = samctl(t, "check", "--sandbox", second.URL, "--credentials", second.CredentialsFile, "--checks", "delegated-graph")
	assert.Equal(t, exitOK, code, "the credentials of the first run work in the second: stderr %q", stderr)
}
