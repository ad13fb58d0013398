package sam

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestStoresThroughTheInterface: every Store says, through the interface
// alone, which cloud its credentials belong to and when its refresh token
// was last rotated, and keeps a certificate.
func TestStoresThroughTheInterface(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	cert, err := NewCertificate(CertificateOptions{Subject: "store test"})
	require.NoError(t, err)
	rotatedAt := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for _, tc := range []struct {
		name  string
		store Store
		cloud string
	}{
		{"file", NewFileStore(t.TempDir()+"/creds.json", WithFileCloud(cloud.USGovernment)), "usgov"},
		{"key vault", newVaultStore(t, s, "iface", testserver.KeyVaultSecretsOfficer), "usgov"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCredentials()
			c.ClientSecret, c.Certificate = token.Secret{}, cert
			require.NoError(t, tc.store.Save(t.Context(), c))
			cl, err := tc.store.Cloud(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tc.cloud, cl.Name)
			at, err := tc.store.RefreshTokenObtainedAt(t.Context())
			require.NoError(t, err)
			assert.False(t, at.IsZero(), "a saved refresh token has a time")

			rs, ok := tc.store.(token.RefreshTokenObtainedStore)
			require.True(t, ok, "the store keeps when each rotated token was obtained")
			require.NoError(t, rs.SaveRefreshTokenObtained(t.Context(), token.RefreshSAM, token.NewSecret("older"), at.Add(-time.Hour)))
			again, err := tc.store.RefreshTokenObtainedAt(t.Context())
			require.NoError(t, err)
			assert.True(t, again.Equal(at), "an older token does not step the store back")
			require.NoError(t, rs.SaveRefreshTokenObtained(t.Context(), token.RefreshSAM, token.NewSecret("rotated"), rotatedAt))
			at, err = tc.store.RefreshTokenObtainedAt(t.Context())
			require.NoError(t, err)
			assert.True(t, at.Equal(rotatedAt), "RefreshTokenObtainedAt = %v, want the rotation's %v", at, rotatedAt)

			got, err := tc.store.Load(t.Context())
			require.NoError(t, err)
			require.NotNil(t, got.Certificate)
			assert.Equal(t, cert.Thumbprint(), got.Certificate.Thumbprint())
			assert.True(t, got.ClientSecret.IsZero())
		})
	}

	env := &EnvStore{Lookup: mapLookup(map[string]string{envCloud: "china"})}
	cl, err := env.Cloud(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "china", cl.Name)
	at, err := env.RefreshTokenObtainedAt(t.Context())
	require.NoError(t, err)
	assert.True(t, at.IsZero(), "environment variables do not say")
}
