package sam

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

// The variables EnvStore reads.
const (
	envTenantID             = "SAMKIT_TENANT_ID"
	envApplicationID        = "SAMKIT_APPLICATION_ID"
	envClientSecret         = "SAMKIT_CLIENT_SECRET"
	envRefreshToken         = "SAMKIT_REFRESH_TOKEN"
	envExchangeRefreshToken = "SAMKIT_EXCHANGE_REFRESH_TOKEN"
	envCertificatePath      = "SAMKIT_CERTIFICATE_PATH"
	envCertificatePassword  = "SAMKIT_CERTIFICATE_PASSWORD"
	envCloud                = "SAMKIT_CLOUD"
)

// The names the SecureAppModel PowerShell scripts, and the tools that grew
// from them, have long used for the same values.
const (
	legacyTenantID             = "TenantId"
	legacyApplicationID        = "ApplicationId"
	legacyApplicationSecret    = "ApplicationSecret"
	legacyRefreshToken         = "RefreshToken"
	legacyExchangeRefreshToken = "ExchangeRefreshToken"
)

var samkitVars = []string{envTenantID, envApplicationID, envClientSecret, envRefreshToken, envExchangeRefreshToken, envCertificatePath, envCertificatePassword}

// EnvStore reads credentials from environment variables, for CI jobs,
// containers and functions whose secrets arrive that way:
//
//	SAMKIT_TENANT_ID               the partner tenant (GUID or domain)
//	SAMKIT_APPLICATION_ID          the SAM app's client id
//	SAMKIT_CLIENT_SECRET           its client secret, or
//	SAMKIT_CERTIFICATE_PATH        a PEM or PFX certificate file, and
//	SAMKIT_CERTIFICATE_PASSWORD    its password, if any
//	SAMKIT_REFRESH_TOKEN           the SAM refresh token
//	SAMKIT_EXCHANGE_REFRESH_TOKEN  the legacy Exchange refresh token, if any
//	SAMKIT_CLOUD                   public (the default), usgov, usgovdod or china
//
// When none of the SAMKIT_ variables is set, EnvStore falls back to the
// names of the SecureAppModel PowerShell scripts: TenantId, ApplicationId,
// ApplicationSecret, RefreshToken and ExchangeRefreshToken. The two sets are
// never mixed, so a stale variable of one cannot pair with the other.
//
// Environment variables cannot be written, and that has a cost. Save fails.
// SaveRefreshToken passes each rotated refresh token to OnRotate or, when
// OnRotate is nil, returns an error matching ErrReadOnlyStore, which fails
// the token request of a Provider given the store: so give an EnvStore to
// token.WithRefreshTokenStore only with OnRotate set, as Open does. A Provider with no
// store keeps rotated tokens in memory until the process exits, and every
// run then starts again from the token in the environment. That token is
// never replaced, so it expires (after 90 days of disuse, or sooner if the
// admin's sessions are revoked) and consent must be run again. Keep
// rotations alive by setting OnRotate to write them where the variables
// come from (a secret manager, a pipeline variable), or use a FileStore.
//
// The zero EnvStore reads the process environment. An EnvStore is safe for
// concurrent use when Lookup and OnRotate are.
type EnvStore struct {
	// Lookup returns the value of an environment variable; nil means
	// os.LookupEnv. Tests and programs with their own configuration
	// source set it.
	Lookup func(name string) (string, bool)
	// OnRotate, if set, receives every rotated refresh token.
	OnRotate func(ctx context.Context, kind token.RefreshKind, rt token.Secret) error
}

// get returns a variable's value without surrounding white space, which a
// value pasted into a pipeline setting often gains.
func (s *EnvStore) get(name string) string {
	lookup := s.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, _ := lookup(name)
	return strings.TrimSpace(v)
}

