package token

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/samkit/samkit/internal/httpx"
	"software.sslmate.com/src/go-pkcs12"
)

// Credentials are what a partner stores to reach its customers through
// the SAM app: the app's identity and secret or certificate, and the
// refresh tokens of the admin's consent sign-in. Every secret is a Secret,
// so printing Credentials, in any format, prints no secret.
type Credentials struct {
	// TenantID is the partner's own tenant (GUID or domain), where the SAM
	// app is registered.
	TenantID string
	// ApplicationID is the SAM app's application (client) ID.
	ApplicationID string
	// ClientSecret is the value of one of the app's client secrets. When
	// set it is used in preference to Certificate.
	ClientSecret Secret
	// Certificate authenticates the app with a signed client assertion
	// when there is no ClientSecret.
	Certificate *Certificate
	// RefreshToken is the SAM refresh token from the admin's consent
	// sign-in; needed for delegated tokens.
	RefreshToken Secret
	// ExchangeRefreshToken is a refresh token of the Exchange Online
	// PowerShell public client; needed only for LegacyExchangeToken.
	ExchangeRefreshToken Secret
}

// Certificate is an app credential: an X.509 certificate registered on the
// SAM app and its RSA private key. Printing a Certificate, in any format
// or as JSON or a log value, shows its subject, thumbprint and expiry,
// never its key.
type Certificate struct {
	// Chain is the certificate first, then any issuers.
	Chain []*x509.Certificate
	// Key signs client assertions. The identity platform accepts only
	// RS256 assertions, so its public key must be RSA.
	Key crypto.Signer
}

// Thumbprint returns the certificate's SHA-256 thumbprint in hex, the
// x5t#S256 of its client assertions.
func (c Certificate) Thumbprint() string {
	if len(c.Chain) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Chain[0].Raw)
	return hex.EncodeToString(sum[:])
}

// SHA1Thumbprint returns the certificate's SHA-1 thumbprint in upper-case
// hex: the one an app registration names it by (Graph's keyCredential
// customKeyIdentifier holds it in base64), which samctl inspect shows.
func (c Certificate) SHA1Thumbprint() string {
	if len(c.Chain) == 0 {
		return ""
	}
	sum := sha1.Sum(c.Chain[0].Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// String describes the certificate without its key.
func (c Certificate) String() string {
	if len(c.Chain) == 0 {
		return "token.Certificate{}"
	}
	leaf := c.Chain[0]
	return fmt.Sprintf("token.Certificate{Subject: %q, SHA256: %s, NotAfter: %s, Key: %s}",
		leaf.Subject.String(), c.Thumbprint(), leaf.NotAfter.UTC().Format(time.RFC3339), redacted)
}

// GoString is String, so that %#v does not print the key.
func (c Certificate) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Certificate) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// LogValue makes slog print String.
func (c Certificate) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes the subject, thumbprint and expiry, never the key.
func (c Certificate) MarshalJSON() ([]byte, error) {
	if len(c.Chain) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Subject  string    `json:"subject"`
		SHA256   string    `json:"sha256"`
		NotAfter time.Time `json:"notAfter"`
	}{c.Chain[0].Subject.String(), c.Thumbprint(), c.Chain[0].NotAfter})
}

// ParseCertificate reads a certificate and its private key from PEM
// (CERTIFICATE blocks and an unencrypted PKCS#8 "PRIVATE KEY" or PKCS#1
// "RSA PRIVATE KEY" block) or from PKCS#12/PFX protected by password, as
// Windows and Azure Key Vault export them. The certificate that matches
// the key comes first in Chain.
func ParseCertificate(pemOrPFX []byte, password string) (*Certificate, error) {
	var (
		c   *Certificate
		err error
	)
	if bytes.Contains(pemOrPFX, []byte("-----BEGIN")) {
		c, err = parsePEM(pemOrPFX)
	} else {
		c, err = parsePFX(pemOrPFX, password)
	}
	if err != nil {
		return nil, err
	}
	if err := c.orderChain(); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return c, nil
}

