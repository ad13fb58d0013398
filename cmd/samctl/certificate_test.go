package main

import (
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// certPEMFiles lists the certificate files beside a credentials file.
func certPEMFiles(t *testing.T, creds string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(creds), "*.cert-*.pem"))
	require.NoError(t, err)
	return m
}

// assertMode0600 checks a file holding a key is readable by its owner alone.
func assertMode0600(t *testing.T, path string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "%s holds a private key", path)
}

// keyLines returns the base64 lines of a certificate file's private key.
func keyLines(t *testing.T, pemPath string) []string {
	t.Helper()
	b, err := os.ReadFile(pemPath)
	require.NoError(t, err)
	_, key, ok := strings.Cut(string(b), "-----BEGIN PRIVATE KEY-----\n")
	require.True(t, ok, "the PEM file holds the key")
	key, _, _ = strings.Cut(key, "-----END")
	return strings.Fields(key)
}

// TestCertificateOnlyEndToEnd: setup --certificate against the sandbox,
// then consent, check, inspect and an unattended rotation from that
// store; no command prints the private key.
func TestCertificateOnlyEndToEnd(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 3, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "creds", "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	var outputs []string
	run := func(args ...string) (int, string) {
		t.Helper()
		code, stdout, stderr := samctl(t, append(args, common...)...)
		outputs = append(outputs, stdout, stderr)
		return code, stdout + stderr
	}

	code, out := run("setup", "--verbose", "--certificate", "--unattended-rotation", "--cert-validity", "90d", "--key-size", "3072")
	require.Equal(t, exitOK, code, out)
	saved, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)
	assert.Contains(t, out, "certificate-only: certificate "+saved.Certificate.SHA1Thumbprint(), "setup names the certificate")
	assert.True(t, saved.ClientSecret.IsZero(), "a certificate-only app stores no client secret")
	require.NotNil(t, saved.Certificate)
	leaf := saved.Certificate.Chain[0]
	assert.Equal(t, 3072, leaf.PublicKey.(*rsa.PublicKey).N.BitLen(), "--key-size")
	assert.WithinDuration(t, leaf.NotBefore.Add(90*24*time.Hour), leaf.NotAfter, time.Second, "--cert-validity")
	files := certPEMFiles(t, creds)
	require.Len(t, files, 1, "the certificate and its key are kept beside the credentials")
	assertMode0600(t, files[0])
	assertMode0600(t, creds)
	firstKey := keyLines(t, files[0])
	var secrets int
	s.Read(func(w *testserver.World) { secrets = len(w.Apps[saved.ApplicationID].Passwords) })
	assert.Zero(t, secrets, "the app has no client secret")

	code, out = run("consent", "push", "--all")
	require.Equal(t, exitOK, code, out)
	code, out = run("check")
	require.Equal(t, exitOK, code, "check works from a certificate-only store:\n%s", out)
	code, out = run("tenants")
	require.Equal(t, exitOK, code, out)
	code, out = run("doctor")
	require.Equal(t, exitOK, code, "doctor finds nothing wrong with a certificate-only app:\n%s", out)

	code, out = run("inspect", "--json")
	require.Equal(t, exitOK, code, out)
	var in inspectJSON
	require.NoError(t, json.Unmarshal([]byte(outputs[len(outputs)-2]), &in))
	require.Len(t, in.Certificates, 1)
	c := in.Certificates[0]
	assert.True(t, c.InUse, "inspect tells the stored certificate")
	assert.Regexp(t, `^[0-9A-F]{40}$`, c.Thumbprint)
	assert.Equal(t, "CN="+sam.DefaultDisplayName, c.Subject, "named after the app")
	assert.Equal(t, leaf.NotAfter, c.End.UTC())
	code, out = run("inspect")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "\nCertificates:\n", "a heading on a line of its own")
	assert.NotContains(t, out, `\n`, "no escaped newline in the text output")
	assert.Contains(t, out, c.Thumbprint)

	code, out = run("rotate-credentials", "--unattended", "--json", "--verbose")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "addKey", "--verbose logs the requests, which the key must not be in")
	var rot rotateJSON
	require.NoError(t, json.Unmarshal([]byte(outputs[len(outputs)-2]), &rot))
	assert.True(t, rot.OK)
	assert.Equal(t, "certificate", rot.Kind)
	assert.NotEmpty(t, rot.RemovedKeyID, "the old certificate is removed")
	rotated, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, rot.Thumbprint, rotated.Certificate.SHA1Thumbprint())
	assert.NotEqual(t, saved.Certificate.Thumbprint(), rotated.Certificate.Thumbprint())
	files = certPEMFiles(t, creds)
	require.Len(t, files, 1, "the old certificate's file is removed with it")
	assertMode0600(t, files[0])
	secondKey := keyLines(t, files[0])

	code, out = run("check")
	require.Equal(t, exitOK, code, "check works with the rotated certificate:\n%s", out)

	for _, o := range outputs {
		assert.NotContains(t, o, "PRIVATE KEY")
		for _, line := range append(firstKey, secondKey...) {
			require.NotContains(t, o, line, "a line of a private key appears in the output")
		}
		assert.NotContains(t, o, rotated.RefreshToken.Reveal())
	}
}

