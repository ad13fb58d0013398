package sam

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// certEnv is a certificate-only SAM app, set up on the fake with the
// delegated permission that lets it rotate unattended.
func certEnv(t *testing.T, store func(e *setupEnv) Store) (*setupEnv, token.Credentials) {
	t.Helper()
	e := newSetupEnv(t)
	opts := e.options()
	opts.Certificate = true
	opts.Manifest = UnattendedRotationManifest(DefaultManifest())
	if store != nil {
		opts.Store = store(e)
	}
	res := e.setup(t.Context(), opts)
	return e, res.Credentials
}

// appCredentials returns the app's secrets and certificates on the fake.
func (e *setupEnv) appCredentials(appID string) (secrets int, certs []*testserver.KeyCredential) {
	e.s.Read(func(w *testserver.World) {
		a := w.Apps[appID]
		secrets = len(a.Passwords)
		certs = append(certs, a.Certificates...)
	})
	return secrets, certs
}

// credentialWorks reports whether the identity platform accepts c's
// certificate (or secret, without one) for an app-only token.
func (e *setupEnv) credentialWorks(c token.Credentials) error {
	return appCredentialWorks(e.t.Context(), c, e.s.Cloud(), e.s.Client(), nil, "")
}

func TestSetupCertificateOnly(t *testing.T) {
	t.Parallel()
	e, creds := certEnv(t, nil)
	assert.True(t, creds.ClientSecret.IsZero(), "a certificate-only app has no client secret")
	require.NotNil(t, creds.Certificate)
	leaf := creds.Certificate.Chain[0]
	assert.Equal(t, x509SHA256RSA, leaf.SignatureAlgorithm.String(), "SHA-256 with RSA")
	assert.GreaterOrEqual(t, leaf.PublicKey.(interface{ Size() int }).Size()*8, 2048, "RSA 2048 or more")

	secrets, certs := e.appCredentials(creds.ApplicationID)
	assert.Zero(t, secrets, "the app should have no client secret")
	require.Len(t, certs, 1, "the app should have the one certificate")
	assert.Equal(t, leaf.Raw, certs[0].Certificate.Raw, "the registered certificate is the stored one")

	stored, err := e.store.Load(t.Context())
	require.NoError(t, err)
	assert.True(t, stored.ClientSecret.IsZero())
	require.NotNil(t, stored.Certificate)
	assert.Equal(t, creds.Certificate.Thumbprint(), stored.Certificate.Thumbprint())
	b, err := os.ReadFile(e.store.Path())
	require.NoError(t, err)
	assert.NotContains(t, string(b), "PRIVATE KEY", "the key lives in its own PEM file, not in the JSON")
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(e.store.Path()), "*"+certFileMark+"*.pem"))
	require.NoError(t, err)
	require.Len(t, matches, 1)
	if runtime.GOOS != "windows" {
		info, err := os.Stat(matches[0])
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}

	// The stored credentials work: the access check, delegated and
	// app-only (with the certificate), passes.
	p := e.partner()
	partner := e.s.Partner()
	rep, err := p.Check(t.Context(), []Tenant{{ID: partner.TenantID, DisplayName: partner.Name}},
		CheckOptions{Checks: Checks{DelegatedGraph: true, AppGraph: true}})
	require.NoError(t, err)
	require.Len(t, rep.Tenants, 1)
	for _, r := range rep.Tenants[0].Checks {
		assert.True(t, r.OK(), "%s: %v", r.Check, r.Err)
	}
}

const x509SHA256RSA = "SHA256-RSA"

// TestSetupCertificateIntoKeyVault: the certificate, with its key, is
// kept in the vault as a secret and comes back from it.
func TestSetupCertificateIntoKeyVault(t *testing.T) {
	t.Parallel()
	var vault *KeyVaultStore
	e, creds := certEnv(t, func(e *setupEnv) Store {
		vault = newVaultStore(t, e.s, "certonly", testserver.KeyVaultSecretsOfficer)
		return vault
	})
	got, err := vault.Load(t.Context())
	require.NoError(t, err)
	assert.True(t, got.ClientSecret.IsZero())
	require.NotNil(t, got.Certificate)
	assert.Equal(t, creds.Certificate.Thumbprint(), got.Certificate.Thumbprint())
	assert.NoError(t, e.credentialWorks(got), "the certificate from the vault signs accepted assertions")
}