func parsePEM(data []byte) (*Certificate, error) {
	c := &Certificate{}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if _, encrypted := block.Headers["DEK-Info"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("token: encrypted PEM private keys are not supported: export the certificate as PFX with a password, or decrypt the key (openssl pkcs8 -topk8 -nocrypt) and protect the file instead")
		}
		switch block.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("token: parsing a CERTIFICATE block: %w", err)
			}
			c.Chain = append(c.Chain, cert)
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			if c.Key != nil {
				return nil, errors.New("token: the PEM data holds more than one private key")
			}
			var (
				key any
				err error
			)
			if block.Type == "PRIVATE KEY" {
				key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
			} else {
				key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
			}
			if err != nil {
				return nil, fmt.Errorf("token: parsing the %s block: %w", block.Type, err)
			}
			signer, ok := key.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("token: a %T cannot sign", key)
			}
			c.Key = signer
		}
	}
	return c, nil
}

func parsePFX(data []byte, password string) (*Certificate, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, errors.New("token: the PFX password is wrong")
	}
	if err != nil {
		return nil, fmt.Errorf("token: the data is neither PEM nor a readable PFX: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("token: the PFX key (%T) cannot sign", key)
	}
	return &Certificate{Chain: append([]*x509.Certificate{leaf}, cas...), Key: signer}, nil
}

// orderChain checks that the certificate has an RSA key and a certificate
// for it, and moves that certificate first.
func (c *Certificate) orderChain() error {
	if err := c.checkKey(); err != nil {
		return err
	}
	pub := c.Key.Public().(*rsa.PublicKey)
	for i, cert := range c.Chain {
		if certPub, ok := cert.PublicKey.(*rsa.PublicKey); ok && certPub.Equal(pub) {
			c.Chain[0], c.Chain[i] = c.Chain[i], c.Chain[0]
			return nil
		}
	}
	return errors.New("no certificate matches the private key")
}

func (c *Certificate) checkKey() error {
	if len(c.Chain) == 0 {
		return errors.New("no certificate found")
	}
	if c.Key == nil {
		return errors.New("no private key found")
	}
	if _, ok := c.Key.Public().(*rsa.PublicKey); !ok {
		return fmt.Errorf("the certificate's key is %T: Entra ID accepts only RS256 client assertions, so it must be RSA", c.Key.Public())
	}
	return nil
}

// validate checks c at now: an RSA key, a leaf certificate for that key,
// within its validity period.
func (c *Certificate) validate(now time.Time) error {
	if err := c.checkKey(); err != nil {
		return err
	}
	leaf := c.Chain[0]
	if pub, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(c.Key.Public()) {
		return errors.New("Chain[0] does not match Key: put the app's certificate first")
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("the certificate %s expired on %s: upload a new one to the SAM app and store it", c.Thumbprint(), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("the certificate %s is not valid before %s", c.Thumbprint(), leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// validate checks that c can authenticate the SAM app, naming the missing
// or wrong field and what to do about it.
func (c Credentials) validate(now time.Time) error {
	switch {
	case c.TenantID == "":
		return errors.New("token: Credentials.TenantID is empty: set it to the partner tenant's ID (a GUID) or primary domain")
	case c.ApplicationID == "":
		return errors.New("token: Credentials.ApplicationID is empty: set it to the SAM app's application (client) ID")
	case !httpx.IsGUID(c.ApplicationID):
		return fmt.Errorf("token: Credentials.ApplicationID %q is not a GUID: use the application (client) ID from the app's overview page", c.ApplicationID)
	case c.ClientSecret.IsZero() && c.Certificate == nil:
		return errors.New("token: Credentials has neither ClientSecret nor Certificate: set the SAM app's client secret value, or its certificate")
	}
	if err := httpx.ValidTenant(c.TenantID); err != nil {
		return fmt.Errorf("token: Credentials.TenantID: %w", err)
	}
	if c.ClientSecret.IsZero() {
		if err := c.Certificate.validate(now); err != nil {
			return fmt.Errorf("token: Credentials.Certificate: %w", err)
		}
	}
	return nil
}
