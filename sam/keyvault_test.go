package sam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// newVaultStore creates a vault on s, an identity with role on it, and a
// KeyVaultStore that signs in as that identity through azidentity. The
// fake serves the vault by path on 127.0.0.1, so the client skips the
// challenge's check that the vault's host is under vault.azure.net.
// Retries are off: the tests count what the vault answers.
func newVaultStore(t *testing.T, s *testserver.Server, vault, role string, adjust ...func(*[]KeyVaultOption)) *KeyVaultStore {
	t.Helper()
	va, err := s.AddVaultWithIdentity(vault, role)
	require.NoError(t, err)
	kvOpts := []KeyVaultOption{WithVaultCredential(va.Credential), WithVaultPrefix("sam-test"), WithVaultCloud(cloud.USGovernment),
		WithVaultClientOptions(azsecrets.ClientOptions{ClientOptions: va.ClientOptions, DisableChallengeResourceVerification: true})}
	for _, a := range adjust {
		a(&kvOpts)
	}
	store, err := NewKeyVaultStore(va.URL, kvOpts...)
	require.NoError(t, err)
	return store
}

// badSecretCredential is an azidentity credential of a registered app,
// with a client secret that is not the app's.
func badSecretCredential(t *testing.T, s *testserver.Server) azcore.TokenCredential {
	t.Helper()
	app, err := s.RegisterApp(testserver.AppSpec{DisplayName: "wrong secret", RequiredResourceAccess: []testserver.RequiredResourceAccess{}})
	require.NoError(t, err)
	cred, err := azidentity.NewClientSecretCredential(s.Partner().TenantID, app.AppID, "not-the-secret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: s.AzureClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	return cred
}

// staticToken is a credential that always gives one access token.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestKeyVaultStoreSaveLoad(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	defer s.Close()
	store := newVaultStore(t, s, "saveload", testserver.KeyVaultSecretsOfficer)
	ctx := t.Context()

	_, err := store.Load(ctx)
	require.ErrorIs(t, err, ErrNoCredentials)
	require.ErrorIs(t, store.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("rt")), ErrNoCredentials)

	app, err := s.RegisterApp(testserver.AppSpec{Certificate: true})
	require.NoError(t, err)
	cert, err := token.ParseCertificate(app.CertificatePEM(), "")
	require.NoError(t, err)
	want := token.Credentials{TenantID: s.Partner().TenantID, ApplicationID: app.AppID, ClientSecret: token.NewSecret(app.Secret),
		Certificate: cert, RefreshToken: token.NewSecret("refresh-1")}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store.now = func() time.Time { return base }
	require.NoError(t, store.Save(ctx, want))

	got, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, want.TenantID, got.TenantID)
	assert.Equal(t, want.ApplicationID, got.ApplicationID)
	assert.Equal(t, app.Secret, got.ClientSecret.Reveal())
	assert.Equal(t, "refresh-1", got.RefreshToken.Reveal())
	assert.True(t, got.ExchangeRefreshToken.IsZero())
	require.NotNil(t, got.Certificate)
	assert.Equal(t, cert.Thumbprint(), got.Certificate.Thumbprint())
	c, err := store.Cloud(ctx)
	require.NoError(t, err)
	assert.Equal(t, cloud.USGovernment.Name, c.Name)
	require.NoError(t, store.Writable(ctx))

	// A rotated token is a new version; an older one is not written.
	require.NoError(t, store.SaveRefreshTokenObtained(ctx, token.RefreshSAM, token.NewSecret("refresh-3"), base.Add(3*time.Hour)))
	require.NoError(t, store.SaveRefreshTokenObtained(ctx, token.RefreshSAM, token.NewSecret("refresh-2"), base.Add(2*time.Hour)))
	got, err = store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "refresh-3", got.RefreshToken.Reveal())
	assert.Equal(t, 2, refreshVersions(t, s, "saveload", "sam-test-refresh-token"))
	// Saving the same credentials keeps the token's time.
	got.ExchangeRefreshToken = token.NewSecret("exchange-1")
	store.now = func() time.Time { return base.Add(time.Hour) }
	require.NoError(t, store.Save(ctx, got))
	require.NoError(t, store.SaveRefreshTokenObtained(ctx, token.RefreshSAM, token.NewSecret("refresh-2"), base.Add(2*time.Hour)))
	got, err = store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "refresh-3", got.RefreshToken.Reveal())
	assert.Equal(t, "exchange-1", got.ExchangeRefreshToken.Reveal())
}

// refreshVersions counts a secret's versions in the fake vault.
func refreshVersions(t *testing.T, s *testserver.Server, vault, name string) int {
	t.Helper()
	var n int
	s.Read(func(w *testserver.World) { n = len(w.Vaults[vault].Secrets[name].Versions) })
	return n
}