// TestRotateCertificateUnattended rotates the certificate with the SAM
// refresh token alone while Entra takes five seconds to replicate the new
// one: the rotation waits (through the injected sleep) until it works,
// then removes the old certificate with a proof signed by the new one.
func TestRotateCertificateUnattended(t *testing.T) {
	t.Parallel()
	e, old := certEnv(t, nil)
	e.s.Mutate(func(w *testserver.World) { w.CredentialDelay = 5 * time.Second })
	var logs bytes.Buffer
	p := e.partner(WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	clock := &clockWaits{s: e.s}
	res, err := p.RotateCredentials(t.Context(), RotateOptions{Unattended: true, Sleep: clock.Sleep})
	require.NoError(t, err)
	assert.Equal(t, CredentialCertificate, res.Kind, "a certificate-only store rotates its certificate")
	waits, _ := clock.All()
	assert.NotEmpty(t, waits, "the new certificate was not usable at once: the rotation had to retry")
	assert.NotEmpty(t, res.RemovedKeyID, "the old certificate is removed")

	stored, err := e.store.Load(t.Context())
	require.NoError(t, err)
	require.NotNil(t, stored.Certificate)
	assert.Equal(t, res.Thumbprint, stored.Certificate.SHA1Thumbprint())
	assert.NotEqual(t, old.Certificate.Thumbprint(), stored.Certificate.Thumbprint())
	assert.NoError(t, e.credentialWorks(stored), "the new certificate works")
	assert.ErrorIs(t, e.credentialWorks(old), token.ErrInvalidClient, "the old certificate is refused")
	_, certs := e.appCredentials(old.ApplicationID)
	require.Len(t, certs, 1)
	assert.Equal(t, res.KeyID, certs[0].KeyID)
	assertNoKey(t, logs.String(), old.Certificate, stored.Certificate)
}

// TestRotateExpiredCertificate: once the stored certificate has expired
// on the app, addKey and removeKey refuse its proof, and the rotation
// goes through an update of the application instead, as Microsoft's
// addKey page says to.
func TestRotateExpiredCertificate(t *testing.T) {
	t.Parallel()
	e, old := certEnv(t, nil)
	e.s.Mutate(func(w *testserver.World) {
		for _, k := range w.Apps[old.ApplicationID].Certificates {
			k.End = e.s.Clock().Now().Add(-time.Hour)
		}
	})
	// The refresh token cannot be redeemed with an expired certificate:
	// the admin signs in.
	clock := &clockWaits{s: e.s}
	opts := e.options()
	res, err := e.partner().RotateCredentials(t.Context(), RotateOptions{AdminSignIn: opts.AdminSignIn, BootstrapClientID: opts.BootstrapClientID,
		Sleep: clock.Sleep})
	require.NoError(t, err)
	assert.NotEmpty(t, res.RemovedKeyID, "the expired certificate is removed")
	stored, err := e.store.Load(t.Context())
	require.NoError(t, err)
	assert.NoError(t, e.credentialWorks(stored), "the new certificate works")
	_, certs := e.appCredentials(old.ApplicationID)
	require.Len(t, certs, 1)
	assert.Equal(t, res.KeyID, certs[0].KeyID)
}

// assertNoKey checks that text holds none of the certificates' private
// keys, in PEM or raw base64.
func assertNoKey(t *testing.T, text string, certs ...*token.Certificate) {
	t.Helper()
	assert.NotContains(t, text, "PRIVATE KEY")
	for _, c := range certs {
		pemText, err := certificatePEM(c)
		require.NoError(t, err)
		i := strings.Index(pemText, "-----BEGIN PRIVATE KEY-----\n")
		require.GreaterOrEqual(t, i, 0)
		line := strings.SplitN(pemText[i:], "\n", 3)[1]
		assert.NotContains(t, text, line, "a line of the private key")
	}
}

// TestRotationNeedsRetry: with Entra's replication delay, a rotation
// whose waits do not let time pass (as a rotation that checks once would)
// never sees the new certificate work; it removes it and keeps the old,
// working one.
func TestRotationNeedsRetry(t *testing.T) {
	t.Parallel()
	for _, kind := range []CredentialKind{CredentialCertificate, CredentialSecret} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e, old := certEnv(t, nil)
			if kind == CredentialSecret {
				res, err := e.partner().RotateCredentials(t.Context(), RotateOptions{Kind: CredentialSecret, Unattended: true})
				require.NoError(t, err, "first give the app a secret")
				require.NotEmpty(t, res.KeyID)
				old, err = e.store.Load(t.Context())
				require.NoError(t, err)
			}
			secretsBefore, certsBefore := e.appCredentials(old.ApplicationID)
			e.s.Mutate(func(w *testserver.World) { w.CredentialDelay = 5 * time.Second })
			var sleeps atomic.Int32
			noTime := func(context.Context, time.Duration) error { sleeps.Add(1); return nil }
			_, err := e.partner().RotateCredentials(t.Context(), RotateOptions{Kind: kind, Unattended: true, Sleep: noTime})
			require.ErrorIs(t, err, token.ErrInvalidClient, "the new %s never replicates while no time passes", kind)
			assert.Positive(t, sleeps.Load(), "the rotation retried before giving up")

			stored, err := e.store.Load(t.Context())
			require.NoError(t, err)
			assert.Equal(t, old.Certificate.Thumbprint(), stored.Certificate.Thumbprint(), "the store keeps the old certificate")
			assert.True(t, old.ClientSecret.Equal(stored.ClientSecret), "the store keeps the old secret")
			e.s.Clock().Advance(time.Minute)
			assert.NoError(t, e.credentialWorks(stored), "the stored credential still works")
			secrets, certs := e.appCredentials(old.ApplicationID)
			assert.Equal(t, secretsBefore, secrets, "the new secret was removed again")
			assert.Len(t, certs, len(certsBefore), "the new certificate was removed again")
		})
	}
}

