package sam

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samkit/samkit/token"
)

func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestEnvStoreLoad(t *testing.T) {
	t.Parallel()
	const (
		tenant = "11111111-1111-1111-1111-111111111111"
		app    = "22222222-2222-2222-2222-222222222222"
	)
	tests := []struct {
		name string
		env  map[string]string
		want token.Credentials
	}{
		{
			name: "samkit variables",
			env: map[string]string{
				envTenantID: tenant, envApplicationID: app, envClientSecret: testSecret,
				envRefreshToken: testRT, envExchangeRefreshToken: testExchangeRT,
			},
			want: testCredentials(),
		},
		{
			name: "white space around pasted values",
			env:  map[string]string{envTenantID: " " + tenant + "\n", envApplicationID: app + "\r\n", envRefreshToken: "\t" + testRT + "\n"},
			want: token.Credentials{TenantID: tenant, ApplicationID: app, RefreshToken: token.NewSecret(testRT)},
		},
		{
			name: "SecureAppModel names",
			env: map[string]string{
				legacyTenantID: tenant, legacyApplicationID: app, legacyApplicationSecret: testSecret,
				legacyRefreshToken: testRT, legacyExchangeRefreshToken: testExchangeRT,
			},
			want: testCredentials(),
		},
		{
			name: "the two sets are not mixed",
			env: map[string]string{
				envTenantID: tenant, envApplicationID: app, envClientSecret: testSecret,
				legacyRefreshToken: "stale", legacyExchangeRefreshToken: "stale",
			},
			want: token.Credentials{TenantID: tenant, ApplicationID: app, ClientSecret: token.NewSecret(testSecret)},
		},
		{
			name: "an empty samkit variable does not count",
			env: map[string]string{
				envTenantID: "", legacyTenantID: tenant, legacyApplicationID: app, legacyRefreshToken: testRT,
			},
			want: token.Credentials{TenantID: tenant, ApplicationID: app, RefreshToken: token.NewSecret(testRT)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := (&EnvStore{Lookup: mapLookup(tt.env)}).Load(t.Context())
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			assertSameCredentials(t, got, tt.want)
		})
	}
}

func TestEnvStoreLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
		is   error
	}{
		{"nothing set", map[string]string{"PATH": "/bin", envCloud: "usgov"}, envTenantID, ErrNoCredentials},
		{"no tenant", map[string]string{envApplicationID: "a", envRefreshToken: testRT}, envTenantID + " is not set", nil},
		{"no application", map[string]string{envTenantID: "t", envRefreshToken: testRT}, envApplicationID + " is not set", nil},
		{"legacy without application", map[string]string{legacyTenantID: "t", legacyRefreshToken: testRT}, "ApplicationId is not set", nil},
		{"missing certificate", map[string]string{envTenantID: "t", envApplicationID: "a", envCertificatePath: filepath.Join(t.TempDir(), "nope.pfx")}, "nope.pfx", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := (&EnvStore{Lookup: mapLookup(tt.env)}).Load(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load() error = %v, want one containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Load() error = %v, want it to match %v", err, tt.is)
			}
		})
	}
}

func TestEnvStoreCertificate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sam.pem")
	writeTestCertificate(t, path)
	got, err := (&EnvStore{Lookup: mapLookup(map[string]string{
		envTenantID: "t", envApplicationID: "a", envCertificatePath: path,
	})}).Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if got.Certificate == nil || got.Certificate.Key == nil {
		t.Errorf("Load() certificate = %+v, want the one in %s", got.Certificate, path)
	}
}

func TestEnvStoreCloud(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]string{"": "public", "usgov": "usgov", " China ": "china"} {
		c, err := (&EnvStore{Lookup: mapLookup(map[string]string{envCloud: value})}).Cloud(t.Context())
		if err != nil || c.Name != want {
			t.Errorf("Cloud() with %s=%q = %q, %v; want %q", envCloud, value, c.Name, err, want)
		}
	}
	if _, err := (&EnvStore{Lookup: mapLookup(map[string]string{envCloud: "mars"})}).Cloud(t.Context()); err == nil || !strings.Contains(err.Error(), envCloud) {
		t.Errorf("Cloud() with an unknown cloud: error = %v, want one naming %s", err, envCloud)
	}
}

func TestEnvStoreIsReadOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := &EnvStore{Lookup: mapLookup(nil)}
	err := s.Save(ctx, testCredentials())
	if !errors.Is(err, ErrReadOnlyStore) || !strings.Contains(err.Error(), "environment variables cannot be written") {
		t.Errorf("Save() error = %v, want ErrReadOnlyStore explaining why", err)
	}
	err = s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret(testRT))
	if !errors.Is(err, ErrReadOnlyStore) || !strings.Contains(err.Error(), "not persisted") || !strings.Contains(err.Error(), "OnRotate") {
		t.Errorf("SaveRefreshToken() error = %v, want ErrReadOnlyStore saying the token was not persisted and how to keep it", err)
	}
}

func TestEnvStoreOnRotate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var gotKind token.RefreshKind
	var gotRT token.Secret
	s := &EnvStore{OnRotate: func(_ context.Context, kind token.RefreshKind, rt token.Secret) error {
		gotKind, gotRT = kind, rt
		return nil
	}}
	if err := s.SaveRefreshToken(ctx, token.RefreshExchange, token.NewSecret("rotated")); err != nil {
		t.Fatalf("SaveRefreshToken() error = %v", err)
	}
	if gotKind != token.RefreshExchange || gotRT.Reveal() != "rotated" {
		t.Errorf("OnRotate got kind %v and a different token, want the Exchange token passed", gotKind)
	}
	failure := errors.New("vault unreachable")
	s.OnRotate = func(context.Context, token.RefreshKind, token.Secret) error { return failure }
	if err := s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("x")); !errors.Is(err, failure) {
		t.Errorf("SaveRefreshToken() error = %v, want the OnRotate error wrapped", err)
	}
	if err := s.SaveRefreshToken(ctx, token.RefreshKind(99), token.NewSecret("x")); err == nil {
		t.Errorf("SaveRefreshToken() of an unknown kind succeeded, want an error")
	}
}

func TestEnvStoreReadsProcessEnvironment(t *testing.T) {
	t.Setenv(envTenantID, "t")
	t.Setenv(envApplicationID, "a")
	t.Setenv(envRefreshToken, testRT)
	got, err := (&EnvStore{}).Load(t.Context())
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if got.TenantID != "t" || got.RefreshToken.Reveal() != testRT {
		t.Errorf("Load() did not read the process environment")
	}
}
