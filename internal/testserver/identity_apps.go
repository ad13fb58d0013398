package testserver

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Helpers for tests that need the SAM app to exist, or a refresh token to
// exist, without driving Graph and a consent sign-in first.

// AppSpec describes an app registration for RegisterApp. The zero value is
// a SAM app: confidential, with a secret, a loopback web redirect URI and
// the permissions of DefaultRequiredResourceAccess, consented by the
// partner's admin.
type AppSpec struct {
	// DisplayName defaults to "SAM (sandbox)".
	DisplayName string
	// WebRedirectURIs are the web platform's redirect URIs (a code sent
	// there is redeemed with a credential); {"http://localhost"} when both
	// lists are empty.
	WebRedirectURIs []string
	// PublicRedirectURIs are the mobile and desktop platform's.
	PublicRedirectURIs []string
	// PublicClient allows public client flows (isFallbackPublicClient):
	// the device code flow without a credential.
	PublicClient bool
	// RequiredResourceAccess defaults to DefaultRequiredResourceAccess().
	RequiredResourceAccess []RequiredResourceAccess
	// NoSecret registers no client secret.
	NoSecret bool
	// SecretLifetime is how long the secret lives (default two years,
	// Graph's addPassword default).
	SecretLifetime time.Duration
	// Certificate registers a new self-signed certificate credential.
	Certificate bool
	// NoConsent leaves the app without a service principal and grants in
	// the partner tenant, as if the admin had not consented yet.
	NoConsent bool
}

// AppInfo is what RegisterApp created.
type AppInfo struct {
	AppID, ObjectID string
	// ServicePrincipalID is the app's service principal in the partner
	// tenant ("" with NoConsent).
	ServicePrincipalID string
	// Secret is the client secret value, SecretKeyID its id ("" with
	// NoSecret).
	Secret, SecretKeyID string
	// Certificate and Key are the certificate credential and its private
	// key (nil unless AppSpec.Certificate).
	Certificate *x509.Certificate
	Key         *rsa.PrivateKey
}