// TestRotateCredentialsUnattendedNeedsPermission: an app set up without
// --unattended-rotation cannot rotate unattended; the error names the
// permission and how to get it.
func TestRotateCredentialsUnattendedNeedsPermission(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	code, stdout, stderr := samctl(t, append([]string{"setup"}, common...)...)
	require.Equal(t, exitOK, code, stdout+stderr)
	before, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)

	code, stdout, stderr = samctl(t, append([]string{"rotate-credentials", "--unattended"}, common...)...)
	assert.Equal(t, exitFailed, code, stdout+stderr)
	assert.Contains(t, stderr, "Application.ReadWrite.All")
	assert.Contains(t, stderr, "--unattended-rotation")
	after, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)
	assert.True(t, before.ClientSecret.Equal(after.ClientSecret), "nothing changed")

	code, _, stderr = samctl(t, append([]string{"rotate-credentials", "--kind", "password"}, common...)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "secret or certificate")
	code, _, stderr = samctl(t, append([]string{"setup", "--key-size", "4096"}, common...)...)
	assert.Equal(t, exitUsage, code, "--key-size without --certificate")
	assert.Contains(t, stderr, "--certificate")
}

// TestRotateSecretUnattended: with the permission, the secret rotates with
// no sign-in, through rotate-secret as through rotate-credentials.
func TestRotateSecretUnattended(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	code, stdout, stderr := samctl(t, append([]string{"setup", "--unattended-rotation"}, common...)...)
	require.Equal(t, exitOK, code, stdout+stderr)
	for _, cmd := range [][]string{{"rotate-secret", "--unattended"}, {"rotate-credentials", "--unattended", "--kind", "secret"}} {
		before, err := sam.NewFileStore(creds).Load(t.Context())
		require.NoError(t, err)
		code, stdout, stderr = samctl(t, append(cmd, common...)...)
		require.Equal(t, exitOK, code, "%v:\n%s%s", cmd, stdout, stderr)
		after, err := sam.NewFileStore(creds).Load(t.Context())
		require.NoError(t, err)
		assert.False(t, before.ClientSecret.Equal(after.ClientSecret), "%v saved a new secret", cmd)
		assert.NotContains(t, stdout+stderr, after.ClientSecret.Reveal())
		var n int
		s.Read(func(w *testserver.World) { n = len(w.Apps[after.ApplicationID].Passwords) })
		assert.Equal(t, 1, n, "%v removed the old secret", cmd)
	}
}

// TestCertificateMigrateAndRotateInKeyVault: a certificate-only file store
// moves into Key Vault with its certificate; check and an unattended
// rotation then work from the vault alone.
func TestCertificateMigrateAndRotateInKeyVault(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	_, err := s.AddVault(testserver.VaultSpec{Name: "contoso-sam"})
	require.NoError(t, err)
	id, err := s.RegisterApp(testserver.AppSpec{DisplayName: "vault reader", RequiredResourceAccess: []testserver.RequiredResourceAccess{}})
	require.NoError(t, err)
	require.NoError(t, s.GrantVaultRole("contoso-sam", id.ServicePrincipalID, testserver.KeyVaultSecretsOfficer))
	t.Setenv("AZURE_TENANT_ID", s.Partner().TenantID)
	t.Setenv("AZURE_CLIENT_ID", id.AppID)
	t.Setenv("AZURE_CLIENT_SECRET", id.Secret)
	t.Setenv(storeEnv, "")
	sandbox := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s)}
	file := filepath.Join(dir, "sam.json")
	vault := []string{"--store", "keyvault://contoso-sam/msp", "--credentials", filepath.Join(dir, "none.json")}
	do := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := samctl(t, append(args, sandbox...)...)
		require.Equal(t, exitOK, code, "%v\n%s%s", args, stdout, stderr)
		assert.NotContains(t, stdout+stderr, "PRIVATE KEY")
		return stdout
	}

	do("setup", "--certificate", "--unattended-rotation", "--credentials", file)
	fromFile, err := sam.NewFileStore(file).Load(t.Context())
	require.NoError(t, err)
	assert.Contains(t, do("store", "migrate", "--to", "keyvault://contoso-sam/msp", "--credentials", file), "they match",
		"the copy, certificate included, reads back the same")
	do(append([]string{"consent", "push", "--all"}, vault...)...)
	do(append([]string{"check"}, vault...)...)
	do(append([]string{"rotate-credentials", "--unattended"}, vault...)...)
	do(append([]string{"check"}, vault...)...)

	var certs int
	s.Read(func(w *testserver.World) { certs = len(w.Apps[fromFile.ApplicationID].Certificates) })
	assert.Equal(t, 1, certs, "the rotation removed the migrated certificate once the new one was saved")
}