// TestRotateUnattendedNeedsPermission: without Application.ReadWrite.All
// the unattended rotation says which permission is missing, and changes
// nothing.
func TestRotateUnattendedNeedsPermission(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	e.setup(t.Context(), e.options())
	before, err := e.store.Load(t.Context())
	require.NoError(t, err)
	_, err = e.partner().RotateCredentials(t.Context(), RotateOptions{Unattended: true})
	require.ErrorIs(t, err, ErrRotationPermission)
	assert.Contains(t, err.Error(), "Application.ReadWrite.All", "the error names the missing permission")
	assert.Contains(t, err.Error(), "UnattendedRotationManifest", "and how to add it")
	secrets, _ := e.appCredentials(before.ApplicationID)
	assert.Equal(t, 1, secrets, "nothing was added")
}

// TestRotateCertificateResumes kills certificate rotations at each step
// and checks that the next whole rotation leaves the app with one samkit
// certificate, the stored one, which works, beside one added by hand.
func TestRotateCertificateResumes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		crashes   []crashOn
		leftovers int
	}{
		{"after add", []crashOn{{"added", 1}}, 1},
		{"after verify, before save", []crashOn{{"verified", 1}}, 1},
		{"after save, before removing the old one", []crashOn{{"saved", 1}}, 1},
		{"three kills in a row", []crashOn{{"added", 1}, {"saved", 1}, {"verified", 1}}, 1},
		{"killed while removing leftovers", []crashOn{{"added", 1}, {"removing leftovers", 1}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, first := certEnv(t, nil)
			p := e.partner()
			g, err := p.graph(first.TenantID)
			require.NoError(t, err)
			manual := addManualCertificate(t, e, g, first)
			opts := rotation{Graph: g, Store: e.store, Kind: CredentialCertificate, Cloud: e.s.Cloud(), HTTPClient: e.s.Client()}
			for _, c := range tc.crashes {
				o := opts
				o.crashAt = c.hook()
				_, err := rotateCredential(t.Context(), o)
				require.ErrorIs(t, err, errCrashed, "the rotation should stop at %s", c.point)
				now, err := e.store.Load(t.Context())
				require.NoError(t, err)
				require.NoError(t, e.credentialWorks(now), "after a kill at %s the stored certificate must still work", c.point)
			}
			res, err := rotateCredential(t.Context(), opts)
			require.NoError(t, err)
			assert.Len(t, res.RemovedLeftovers, tc.leftovers, "the rotation removes what the kills left")
			stored, err := e.store.Load(t.Context())
			require.NoError(t, err)
			require.NoError(t, e.credentialWorks(stored))
			_, certs := e.appCredentials(first.ApplicationID)
			var keys []string
			for _, k := range certs {
				keys = append(keys, k.KeyID)
			}
			assert.ElementsMatch(t, []string{res.KeyID, manual}, keys, "the stored certificate and the one added by hand")
		})
	}
}

// addManualCertificate registers a certificate a person added (not named
// by samkit) and returns its key id.
func addManualCertificate(t *testing.T, e *setupEnv, g *graph.Client, c token.Credentials) string {
	t.Helper()
	cert, err := NewCertificate(CertificateOptions{Subject: "by hand"})
	require.NoError(t, err)
	app, err := g.ApplicationByAppID(t.Context(), c.ApplicationID)
	require.NoError(t, err)
	proof, err := token.KeyProof(c.Certificate, app.ID, time.Now())
	require.NoError(t, err)
	kc, err := g.AddKey(t.Context(), app.ID, graph.KeyCredential{DisplayName: "by hand", Key: cert.Chain[0].Raw}, proof)
	require.NoError(t, err)
	require.Equal(t, derThumbprintSHA1(cert.Chain[0].Raw), kc.CustomKeyIdentifier, "Graph names a certificate by its SHA-1 thumbprint")
	return kc.KeyID
}

