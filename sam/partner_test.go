package sam

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

// setUpPartner runs Setup on a fake and returns the credentials it saved.
func setUpPartner(t *testing.T) (*setupEnv, token.Credentials) {
	t.Helper()
	e := newSetupEnv(t)
	e.setup(t.Context(), e.options())
	creds, err := e.store.Load(t.Context())
	require.NoError(t, err)
	return e, creds
}

func TestOpenRefusesNilStore(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "store is nil")
}

// TestOpenEnvStore: an EnvStore without OnRotate cannot keep a rotated
// refresh token, so Open does not give it one, and tokens still come.
func TestOpenEnvStore(t *testing.T) {
	t.Parallel()
	e, creds := setUpPartner(t)
	vars := map[string]string{
		"SAMKIT_TENANT_ID": creds.TenantID, "SAMKIT_APPLICATION_ID": creds.ApplicationID,
		"SAMKIT_CLIENT_SECRET": creds.ClientSecret.Reveal(), "SAMKIT_REFRESH_TOKEN": creds.RefreshToken.Reveal(),
	}
	for name, rotated := range map[string]*int{"without OnRotate": nil, "with OnRotate": new(int)} {
		t.Run(name, func(t *testing.T) {
			env := &EnvStore{Lookup: func(n string) (string, bool) { v, ok := vars[n]; return v, ok }}
			if rotated != nil {
				env.OnRotate = func(context.Context, token.RefreshKind, token.Secret) error { *rotated++; return nil }
			}
			p, err := Open(t.Context(), env, WithCloud(e.s.Cloud()), WithHTTPClient(e.s.Client()))
			require.NoError(t, err)
			assert.Same(t, env, p.Store())
			assert.Equal(t, creds.TenantID, p.Provider().TenantID())
			_, err = p.Provider().Token(t.Context(), creds.TenantID, e.s.Cloud().Graph.Scope())
			require.NoError(t, err, "a delegated token, whose refresh token rotates")
			if rotated != nil {
				assert.Equal(t, 1, *rotated, "OnRotate received the rotated refresh token")
			}
		})
	}
}

func TestPartnerAccessors(t *testing.T) {
	t.Parallel()
	creds := token.Credentials{TenantID: "contoso.onmicrosoft.com", ApplicationID: "5e1c1a2b-0000-4000-8000-00000000a11d",
		ClientSecret: token.NewSecret("not-used-here")}
	p, err := New(creds)
	require.NoError(t, err)
	assert.Equal(t, cloud.Public, p.Cloud(), "New defaults to the public cloud")
	assert.Nil(t, p.Store())
	assert.Equal(t, creds.ApplicationID, p.Provider().ApplicationID())

	p, err = New(creds, WithCloud(cloud.China))
	require.NoError(t, err)
	assert.Equal(t, cloud.China, p.Cloud())

	_, err = New(token.Credentials{TenantID: creds.TenantID})
	assert.Error(t, err, "credentials without an application")
}

// TestRotateSecretRefusedEarly: what RotateSecret can tell is wrong stops
// it before an admin is asked to sign in.
func TestRotateSecretRefusedEarly(t *testing.T) {
	t.Parallel()
	e, creds := setUpPartner(t)
	signIn := e.options().AdminSignIn
	events := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.events)
	}
	noStore, err := New(creds, WithCloud(e.s.Cloud()), WithHTTPClient(e.s.Client()))
	require.NoError(t, err)
	for name, c := range map[string]struct {
		p    *Partner
		opts RotateOptions
		want string
	}{
		"no store":       {noStore, RotateOptions{AdminSignIn: signIn, Progress: e.record}, "has none"},
		"short lifetime": {e.partner(), RotateOptions{AdminSignIn: signIn, Progress: e.record, Lifetime: time.Minute}, "outside 1h–2 years"},
	} {
		before := events()
		_, err := c.p.RotateSecret(t.Context(), c.opts)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
		assert.Equal(t, before, events(), "%s: no sign-in step ran", name)
	}
}