// TestKeyVaultStoreSetupAndCheck runs Setup into the vault and checks
// access as the Partner opened from it.
func TestKeyVaultStoreSetupAndCheck(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	store := newVaultStore(t, e.s, "setupcheck", testserver.KeyVaultSecretsOfficer)
	opts := e.options()
	opts.Store = store
	e.setup(t.Context(), opts)

	p, err := Open(t.Context(), store, WithCloud(e.s.Cloud()), WithHTTPClient(e.s.Client()))
	require.NoError(t, err)
	partner := e.s.Partner()
	rep, err := p.Check(t.Context(), []Tenant{{ID: partner.TenantID, DisplayName: partner.Name}},
		CheckOptions{Checks: Checks{DelegatedGraph: true, AppGraph: true}})
	require.NoError(t, err)
	require.Len(t, rep.Tenants, 1)
	for _, r := range rep.Tenants[0].Checks {
		assert.True(t, r.OK(), "%s: %v", r.Check, r.Err)
	}
}

// TestKeyVaultStoreConcurrentRotations has 200 token requests at once
// through Providers that save each rotated refresh token to the vault:
// each new version of the vault's refresh token was obtained no earlier
// than the one before it.
func TestKeyVaultStoreConcurrentRotations(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	store := newVaultStore(t, e.s, "rotations", testserver.KeyVaultSecretsOfficer)
	opts := e.options()
	opts.Store = store
	e.setup(t.Context(), opts)
	partner := e.s.Partner().TenantID
	scopes := []string{e.s.Cloud().Graph.Scope(), e.s.Cloud().PartnerCenter.Scope(), e.s.Cloud().Exchange.Scope()}

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			// Each request is a fresh process's: its own Provider over the
			// credentials as the vault holds them now.
			creds, err := store.Load(t.Context())
			if !assert.NoError(t, err) {
				return
			}
			// Their clocks disagree by up to 200 seconds, as machines'
			// do, so the tokens reach the vault in another order than
			// their times: the vault must keep the newest.
			skew := time.Duration(i*37%200) * time.Second
			p, err := token.NewProvider(creds, token.WithCloud(e.s.Cloud()), token.WithHTTPClient(e.s.Client()), token.WithRefreshTokenStore(store),
				token.WithClock(func() time.Time { return time.Now().Add(skew) }))
			if !assert.NoError(t, err) {
				return
			}
			_, err = p.Token(t.Context(), partner, scopes[i%len(scopes)])
			assert.NoError(t, err, "request %d", i)
		})
	}
	wg.Wait()

	var stamps []string
	e.s.Read(func(w *testserver.World) {
		for _, v := range w.Vaults["rotations"].Secrets["sam-test-refresh-token"].Versions {
			stamps = append(stamps, v.Tags["obtainedAt"])
		}
	})
	require.Greater(t, len(stamps), 1, "no rotation reached the vault")
	t.Logf("200 token requests left %d versions of the refresh token in the vault", len(stamps))
	for i := 1; i < len(stamps); i++ {
		prev, err1 := time.Parse(time.RFC3339Nano, stamps[i-1])
		cur, err2 := time.Parse(time.RFC3339Nano, stamps[i])
		require.NoError(t, errors.Join(err1, err2))
		assert.False(t, cur.Before(prev), "version %d (obtained %v) steps back from %v", i, cur, prev)
	}
	p := e.providerFrom(store)
	_, err := p.Token(t.Context(), partner, e.s.Cloud().Graph.Scope())
	assert.NoError(t, err, "the refresh token the vault ends with")
}

// providerFrom is setupEnv.provider over another store.
func (e *setupEnv) providerFrom(store Store) *token.Provider {
	e.t.Helper()
	creds, err := store.Load(e.t.Context())
	require.NoError(e.t, err)
	p, err := token.NewProvider(creds, token.WithCloud(e.s.Cloud()), token.WithHTTPClient(e.s.Client()), token.WithRefreshTokenStore(store))
	require.NoError(e.t, err)
	return p
}

func TestKeyVaultStoreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		role  string
		fault *testserver.Fault
		// wrongToken signs in with a token for Microsoft Graph; badSecret
		// with a client secret the identity platform refuses.
		wrongToken, badSecret bool
		is                    error
		fix                   string
	}{
		{name: "401", role: testserver.KeyVaultSecretsOfficer, is: ErrVaultUnauthorized, fix: "vault's own tenant", wrongToken: true},
		{name: "sign-in", role: testserver.KeyVaultSecretsOfficer, is: ErrVaultUnauthorized, fix: "identity the store signs in", badSecret: true},
		{name: "403", is: ErrVaultForbidden, fix: "Key Vault Secrets Officer role"},
		{name: "403 reader", role: testserver.KeyVaultSecretsUser, is: ErrVaultForbidden, fix: "Key Vault Secrets Officer role"},
		{name: "404", role: testserver.KeyVaultSecretsOfficer, is: ErrNoCredentials, fix: "samctl setup",
			fault: &testserver.Fault{Kind: testserver.Status, Status: http.StatusNotFound, Service: "keyvault", Method: "PUT"}},
		{name: "429", role: testserver.KeyVaultSecretsOfficer, is: ErrVaultThrottled, fix: "wait 7s",
			fault: &testserver.Fault{Kind: testserver.Throttle, Service: "keyvault", RetryAfter: "7", Method: "PUT"}},
		{name: "503", role: testserver.KeyVaultSecretsOfficer, is: ErrVaultUnavailable, fix: "try again later",
			fault: &testserver.Fault{Kind: testserver.Status, Status: http.StatusServiceUnavailable, Service: "keyvault", Method: "PUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testserver.New()
			defer s.Close()
			store := newVaultStore(t, s, "errors", tt.role, func(opts *[]KeyVaultOption) {
				switch {
				case tt.wrongToken:
					*opts = append(*opts, WithVaultCredential(staticToken(s.IssueAccessToken(testserver.TokenSpec{}))))
				case tt.badSecret:
					*opts = append(*opts, WithVaultCredential(badSecretCredential(t, s)))
				}
			})
			if tt.fault != nil {
				s.Inject(*tt.fault)
			}
			err := store.Save(t.Context(), token.Credentials{TenantID: "t", ApplicationID: "a", ClientSecret: token.NewSecret("the-client-secret"),
				RefreshToken: token.NewSecret("the-refresh-token")})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			var se *StoreError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, se.Fix, tt.fix)
			if !tt.badSecret {
				var ke *KeyVaultError
				require.ErrorAs(t, err, &ke)
				assert.Equal(t, strings.Fields(tt.name)[0], fmt.Sprint(ke.Status))
			}
			if tt.is == ErrVaultForbidden {
				// Setup asks before the admin signs in.
				werr := store.Writable(t.Context())
				assert.ErrorIs(t, werr, ErrReadOnlyStore)
				assert.ErrorIs(t, werr, ErrVaultForbidden)
			}
			for _, secret := range []string{"the-client-secret", "the-refresh-token"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

// TestKeyVaultStoreRotationWritesOneSecret: a rotation's save writes only
// the secret that changed, so that a failure leaves the vault holding the
// old credential whole. Writing the certificate and then failing on the
// unchanged client secret left a certificate-only app's vault holding the
// new certificate, which the rotation then removes from the app as it
// undoes: a store without a working credential.
func TestKeyVaultStoreRotationWritesOneSecret(t *testing.T) {
	t.Parallel()
	for _, kind := range []CredentialKind{CredentialCertificate, CredentialSecret} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s := testserver.New()
			defer s.Close()
			store := newVaultStore(t, s, "rotation", testserver.KeyVaultSecretsOfficer)
			ctx := t.Context()
			first, err := NewCertificate(CertificateOptions{Subject: "first"})
			require.NoError(t, err)
			old := token.Credentials{TenantID: s.Partner().TenantID, ApplicationID: "11111111-2222-3333-4444-555555555555",
				Certificate: first, RefreshToken: token.NewSecret("refresh")}
			if kind == CredentialSecret {
				old.ClientSecret = token.NewSecret("old-secret")
			}
			require.NoError(t, store.Save(ctx, old))

			next, unchanged := old, "sam-test-client-secret"
			if kind == CredentialCertificate {
				next.Certificate, err = NewCertificate(CertificateOptions{Subject: "next"})
				require.NoError(t, err)
			} else {
				next.ClientSecret, unchanged = token.NewSecret("new-secret"), "sam-test-certificate"
			}
			s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusServiceUnavailable, Service: "keyvault", Method: "PUT", Path: unchanged})
			err = store.saveAppCredential(ctx, next)
			got, lerr := store.Load(ctx)
			require.NoError(t, lerr)
			if err != nil {
				assert.Equal(t, first.Thumbprint(), got.Certificate.Thumbprint(), "a failed save keeps the old certificate: %v", err)
				assert.True(t, old.ClientSecret.Equal(got.ClientSecret), "a failed save keeps the old secret: %v", err)
				return
			}
			assert.Equal(t, next.Certificate.Thumbprint(), got.Certificate.Thumbprint())
			assert.True(t, next.ClientSecret.Equal(got.ClientSecret), "the saved secret is the new one")
		})
	}
}
