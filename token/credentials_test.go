package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// issuer returns a CA certificate, to put in chains.
func issuer(t *testing.T) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestParseCertificate(t *testing.T) {
	t.Parallel()
	cert := testCertificate(t)
	leaf, key := cert.Chain[0], cert.Key.(*rsa.PrivateKey)
	ca := issuer(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	modernPFX, err := pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{ca}, "pfx-pass")
	if err != nil {
		t.Fatal(err)
	}
	legacyPFX, err := pkcs12.LegacyRC2.Encode(key, leaf, nil, "pfx-pass")
	if err != nil {
		t.Fatal(err)
	}
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name      string
		data      []byte
		password  string
		wantErr   string
		wantChain int
	}{
		{"PKCS#8 PEM, CA first", join(pemBlock("CERTIFICATE", ca.Raw), pemBlock("CERTIFICATE", leaf.Raw), pemBlock("PRIVATE KEY", pkcs8)), "", "", 2},
		{"PKCS#1 PEM", join(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), pemBlock("CERTIFICATE", leaf.Raw)), "", "", 1},
		{"modern PFX", modernPFX, "pfx-pass", "", 2},
		{"legacy PFX", legacyPFX, "pfx-pass", "", 1},
		{"wrong PFX password", modernPFX, "nope", "PFX password is wrong", 0},
		{"garbage", []byte("not a certificate"), "", "neither PEM nor a readable PFX", 0},
		{"no key", pemBlock("CERTIFICATE", leaf.Raw), "", "no private key", 0},
		{"no certificate", pemBlock("PRIVATE KEY", pkcs8), "", "no certificate", 0},
		{"key of another certificate", join(pemBlock("CERTIFICATE", ca.Raw), pemBlock("PRIVATE KEY", pkcs8)), "", "no certificate matches", 0},
		{"EC key", join(pemBlock("CERTIFICATE", leaf.Raw), pemBlock("PRIVATE KEY", ecDER)), "", "must be RSA", 0},
		{"encrypted PEM", pemBlock("ENCRYPTED PRIVATE KEY", []byte{1}), "", "encrypted PEM", 0},
		{"two keys", join(pemBlock("CERTIFICATE", leaf.Raw), pemBlock("PRIVATE KEY", pkcs8), pemBlock("PRIVATE KEY", pkcs8)), "", "more than one", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCertificate(tt.data, tt.password)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Chain) != tt.wantChain || !c.Chain[0].Equal(leaf) {
				t.Errorf("chain of %d, leaf first %v; want %d with the leaf first", len(c.Chain), c.Chain[0].Equal(leaf), tt.wantChain)
			}
			if err := c.validate(time.Now()); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestCertificateNeverPrintsKey(t *testing.T) {
	t.Parallel()
	cert := testCertificate(t)
	d := cert.Key.(*rsa.PrivateKey).D.String()
	creds := testCredentials()
	creds.Certificate = cert
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		outs = append(outs, fmt.Sprintf(verb, cert), fmt.Sprintf(verb, *cert), fmt.Sprintf(verb, creds), fmt.Sprintf(verb, &creds))
	}
	js, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cert", cert, "creds", creds)
	outs = append(outs, string(js), buf.String())
	for _, o := range outs {
		for _, leak := range []string{d, testSecret, testRT, testExRT} {
			if strings.Contains(o, leak) {
				t.Errorf("output leaks a secret: %.200s", o)
			}
		}
	}
	if !strings.Contains(cert.String(), cert.Thumbprint()) || !strings.Contains(string(js), "SAM test") {
		t.Errorf("String() = %s, JSON = %s; want the subject and thumbprint", cert, js)
	}
}

func TestCredentialsValidation(t *testing.T) {
	t.Parallel()
	now := time.Now()
	expired := testCertificate(t)
	tests := []struct {
		name   string
		mutate func(*Credentials)
		at     time.Time
		want   string
	}{
		{"no tenant", func(c *Credentials) { c.TenantID = "" }, now, "Credentials.TenantID is empty"},
		{"bad tenant", func(c *Credentials) { c.TenantID = "a/b" }, now, "Credentials.TenantID: tenant \"a/b\""},
		{"no app", func(c *Credentials) { c.ApplicationID = "" }, now, "Credentials.ApplicationID is empty"},
		{"app not a GUID", func(c *Credentials) { c.ApplicationID = "SAM app" }, now, "is not a GUID"},
		{"no secret or certificate", func(c *Credentials) { c.ClientSecret = Secret{} }, now, "neither ClientSecret nor Certificate"},
		{"certificate without key", func(c *Credentials) {
			c.ClientSecret, c.Certificate = Secret{}, &Certificate{Chain: expired.Chain}
		}, now, "Credentials.Certificate: no private key"},
		{"expired certificate", func(c *Credentials) { c.ClientSecret, c.Certificate = Secret{}, expired }, now.AddDate(2, 0, 0), "expired on"},
		{"mismatched certificate", func(c *Credentials) {
			k, _ := rsa.GenerateKey(rand.Reader, 1024)
			c.ClientSecret, c.Certificate = Secret{}, &Certificate{Chain: expired.Chain, Key: k}
		}, now, "does not match"},
	}
	for _, tt := range tests {
		c := testCredentials()
		tt.mutate(&c)
		err := c.validate(tt.at)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if err := testCredentials().validate(now); err != nil {
		t.Errorf("valid credentials: %v", err)
	}
}
