package sam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"golang.org/x/sync/errgroup"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

// KeyVaultStore keeps credentials in Azure Key Vault, one secret each,
// under a name prefix (default "samkit"):
//
//	{prefix}-app                     the application id; tags: tenantId, cloud
//	{prefix}-client-secret           the client secret (optional)
//	{prefix}-certificate             the certificate and its key, PEM (optional)
//	{prefix}-refresh-token           the SAM refresh token; tag: obtainedAt
//	{prefix}-exchange-refresh-token  the Exchange refresh token (optional); tag: obtainedAt
//
// An absent credential is an empty value. Every save is a new version of
// the secret, so the vault keeps each rotated refresh token's history. A
// refresh token is never replaced by one obtained earlier: before writing,
// the store reads the current version's obtainedAt tag, and it writes
// nothing when the vault already holds a newer token. Key Vault has no
// conditional write, so two processes sharing a vault can still race
// between the read and the write; the store therefore reads the current
// version again after writing and writes its token once more if an older
// one landed over it. Within one process the store serialises its writes.
//
// The identity the store signs in to the vault as needs the Key Vault
// Secrets Officer role on the vault (or, with access policies, get, list
// and set on secrets). Key Vault's refusals come back as *StoreError
// holding a *KeyVaultError, with what to do.
//
// Make one with NewKeyVaultStore. A KeyVaultStore is safe for concurrent
// use.
type KeyVaultStore struct {
	vaultURL string
	prefix   string
	cloud    string
	client   *azsecrets.Client

	mu  sync.Mutex // serialises writes
	now func() time.Time
}

// KeyVaultOption configures a KeyVaultStore.
type KeyVaultOption func(*keyVaultConfig) error

type keyVaultConfig struct {
	prefix  string
	cloud   string
	cred    azcore.TokenCredential
	credFn  func(azcore.ClientOptions) (azcore.TokenCredential, error)
	options azsecrets.ClientOptions
}

// WithVaultPrefix names the store's secrets {prefix}-...; the default is
// "samkit". Several SAM apps can share a vault under different prefixes.
func WithVaultPrefix(prefix string) KeyVaultOption {
	return func(c *keyVaultConfig) error {
		if !vaultPrefixPattern.MatchString(prefix) {
			return fmt.Errorf("sam: Key Vault prefix %q: use 1-80 letters, digits and dashes", prefix)
		}
		c.prefix = prefix
		return nil
	}
}

var vaultPrefixPattern = regexp.MustCompile(`^[0-9A-Za-z-]{1,80}$`)

// WithVaultCloud records which Microsoft cloud the SAM app's credentials
// belong to; Save writes it as a tag.
func WithVaultCloud(c cloud.Configuration) KeyVaultOption {
	return func(cfg *keyVaultConfig) error { cfg.cloud = c.Name; return nil }
}

// WithVaultCredential signs in to the vault with cred (any
// azcore.TokenCredential).
func WithVaultCredential(cred azcore.TokenCredential) KeyVaultOption {
	return func(c *keyVaultConfig) error { c.cred = cred; return nil }
}

// WithVaultManagedIdentity signs in to the vault as the managed identity of
// the Azure resource the program runs on: the system-assigned one when
// clientID is empty, else the user-assigned identity with that client id.
func WithVaultManagedIdentity(clientID string) KeyVaultOption {
	return func(c *keyVaultConfig) error {
		c.credFn = func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
			opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: o}
			if clientID != "" {
				opts.ID = azidentity.ClientID(clientID)
			}
			return azidentity.NewManagedIdentityCredential(opts)
		}
		return nil
	}
}

// WithVaultEnvironment signs in to the vault as the service principal the
// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or
// AZURE_CLIENT_CERTIFICATE_PATH) environment variables name.
func WithVaultEnvironment() KeyVaultOption {
	return func(c *keyVaultConfig) error {
		c.credFn = func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
			return azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: o})
		}
		return nil
	}
}

// WithVaultAzureCLI signs in to the vault as the account the Azure CLI is
// signed in with (az login).
func WithVaultAzureCLI() KeyVaultOption {
	return func(c *keyVaultConfig) error {
		c.credFn = func(azcore.ClientOptions) (azcore.TokenCredential, error) {
			return azidentity.NewAzureCLICredential(nil)
		}
		return nil
	}
}

