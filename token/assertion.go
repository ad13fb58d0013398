package token

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// assertionLifetime is how long a client assertion is valid. The identity
// platform refuses assertions valid for more than ten minutes past their
// use; a fresh one is signed for every token request.
const assertionLifetime = 10 * time.Minute

// clientAssertion returns a client assertion JWT for the app clientID at
// the token endpoint aud, signed RS256 with c's key, per
// https://learn.microsoft.com/entra/identity-platform/certificate-credentials.
//
// It is written here rather than taken from MSAL Go's confidential client
// because that client owns its token cache and authority handling, while
// the Provider needs one cache keyed by tenant and scope for thousands of
// customer tenants, its own retrying transport and its own error type; the
// assertion itself is thirty lines of standard library.
func clientAssertion(c *Certificate, clientID, aud string, now time.Time) (string, error) {
	der := c.Chain[0].Raw
	s256 := sha256.Sum256(der)
	// x5t (SHA-1) is sent alongside x5t#S256 for endpoints and tools that
	// still match certificates by their SHA-1 thumbprint.
	s1 := sha1.Sum(der)
	header := map[string]string{
		"alg":      "RS256",
		"typ":      "JWT",
		"x5t#S256": base64.RawURLEncoding.EncodeToString(s256[:]),
		"x5t":      base64.RawURLEncoding.EncodeToString(s1[:]),
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("token: client assertion id: %w", err)
	}
	claims := map[string]any{
		"aud": aud,
		"iss": clientID,
		"sub": clientID,
		"jti": hex.EncodeToString(jti[:]),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(signingInput))
	// With a crypto.Hash as options, an RSA signer signs PKCS #1 v1.5:
	// RS256.
	sig, err := c.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("token: signing the client assertion: %w", err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