// TestInspectCertificates: Inspect lists the app's certificates with
// their thumbprint and expiry, tells the stored one, and the one an
// interrupted rotation left.
func TestInspectCertificates(t *testing.T) {
	t.Parallel()
	e, creds := certEnv(t, nil)
	p := e.partner()
	g, err := p.graph(creds.TenantID)
	require.NoError(t, err)
	o := rotation{Graph: g, Store: e.store, Kind: CredentialCertificate, Cloud: e.s.Cloud(), HTTPClient: e.s.Client(),
		crashAt: crashOn{"added", 1}.hook()}
	res, err := rotateCredential(t.Context(), o)
	require.ErrorIs(t, err, errCrashed)

	in, err := p.Inspect(t.Context())
	require.NoError(t, err)
	require.Len(t, in.Certificates, 2)
	stored := in.StoredCertificate(creds.Certificate)
	require.NotEmpty(t, stored, "the stored certificate is registered on the app")
	for _, c := range in.Certificates {
		assert.Regexp(t, `^[0-9A-F]{40}$`, c.Thumbprint, "SHA-1 thumbprint in hex, as the portal shows it")
		assert.False(t, c.Expired)
		assert.WithinDuration(t, c.Start.Add(DefaultCertificateValidity), c.End, time.Minute, "valid for the default year")
	}
	left := in.CertificateLeftovers(creds.Certificate)
	require.Len(t, left, 1)
	assert.Equal(t, res.KeyID, left[0].KeyID, "the certificate the killed rotation added")
	assert.NotEqual(t, stored, left[0].KeyID)
}

// TestSetupSwitchesToCertificate: setup --certificate over an app set up
// with a secret stores the certificate alone and says that the old secret
// is still on the app; running it again reuses the stored certificate.
func TestSetupSwitchesToCertificate(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	e.setup(t.Context(), e.options())
	opts := e.options()
	opts.Certificate = true
	res := e.setup(t.Context(), opts)
	assert.True(t, res.Credentials.ClientSecret.IsZero())
	require.NotNil(t, res.Credentials.Certificate)
	assert.True(t, slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "1 client secret(s)") }),
		"a warning names the secret left on the app: %q", res.Warnings)
	stored, err := e.store.Load(t.Context())
	require.NoError(t, err)
	assert.True(t, stored.ClientSecret.IsZero(), "the store holds no secret any more")
	assert.NoError(t, e.credentialWorks(stored))

	again := e.setup(t.Context(), opts)
	assert.Equal(t, res.Credentials.Certificate.Thumbprint(), again.Credentials.Certificate.Thumbprint(), "the stored certificate is reused")
	_, certs := e.appCredentials(stored.ApplicationID)
	assert.Len(t, certs, 1, "no second certificate")
}

// TestDoctorStoredCertificate: the doctor tells the stored certificate's
// expiry (rotate it while it is valid, set up again once it is not) and
// a leftover of an interrupted rotation.
func TestDoctorStoredCertificate(t *testing.T) {
	t.Parallel()
	e, creds := certEnv(t, nil)
	p := e.partner()
	g, err := p.graph(creds.TenantID)
	require.NoError(t, err)
	_, err = rotateCredential(t.Context(), rotation{Graph: g, Store: e.store, Kind: CredentialCertificate, Cloud: e.s.Cloud(),
		HTTPClient: e.s.Client(), crashAt: crashOn{"added", 1}.hook()})
	require.ErrorIs(t, err, errCrashed)
	end := creds.Certificate.Chain[0].NotAfter
	for _, tc := range []struct {
		name     string
		now      time.Time
		severity Severity
		fix      string
	}{
		{"ten days before", end.Add(-10 * 24 * time.Hour), SeverityWarning, "samctl rotate-credentials --kind certificate"},
		{"a day after", end.Add(24 * time.Hour), SeverityBroken, "samctl setup --certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := p.Doctor(t.Context(), nil, DoctorOptions{StoredCertificate: creds.Certificate, Now: func() time.Time { return tc.now }})
			require.NoError(t, err)
			var stored, leftover []Finding
			for _, f := range rep.Findings {
				switch {
				case f.Kind == FindingCertificateExpiry && strings.Contains(f.What, "the stored certificate"):
					stored = append(stored, f)
				case f.Kind == FindingLeftoverSecret && strings.Contains(f.What, "certificate"):
					leftover = append(leftover, f)
				}
			}
			require.Len(t, stored, 1, "findings: %+v", rep.Findings)
			assert.Equal(t, tc.severity, stored[0].Severity)
			assert.Equal(t, tc.fix, stored[0].Fix)
			assert.Len(t, leftover, 1, "the certificate the killed rotation left")
		})
	}
}
