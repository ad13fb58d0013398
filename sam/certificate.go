package sam

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/samkit/samkit/token"
)

// Certificates samkit makes for the SAM app. Entra ID accepts self-signed
// certificates as app credentials; it checks the signature of each client
// assertion against the public key registered on the app, not a chain
// (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
const (
	// DefaultCertificateValidity is how long a certificate samkit makes is
	// valid unless told otherwise: a year, the validity the Entra admin
	// center suggests for certificates.
	DefaultCertificateValidity = 365 * 24 * time.Hour
	// DefaultCertificateKeySize is the RSA key size of a certificate
	// samkit makes.
	DefaultCertificateKeySize = 2048
	// maxCertificateValidity bounds a certificate's validity: the longest
	// a keyCredential may be registered for is not documented, and a
	// credential that outlives its owners' memory is a risk.
	maxCertificateValidity = 3 * 365 * 24 * time.Hour
)

// CertificateOptions describe a certificate NewCertificate makes.
type CertificateOptions struct {
	// Subject is the certificate's common name; "CN=" is added.
	Subject string
	// Validity is how long it is valid from now; DefaultCertificateValidity
	// when zero, between a day and three years.
	Validity time.Duration
	// KeySize is the RSA key size: 2048 (DefaultCertificateKeySize when
	// zero), 3072 or 4096.
	KeySize int
	// Now is the start of its validity; time.Now when nil.
	Now func() time.Time
}

// NewCertificate makes a self-signed certificate, RSA with SHA-256, to
// register on the SAM app as its credential. Its key never leaves the
// returned value except through a Store.
func NewCertificate(o CertificateOptions) (*token.Certificate, error) {
	o, err := checkCertificateOptions(o)
	if err != nil {
		return nil, fmt.Errorf("sam: %w", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, o.KeySize)
	if err != nil {
		return nil, fmt.Errorf("sam: generating the certificate's key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("sam: the certificate's serial number: %w", err)
	}
	// A minute's grace before now absorbs clock skew between this machine
	// and the identity platform, which refuses a key not yet valid.
	start := now().UTC().Add(-time.Minute).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: o.Subject},
		NotBefore:             start,
		NotAfter:              start.Add(o.Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sam: making the certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sam: making the certificate: %w", err)
	}
	return &token.Certificate{Chain: []*x509.Certificate{cert}, Key: key}, nil
}

// checkCertificateOptions fills o's defaults and refuses what Entra ID or
// prudence would refuse.
func checkCertificateOptions(o CertificateOptions) (CertificateOptions, error) {
	if o.Validity == 0 {
		o.Validity = DefaultCertificateValidity
	}
	if o.KeySize == 0 {
		o.KeySize = DefaultCertificateKeySize
	}
	switch {
	case o.Validity < 24*time.Hour || o.Validity > maxCertificateValidity:
		return o, fmt.Errorf("certificate validity %v: give between a day and three years", o.Validity)
	case o.KeySize != 2048 && o.KeySize != 3072 && o.KeySize != 4096:
		return o, fmt.Errorf("certificate key size %d: give 2048, 3072 or 4096", o.KeySize)
	case strings.TrimSpace(o.Subject) == "":
		return o, errors.New("a certificate needs a subject")
	}
	return o, nil
}

// certificatePEM encodes a certificate chain and its key as PEM ("" for
// none), as token.ParseCertificate reads it back.
func certificatePEM(c *token.Certificate) (string, error) {
	if c == nil || len(c.Chain) == 0 {
		return "", nil
	}
	var b strings.Builder
	for _, cert := range c.Chain {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return "", fmt.Errorf("sam: the certificate's key cannot be stored: %w", err)
	}
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return b.String(), nil
}

// sameCertificate reports whether a and b are the same certificate (nil
// for none).
func sameCertificate(a, b *token.Certificate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Thumbprint() == b.Thumbprint()
}