// TestRotateCertificateWithAdminSignIn: without --unattended an admin
// signs in (the sandbox's simulated admin answers the device code), and
// the certificate rotates as it does unattended.
func TestRotateCertificateWithAdminSignIn(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	code, stdout, stderr := samctl(t, append([]string{"setup", "--certificate"}, common...)...)
	require.Equal(t, exitOK, code, stdout+stderr)
	before, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)

	code, stdout, stderr = samctl(t, append([]string{"rotate-credentials", "--kind", "certificate"}, common...)...)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "new certificate with thumbprint")
	assert.Contains(t, stdout, "old certificate (key id")
	after, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)
	assert.NotEqual(t, before.Certificate.Thumbprint(), after.Certificate.Thumbprint())
	assert.Contains(t, stdout, after.Certificate.SHA1Thumbprint())
	code, stdout, stderr = samctl(t, append([]string{"inspect"}, common...)...)
	assert.Equal(t, exitOK, code, "inspect after the rotation:\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, after.Certificate.SHA1Thumbprint(), "inspect names the certificate as the rotation did")
}

// TestInspectAndRotateCertificateLeftover: a samkit certificate the store
// does not hold (an interrupted rotation's) is flagged by inspect and
// removed by the next rotation; one added by hand stays.
func TestInspectAndRotateCertificateLeftover(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	code, stdout, stderr := samctl(t, append([]string{"setup", "--certificate", "--unattended-rotation"}, common...)...)
	require.Equal(t, exitOK, code, stdout+stderr)
	saved, err := sam.NewFileStore(creds).Load(t.Context())
	require.NoError(t, err)
	const leftover, manual = "0f0f0f0f-0000-4000-8000-00000000000a", "0f0f0f0f-0000-4000-8000-00000000000b"
	s.Mutate(func(w *testserver.World) {
		app := w.Apps[saved.ApplicationID]
		for _, k := range []struct{ id, name string }{{leftover, sam.SecretNamePrefix + "2026-01-01"}, {manual, "by hand"}} {
			c, err := sam.NewCertificate(sam.CertificateOptions{Subject: k.name})
			require.NoError(t, err)
			leaf := c.Chain[0]
			app.Certificates = append(app.Certificates, &testserver.KeyCredential{KeyID: k.id, DisplayName: k.name, Certificate: leaf, Start: leaf.NotBefore, End: leaf.NotAfter})
		}
	})

	code, stdout, stderr = samctl(t, append([]string{"inspect", "--json"}, common...)...)
	require.Equal(t, exitFailed, code, "a leftover is a problem:\n%s%s", stdout, stderr)
	var in inspectJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &in))
	require.Len(t, in.Certificates, 3)
	var left, inUse []string
	for _, c := range in.Certificates {
		if c.Leftover {
			left = append(left, c.KeyID)
		}
		if c.InUse {
			inUse = append(inUse, c.KeyID)
		}
	}
	assert.Equal(t, []string{leftover}, left, "only samkit's certificate that the store does not hold")
	assert.Len(t, inUse, 1, "the stored certificate")
	assert.NotContains(t, inUse, manual)
	assert.True(t, slices.ContainsFunc(in.Problems, func(p string) bool { return strings.Contains(p, "rotate-credentials --kind certificate") }), "%q", in.Problems)

	code, stdout, stderr = samctl(t, append([]string{"rotate-credentials", "--unattended"}, common...)...)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, leftover, "the leftover is removed")
	var keys []string
	s.Read(func(w *testserver.World) {
		for _, k := range w.Apps[saved.ApplicationID].Certificates {
			keys = append(keys, k.KeyID)
		}
	})
	assert.Len(t, keys, 2, "the new certificate and the one added by hand")
	assert.Contains(t, keys, manual)
	code, stdout, stderr = samctl(t, append([]string{"inspect"}, common...)...)
	assert.Equal(t, exitOK, code, stdout+stderr)
}