// WithVaultClientOptions sets the azsecrets client's options: its
// transport, retries, and DisableChallengeResourceVerification for a vault
// not served under vault.azure.net (the sandbox's). Managed identity and
// environment credentials share the transport and retries.
func WithVaultClientOptions(o azsecrets.ClientOptions) KeyVaultOption {
	return func(c *keyVaultConfig) error { c.options = o; return nil }
}

// NewKeyVaultStore returns a store in the vault at vaultURL
// (https://NAME.vault.azure.net). Without a credential option it signs in
// with azidentity's DefaultAzureCredential: the environment, workload
// identity, managed identity, then the Azure CLI. Nothing is read or
// written until the store is used.
func NewKeyVaultStore(vaultURL string, opts ...KeyVaultOption) (*KeyVaultStore, error) {
	if !strings.HasPrefix(vaultURL, "https://") {
		return nil, fmt.Errorf("sam: Key Vault URL %q: use https://NAME.vault.azure.net", vaultURL)
	}
	cfg := keyVaultConfig{prefix: "samkit"}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	cred := cfg.cred
	if cred == nil {
		fn := cfg.credFn
		if fn == nil {
			fn = func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
				return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: o})
			}
		}
		var err error
		if cred, err = fn(cfg.options.ClientOptions); err != nil {
			return nil, fmt.Errorf("sam: Key Vault %s: the vault's credential: %w", vaultURL, err)
		}
	}
	client, err := azsecrets.NewClient(strings.TrimRight(vaultURL, "/"), cred, &cfg.options)
	if err != nil {
		return nil, fmt.Errorf("sam: Key Vault %s: %w", vaultURL, err)
	}
	return &KeyVaultStore{vaultURL: strings.TrimRight(vaultURL, "/"), prefix: cfg.prefix, cloud: cfg.cloud, client: client, now: time.Now}, nil
}

// VaultURL returns the vault the store reads and writes.
func (s *KeyVaultStore) VaultURL() string { return s.vaultURL }

// Prefix returns the prefix of the store's secret names.
func (s *KeyVaultStore) Prefix() string { return s.prefix }

// The secrets' names after the prefix, and the tags the store writes.
const (
	kvApp             = "app"
	kvClientSecret    = "client-secret"
	kvCertificate     = "certificate"
	kvRefresh         = "refresh-token"
	kvExchangeRefresh = "exchange-refresh-token"
	tagTenant         = "tenantId"
	tagCloud          = "cloud"
	tagObtainedAt     = "obtainedAt"
)

func (s *KeyVaultStore) name(part string) string { return s.prefix + "-" + part }

// get reads the current version of a secret; a missing one is ("", nil,
// false, nil).
func (s *KeyVaultStore) get(ctx context.Context, part string) (value string, tags map[string]*string, found bool, err error) {
	r, err := s.client.GetSecret(ctx, s.name(part), "", nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			return "", nil, false, nil
		}
		return "", nil, false, s.vaultError("get", s.name(part), err)
	}
	if r.Value != nil {
		value = *r.Value
	}
	return value, r.Tags, true, nil
}

func (s *KeyVaultStore) set(ctx context.Context, part, value string, tags map[string]string) error {
	t := make(map[string]*string, len(tags))
	for k, v := range tags {
		t[k] = &v
	}
	contentType := "text/plain"
	if part == kvCertificate {
		contentType = "application/x-pem-file"
	}
	_, err := s.client.SetSecret(ctx, s.name(part), azsecrets.SetSecretParameters{Value: &value, Tags: t, ContentType: &contentType}, nil)
	if err != nil {
		return s.vaultError("set", s.name(part), err)
	}
	return nil
}

