package token

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("token: client assertion id: %w", err)
	}
	return signJWT(c, map[string]any{
		"aud": aud,
		"iss": clientID,
		"sub": clientID,
		"jti": hex.EncodeToString(jti[:]),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	})
}

// ClientAuthentication returns the form fields that authenticate the app
// of c at the token endpoint, for a request a Provider does not make (an
// authorization code's redemption): its client secret or, without one, a
// client assertion signed with its certificate, for ten minutes from now.
// The fields hold the secret in clear: send them, never print them.
func ClientAuthentication(c Credentials, endpoint string, now time.Time) (url.Values, error) {
	if !c.ClientSecret.IsZero() {
		return url.Values{"client_secret": {c.ClientSecret.Reveal()}}, nil
	}
	if c.Certificate == nil || len(c.Certificate.Chain) == 0 {
		return nil, errors.New("token: the app has neither a client secret nor a certificate")
	}
	a, err := clientAssertion(c.Certificate, c.ApplicationID, endpoint, now)
	if err != nil {
		return nil, err
	}
	return url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {a}}, nil
}

// jwtBearer is the client_assertion_type of a certificate's assertion.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// graphAppID is Microsoft Graph's application id, the audience of a key
// proof.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// KeyProof returns the proof of possession that Microsoft Graph's addKey
// and removeKey ask of an application rolling its certificates: a JWT
// signed with the key of one of the app's current certificates, c, whose
// aud is Microsoft Graph's application id, whose iss is the application's
// object id (not its client id), valid for ten minutes from now
// (https://learn.microsoft.com/graph/application-rollkey-prooftoken).
func KeyProof(c *Certificate, appObjectID string, now time.Time) (string, error) {
	if c == nil || len(c.Chain) == 0 || c.Key == nil {
		return "", errors.New("token: a key proof needs a certificate and its key")
	}
	return signJWT(c, map[string]any{
		"aud": graphAppID,
		"iss": appObjectID,
		"nbf": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	})
}

// signJWT signs claims RS256 with c's key, naming c by its thumbprints.
func signJWT(c *Certificate, claims map[string]any) (string, error) {
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
		return "", fmt.Errorf("token: signing with the certificate's key: %w", err)
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