// Load reads the credentials. With neither set of variables present it
// returns an error that matches ErrNoCredentials.
func (s *EnvStore) Load(ctx context.Context) (token.Credentials, error) {
	if err := ctx.Err(); err != nil {
		return token.Credentials{}, err
	}
	for _, name := range samkitVars {
		if s.get(name) != "" {
			return s.load(envTenantID, envApplicationID, envClientSecret, envRefreshToken, envExchangeRefreshToken, true)
		}
	}
	for _, name := range []string{legacyTenantID, legacyApplicationID, legacyApplicationSecret, legacyRefreshToken, legacyExchangeRefreshToken} {
		if s.get(name) != "" {
			return s.load(legacyTenantID, legacyApplicationID, legacyApplicationSecret, legacyRefreshToken, legacyExchangeRefreshToken, false)
		}
	}
	return token.Credentials{}, fmt.Errorf("%w: set %s, %s and %s (with %s or %s)",
		ErrNoCredentials, envTenantID, envApplicationID, envRefreshToken, envClientSecret, envCertificatePath)
}

func (s *EnvStore) load(tenant, app, secret, rt, exchangeRT string, certificates bool) (token.Credentials, error) {
	c := token.Credentials{
		TenantID:             s.get(tenant),
		ApplicationID:        s.get(app),
		ClientSecret:         token.NewSecret(s.get(secret)),
		RefreshToken:         token.NewSecret(s.get(rt)),
		ExchangeRefreshToken: token.NewSecret(s.get(exchangeRT)),
	}
	switch {
	case c.TenantID == "":
		return token.Credentials{}, fmt.Errorf("sam: %s is not set", tenant)
	case c.ApplicationID == "":
		return token.Credentials{}, fmt.Errorf("sam: %s is not set", app)
	}
	if p := s.get(envCertificatePath); certificates && p != "" {
		cert, err := loadCertificate(p, s.get(envCertificatePassword))
		if err != nil {
			return token.Credentials{}, fmt.Errorf("sam: %s: %w", envCertificatePath, err)
		}
		c.Certificate = cert
	}
	return c, nil
}

// Cloud returns the cloud named by SAMKIT_CLOUD, cloud.Public if unset.
func (s *EnvStore) Cloud(ctx context.Context) (cloud.Configuration, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Configuration{}, err
	}
	c, err := cloud.ByName(s.get(envCloud))
	if err != nil {
		return cloud.Configuration{}, fmt.Errorf("sam: %s: %w", envCloud, err)
	}
	return c, nil
}

// RefreshTokenObtainedAt returns the zero time: environment variables do
// not say when their refresh token was obtained.
func (s *EnvStore) RefreshTokenObtainedAt(ctx context.Context) (time.Time, error) {
	return time.Time{}, ctx.Err()
}

// Save always fails: a process cannot change the environment it was given.
func (s *EnvStore) Save(context.Context, token.Credentials) error {
	return fmt.Errorf("%w: environment variables cannot be written; save the credentials with a FileStore, or set %s and the other SAMKIT_ variables where this process gets its environment",
		ErrReadOnlyStore, envRefreshToken)
}

// Writable fails as Save does: environment variables cannot be written.
func (s *EnvStore) Writable(ctx context.Context) error { return s.Save(ctx, token.Credentials{}) }

// SaveRefreshToken hands rt to OnRotate. Without OnRotate it fails, and the
// rotated token is lost (see EnvStore).
func (s *EnvStore) SaveRefreshToken(ctx context.Context, kind token.RefreshKind, rt token.Secret) error {
	name, err := refreshKindName(kind)
	if err != nil {
		return err
	}
	if s.OnRotate != nil {
		if err := s.OnRotate(ctx, kind, rt); err != nil {
			return fmt.Errorf("sam: persisting the rotated %s refresh token: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("%w: the rotated %s refresh token cannot be written to environment variables and was not persisted; set EnvStore.OnRotate to keep it (for example in a secret manager), or use a FileStore",
		ErrReadOnlyStore, name)
}