// Load reads the credentials: each secret's current version.
func (s *KeyVaultStore) Load(ctx context.Context) (token.Credentials, error) {
	app, tags, found, err := s.get(ctx, kvApp)
	if err != nil {
		return token.Credentials{}, err
	}
	if !found || app == "" {
		return token.Credentials{}, fmt.Errorf("%w: Key Vault %s has no secret %s; run setup with this vault as the store",
			ErrNoCredentials, s.vaultURL, s.name(kvApp))
	}
	c := token.Credentials{ApplicationID: app, TenantID: tagValue(tags, tagTenant)}
	// The other four secrets are read at once: a vault is often a region
	// away.
	parts := []string{kvClientSecret, kvRefresh, kvExchangeRefresh, kvCertificate}
	values := make([]string, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	for i, part := range parts {
		g.Go(func() (err error) {
			values[i], _, _, err = s.get(gctx, part)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return token.Credentials{}, err
	}
	c.ClientSecret, c.RefreshToken, c.ExchangeRefreshToken = token.NewSecret(values[0]), token.NewSecret(values[1]), token.NewSecret(values[2])
	if values[3] != "" {
		if c.Certificate, err = token.ParseCertificate([]byte(values[3]), ""); err != nil {
			return token.Credentials{}, fmt.Errorf("sam: Key Vault %s: secret %s: %w", s.vaultURL, s.name(kvCertificate), err)
		}
	}
	return c, nil
}

// Cloud returns the Microsoft cloud recorded with the credentials
// (cloud.Public when none is).
func (s *KeyVaultStore) Cloud(ctx context.Context) (cloud.Configuration, error) {
	_, tags, _, err := s.get(ctx, kvApp)
	if err != nil {
		return cloud.Configuration{}, err
	}
	c, err := cloud.ByName(tagValue(tags, tagCloud))
	if err != nil {
		return cloud.Configuration{}, fmt.Errorf("sam: Key Vault %s: secret %s: %w", s.vaultURL, s.name(kvApp), err)
	}
	return c, nil
}

// RefreshTokenObtainedAt returns when the vault's SAM refresh token was
// obtained, from its current version's obtainedAt tag; the zero time
// when the vault holds none or the tag is missing.
func (s *KeyVaultStore) RefreshTokenObtainedAt(ctx context.Context) (time.Time, error) {
	_, tags, _, err := s.get(ctx, kvRefresh)
	if err != nil {
		return time.Time{}, err
	}
	t, _ := obtainedTag(tags)
	return t, nil
}

// Save writes every credential as a new version of its secret. A refresh
// token the vault holds already keeps its obtainedAt; a new one is stamped
// now. The app's secret is written last, so that a Save cut short leaves
// no half-set store that Load would take for whole on a first setup.
func (s *KeyVaultStore) Save(ctx context.Context, c token.Credentials) error {
	if c.TenantID == "" || c.ApplicationID == "" {
		return errors.New("sam: credentials to save need a tenant id and an application id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.set(ctx, kvClientSecret, c.ClientSecret.Reveal(), nil); err != nil {
		return err
	}
	cert, err := certificatePEM(c.Certificate)
	if err != nil {
		return err
	}
	if err := s.set(ctx, kvCertificate, cert, nil); err != nil {
		return err
	}
	for _, x := range []struct {
		part string
		rt   token.Secret
	}{{kvRefresh, c.RefreshToken}, {kvExchangeRefresh, c.ExchangeRefreshToken}} {
		held, tags, _, err := s.get(ctx, x.part)
		if err != nil {
			return err
		}
		at := s.now().UTC()
		if held == x.rt.Reveal() {
			if t, ok := obtainedTag(tags); ok {
				at = t
			}
		}
		if err := s.set(ctx, x.part, x.rt.Reveal(), map[string]string{tagObtainedAt: at.Format(time.RFC3339Nano)}); err != nil {
			return err
		}
	}
	cl := s.cloud
	if cl == "" {
		_, tags, _, err := s.get(ctx, kvApp)
		if err != nil {
			return err
		}
		cl = tagValue(tags, tagCloud)
	}
	return s.set(ctx, kvApp, c.ApplicationID, map[string]string{tagTenant: c.TenantID, tagCloud: cl})
}

// saveAppCredential writes the client secret and the certificate alone,
// for a rotation: the refresh token in the vault may have been rotated by
// another process since c was loaded, and must not step back.
func (s *KeyVaultStore) saveAppCredential(ctx context.Context, c token.Credentials) error {
	app, tags, found, err := s.get(ctx, kvApp)
	if err != nil {
		return err
	}
	if !found || !strings.EqualFold(app, c.ApplicationID) || !strings.EqualFold(tagValue(tags, tagTenant), c.TenantID) {
		return fmt.Errorf("sam: Key Vault %s holds the credentials of another app under %s-*: the new credential of %s was not saved", s.vaultURL, s.prefix, c.ApplicationID)
	}
	cert, err := certificatePEM(c.Certificate)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Only what changed is written: a rotation changes one secret, so a
	// failed write leaves the old credential whole, which the rotation
	// keeps as it removes the new one from the app.
	heldSecret, _, _, err := s.get(ctx, kvClientSecret)
	if err != nil {
		return err
	}
	heldCert, _, _, err := s.get(ctx, kvCertificate)
	if err != nil {
		return err
	}
	if !s.holdsCertificate(heldCert, c.Certificate) {
		// The certificate goes first: a save that stops between the two
		// writes leaves a store whose secret still works.
		if err := s.set(ctx, kvCertificate, cert, nil); err != nil {
			return err
		}
	}
	if !c.ClientSecret.Equal(token.NewSecret(heldSecret)) {
		return s.set(ctx, kvClientSecret, c.ClientSecret.Reveal(), nil)
	}
	return nil
}

// holdsCertificate reports whether pemText, the vault's certificate
// secret, holds c ("" and nil for none).
func (s *KeyVaultStore) holdsCertificate(pemText string, c *token.Certificate) bool {
	if pemText == "" {
		return c == nil || len(c.Chain) == 0
	}
	held, err := token.ParseCertificate([]byte(pemText), "")
	return err == nil && c != nil && len(c.Chain) > 0 && sameCertificate(held, c)
}

// SaveRefreshToken saves a rotated refresh token as
// SaveRefreshTokenObtained does, obtained now.
func (s *KeyVaultStore) SaveRefreshToken(ctx context.Context, kind token.RefreshKind, rt token.Secret) error {
	return s.SaveRefreshTokenObtained(ctx, kind, rt, s.now())
}

// SaveRefreshTokenObtained saves rt, obtained at at, as a new version of
// its secret, unless the vault's current version was obtained later: then
// the vault keeps it (both work, and the newer lives longer). The store
// must hold credentials already.
func (s *KeyVaultStore) SaveRefreshTokenObtained(ctx context.Context, kind token.RefreshKind, rt token.Secret, at time.Time) error {
	name, err := refreshKindName(kind)
	if err != nil {
		return err
	}
	if rt.IsZero() {
		return fmt.Errorf("sam: refusing to save an empty %s refresh token", name)
	}
	part := kvRefresh
	if kind == token.RefreshExchange {
		part = kvExchangeRefresh
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The second pass catches another process's older token written
	// between this one's read and write.
	for range 2 {
		_, tags, found, err := s.get(ctx, part)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("sam: cannot save the rotated %s refresh token: %w: Key Vault %s has no secret %s",
				name, ErrNoCredentials, s.vaultURL, s.name(part))
		}
		if held, ok := obtainedTag(tags); ok && !at.After(held) {
			return nil // the vault's token is as new or newer
		}
		if err := s.set(ctx, part, rt.Reveal(), map[string]string{tagObtainedAt: at.UTC().Format(time.RFC3339Nano)}); err != nil {
			return err
		}
	}
	return nil
}

// Writable checks that the identity may write the vault's secrets by
// writing the store's check secret ({prefix}-write-check); the
// credentials are left as they are.
func (s *KeyVaultStore) Writable(ctx context.Context) error {
	err := s.set(ctx, "write-check", "ok", map[string]string{"purpose": "samkit checks it may write here"})
	if err != nil {
		var se *StoreError
		if errors.As(err, &se) {
			return &StoreError{Err: readOnlyError{se.Err}, Fix: se.Fix}
		}
		return readOnlyError{err}
	}
	return nil
}

func tagValue(tags map[string]*string, k string) string {
	if v := tags[k]; v != nil {
		return *v
	}
	return ""
}

func obtainedTag(tags map[string]*string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, tagValue(tags, tagObtainedAt))
	return t, err == nil
}