// CertificatePEM returns the certificate and its PKCS #8 private key in
// PEM, as a certificate file holding both is usually stored; nil without a
// certificate.
func (a AppInfo) CertificatePEM() []byte {
	if a.Certificate == nil || a.Key == nil {
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(a.Key)
	if err != nil {
		return nil
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Certificate.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
}

// DefaultRequiredResourceAccess is the SAM app's default manifest: Graph
// User.Read.All and Directory.Read.All (delegated) with Directory.Read.All
// (application), offline_access, openid and profile; Exchange.Manage and
// Exchange.ManageAsApp; Partner Center user_impersonation.
func DefaultRequiredResourceAccess() []RequiredResourceAccess {
	return []RequiredResourceAccess{
		{ResourceAppID: GraphAppID, ResourceAccess: []ResourceAccess{
			{ID: "a154be20-db9c-4678-8ab7-66f6cc099a59", Type: "Scope"}, // User.Read.All
			{ID: "06da0dbc-49e2-44d2-8312-53f166ab848a", Type: "Scope"}, // Directory.Read.All
			{ID: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", Type: "Scope"}, // offline_access
			{ID: "37f7f235-527c-4136-accd-4a02d197296e", Type: "Scope"}, // openid
			{ID: "14dad69e-099b-42c9-810b-d002981feec1", Type: "Scope"}, // profile
			{ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Type: "Role"},  // Directory.Read.All
		}},
		{ResourceAppID: ExchangeAppID, ResourceAccess: []ResourceAccess{
			{ID: "ab4f2b77-0b06-4fc1-a9de-02113fc2ab7c", Type: "Scope"}, // Exchange.Manage
			{ID: "dc50a0fb-09a3-484d-be87-e023b12c6440", Type: "Role"},  // Exchange.ManageAsApp
		}},
		{ResourceAppID: PartnerCenterAppID, ResourceAccess: []ResourceAccess{
			{ID: "1cebfa2a-fb4d-419e-b5f9-839b4383e05a", Type: "Scope"}, // user_impersonation
		}},
	}
}

// RegisterApp creates a multi-tenant app registration in the partner
// tenant, as the SAM setup does through Graph: a secret, optionally a
// certificate, redirect URIs, requiredResourceAccess, and unless
// spec.NoConsent its service principal and the admin's consent to every
// permission it declares.
func (s *Server) RegisterApp(spec AppSpec) (AppInfo, error) {
	name := spec.DisplayName
	if name == "" {
		name = "SAM (sandbox)"
	}
	web, public := spec.WebRedirectURIs, spec.PublicRedirectURIs
	if len(web) == 0 && len(public) == 0 {
		web = []string{"http://localhost"}
	}
	rra := spec.RequiredResourceAccess
	if rra == nil {
		rra = DefaultRequiredResourceAccess()
	}
	now := s.clock.Now()
	app := &App{ObjectID: newID(), AppID: newID(), DisplayName: name, SignInAudience: "AzureADMultipleOrgs",
		RequiredResourceAccess: rra, WebRedirectURIs: web, PublicRedirectURIs: public,
		IsFallbackPublicClient: spec.PublicClient, CreatedAt: now}
	info := AppInfo{AppID: app.AppID, ObjectID: app.ObjectID}
	if spec.Certificate {
		// Generated before taking the lock: an RSA key takes a while.
		cert, key, err := selfSignedCertificate(name, now)
		if err != nil {
			return AppInfo{}, err
		}
		app.Certificates = []*KeyCredential{{KeyID: newID(), Certificate: cert, Start: cert.NotBefore, End: cert.NotAfter}}
		info.Certificate, info.Key = cert, key
	}
	if !spec.NoSecret {
		lifetime := spec.SecretLifetime
		if lifetime <= 0 {
			lifetime = 2 * 365 * 24 * time.Hour
		}
		p := &PasswordCredential{KeyID: newID(), DisplayName: "samkit", Secret: clientSecret(), Start: now, End: now.Add(lifetime)}
		app.Passwords = []*PasswordCredential{p}
		info.Secret, info.SecretKeyID = p.Secret, p.KeyID
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.world.Partner
	app.HomeTenant = p.ID
	s.world.Apps[app.AppID] = app
	if !spec.NoConsent {
		if err := s.grantConsentLocked(app.AppID, p.ID); err != nil {
			return AppInfo{}, err
		}
		info.ServicePrincipalID = p.ServicePrincipalByAppID(app.AppID).ID
	}
	return info, nil
}

// MintOption adjusts MintRefreshToken.
type MintOption func(*mintConfig)

type mintConfig struct {
	userID        string
	public, noMFA bool
	scope         string
	issuedAt      time.Time
}

// MintForUser mints the token for another user than the partner admin.
func MintForUser(userID string) MintOption { return func(c *mintConfig) { c.userID = userID } }

// MintPublic mints a public client's token (redeemed without a secret),
// whatever credentials the app has.
func MintPublic() MintOption { return func(c *mintConfig) { c.public = true } }

// MintWithoutMFA mints a token whose sign-in used no MFA: its access
// tokens' amr lacks "mfa".
func MintWithoutMFA() MintOption { return func(c *mintConfig) { c.noMFA = true } }

// MintScope sets the scope the token was minted with, which a refresh
// request without a scope gets (default
// "https://graph.microsoft.com/.default offline_access openid profile").
func MintScope(scope string) MintOption { return func(c *mintConfig) { c.scope = scope } }

// MintIssuedAt backdates the token (its idle lifetime runs from its issue).
func MintIssuedAt(t time.Time) MintOption { return func(c *mintConfig) { c.issuedAt = t } }

// MintRefreshToken returns a refresh token of appID for the partner admin,
// as if the consent sign-in had happened: a confidential client's token
// when the app has a secret or certificate and is not a public client, and
// one whose sign-in used MFA. It grants nothing: redeeming it still needs
// consent in the tenant asked for.
func (s *Server) MintRefreshToken(appID string, opts ...MintOption) (string, error) {
	var c mintConfig
	for _, o := range opts {
		o(&c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.world.Apps[appID]
	if app == nil {
		return "", fmt.Errorf("testserver: no app %s", appID)
	}
	u := s.world.Partner.Admin()
	if c.userID != "" {
		u = s.userLocked("", c.userID)
	}
	if u == nil {
		return "", fmt.Errorf("testserver: no user %s", c.userID)
	}
	scope := c.scope
	if scope == "" {
		scope = s.world.Apps[GraphAppID].Resource + "/.default offline_access openid profile"
	}
	confidential := !c.public && !app.PublicClient && len(app.Passwords)+len(app.Certificates) > 0
	v := s.newRefreshTokenLocked(app.AppID, u, confidential, !c.noMFA, scope)
	if !c.issuedAt.IsZero() {
		s.world.RefreshTokens[v].IssuedAt = c.issuedAt
	}
	return v, nil
}

// RevokeSessions revokes every refresh token of a user issued until now,
// as "Revoke sessions" in the portal or a password reset does: redeeming
// one answers AADSTS50173.
func (s *Server) RevokeSessions(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked("", userID)
	if u == nil {
		return fmt.Errorf("testserver: no user %s", userID)
	}
	u.RevokedBefore = s.clock.Now()
	return nil
}

// AddSecret adds a client secret that lives for lifetime (two years when
// 0) to app appID and returns it, its value included.
func (s *Server) AddSecret(appID string, lifetime time.Duration) (PasswordCredential, error) {
	if lifetime <= 0 {
		lifetime = 2 * 365 * 24 * time.Hour
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.world.Apps[appID]
	if app == nil {
		return PasswordCredential{}, fmt.Errorf("testserver: no app %s", appID)
	}
	now := s.clock.Now()
	p := &PasswordCredential{KeyID: newID(), DisplayName: "samkit", Secret: clientSecret(), Start: now, End: now.Add(lifetime)}
	app.Passwords = append(app.Passwords, p)
	return *p, nil
}

// ExpireSecrets ends every client secret of app appID now: using one
// answers AADSTS7000222.
func (s *Server) ExpireSecrets(appID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.world.Apps[appID]
	if app == nil {
		return fmt.Errorf("testserver: no app %s", appID)
	}
	if len(app.Passwords) == 0 {
		return errors.New("testserver: the app has no secrets")
	}
	now := s.clock.Now()
	for _, p := range app.Passwords {
		p.End = now
	}
	return nil
}

// clientSecret makes a secret shaped like the identity platform's: 40
// characters, "8Q~" after a three-character hint.
func clientSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~"
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	b[3], b[4] = '8', 'Q'
	b[5] = '~'
	return string(b)
}

func selfSignedCertificate(name string, now time.Time) (*x509.Certificate, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}
