package testserver

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

var (
	keysMu sync.Mutex
	keys   = map[int]signer{}
)

// signer is a signing key and the self-signed certificate that publishes
// it, as Entra ID's keys are published: kid and x5t are both the
// certificate's SHA-1 thumbprint, base64url.
type signer struct {
	key  *rsa.PrivateKey
	kid  string
	cert []byte // DER
}

// signingKey returns the RSA key of the given size tokens are signed with.
// Each size is made once per process: generating a 2048-bit key costs tens
// of milliseconds, and tests start many servers.
func signingKey(bits int) signer {
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[bits]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err) // only for a size WithSigningKeyBits refused
	}
	der, err := signingCertificate(k)
	if err != nil {
		panic(err) // only for a key crypto/rsa made itself
	}
	sum := sha1.Sum(der)
	keys[bits] = signer{key: k, kid: base64.RawURLEncoding.EncodeToString(sum[:]), cert: der}
	return keys[bits]
}

// signingCertificate is a self-signed certificate of key, as the JWKS
// publishes it (x5c).
func signingCertificate(k *rsa.PrivateKey) ([]byte, error) {
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, fmt.Errorf("testserver: certifying the signing key: %w", err)
	}
	return der, nil
}

// Claims is a decoded JWT payload.
type Claims map[string]any

// String returns the string claim name, or "".
func (c Claims) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Strings returns a string-array claim (or a space-separated string claim,
// such as scp, split).
func (c Claims) Strings(name string) []string {
	switch v := c[name].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Time returns a NumericDate claim.
func (c Claims) Time(name string) time.Time {
	if f, ok := c[name].(float64); ok {
		return time.Unix(int64(f), 0)
	}
	return time.Time{}
}

var b64 = base64.RawURLEncoding

// sign makes an RS256 JWT of claims with the server's key.
func (s *Server) sign(claims Claims) string {
	head, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.kid, "x5t": s.kid})
	body, _ := json.Marshal(claims)
	input := b64.EncodeToString(head) + "." + b64.EncodeToString(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

var errBadJWT = errors.New("malformed JWT")

// parseJWT splits and decodes a compact JWT without checking its signature.
func parseJWT(tok string) (header map[string]any, claims Claims, signed []byte, sig []byte, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, nil, nil, errBadJWT
	}
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, nil, nil, errBadJWT
	}
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return nil, nil, nil, nil, errBadJWT
	}
	return header, claims, []byte(parts[0] + "." + parts[1]), sig, nil
}

// verifyRS256 checks an RS256 signature over signed with pub.
func verifyRS256(pub *rsa.PublicKey, header map[string]any, signed, sig []byte) error {
	if header["alg"] != "RS256" {
		return errors.New("unsupported alg")
	}
	sum := sha256.Sum256(signed)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// verify checks that tok is a token this server signed and returns its
// claims; expiry is checked by the caller against the fake clock.
func (s *Server) verify(tok string) (Claims, error) {
	h, c, signed, sig, err := parseJWT(tok)
	if err != nil {
		return nil, err
	}
	if err := verifyRS256(&s.key.PublicKey, h, signed, sig); err != nil {
		return nil, errors.New("signature verification failed")
	}
	return c, nil
}

// jwks returns the JSON Web Key Set publishing the signing key: its
// modulus and exponent, its certificate (x5c) and the issuer it signs for
// ({tenantid} for an alias, the tenant id for a tenant), which a
// multi-tenant validator checks against the token's tid.
// https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-signing-key-issuer
func (s *Server) jwks(issuerTenant string) map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": s.kid, "x5t": s.kid,
		"n":      b64.EncodeToString(pub.N.Bytes()),
		"e":      b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c":    []string{base64.StdEncoding.EncodeToString(s.cert)},
		"issuer": s.URL() + "/" + issuerTenant + "/v2.0",
	}}}
}
