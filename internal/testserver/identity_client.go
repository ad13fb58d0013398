package testserver

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Client authentication at /token. A confidential client proves itself
// with client_secret (in the body or HTTP Basic) or with a client_assertion
// signed by a certificate registered on the app; a public client sends
// neither.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
// https://learn.microsoft.com/entra/identity-platform/certificate-credentials

const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionSkew is the clock skew allowed on an assertion's nbf.
const assertionSkew = 5 * time.Minute

// clientCreds are the credentials a token request presents.
type clientCreds struct {
	secret, assertion, assertionType string
}

func presentedCreds(r *http.Request) clientCreds {
	c := clientCreds{secret: r.PostForm.Get("client_secret"), assertion: r.PostForm.Get("client_assertion"),
		assertionType: r.PostForm.Get("client_assertion_type")}
	if c.secret == "" {
		// RFC 6749 §2.3.1: the Basic credentials are form-encoded first.
		if _, pw, ok := r.BasicAuth(); ok {
			if v, err := url.QueryUnescape(pw); err == nil {
				c.secret = v
			}
		}
	}
	return c
}

func (c clientCreds) present() bool { return c.secret != "" || c.assertion != "" }

// publicClient refuses credentials from a public client (AADSTS700025).
func publicClient(c clientCreds) *aadError {
	if c.present() {
		return invalidClient(700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	}
	return nil
}

// authenticateClientLocked checks a confidential client's credential and
// returns the appidacr its tokens carry: "1" for a secret, "2" for a
// certificate.
func (s *Server) authenticateClientLocked(app *App, c clientCreds, lt loginTenant) (string, *aadError) {
	switch {
	case c.assertion != "":
		return "2", s.checkAssertion(app, c, lt)
	case c.secret != "":
		return "1", s.checkSecret(app, c.secret)
	}
	return "", invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

// checkSecret matches a client secret. A secret works from its
// startDateTime to its endDateTime
// (https://learn.microsoft.com/graph/api/resources/passwordcredential):
// one past its end answers AADSTS7000222; one not yet started matches no
// valid key and answers, as any other mismatch, AADSTS7000215 (often the
// secret's id pasted instead of its value).
func (s *Server) checkSecret(app *App, secret string) *aadError {
	now, expired := s.clock.Now(), false
	for _, p := range app.Passwords {
		if subtle.ConstantTimeCompare([]byte(p.Secret), []byte(secret)) != 1 {
			continue
		}
		if !p.End.IsZero() && !now.Before(p.End) {
			expired = true
			continue
		}
		// Not yet started, or not yet replicated to the token service:
		// it matches no valid key yet.
		if !p.Start.IsZero() && now.Before(p.Start) || now.Before(p.ReadyAt) {
			continue
		}
		return nil
	}
	if expired {
		return invalidClient(7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal "+
			"to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added "+
			"security: https://aka.ms/certCreds.", app.AppID))
	}
	return invalidClient(7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the "+
		"client secret value, not the client secret ID, for a secret added to app '%s'.", app.AppID))
}

// checkAssertion verifies a certificate credential: a JWT signed (PS256,
// or RS256) by the private key of a certificate registered on the app and
// named by its x5t#S256 (or SHA-1 x5t) thumbprint, with iss = sub = the
// client id, aud = this token endpoint and a current nbf..exp window.
// Entra ID documents no replay check on jti, so none is made.
func (s *Server) checkAssertion(app *App, c clientCreds, lt loginTenant) *aadError {
	if c.assertionType != jwtBearerAssertion {
		return &aadError{Code: "invalid_request", AADSTS: 900144,
			Message: "The request body must contain the following parameter: 'client_assertion_type'."}
	}
	h, claims, signed, sig, err := parseJWT(c.assertion)
	if err != nil {
		return invalidClient(50027, "JWT token is invalid or malformed.")
	}
	iss, sub := claims.String("iss"), claims.String("sub")
	if iss != sub {
		return invalidClient(50048, "Subject mismatches Issuer claim in the client assertion.")
	}
	if !strings.EqualFold(iss, app.AppID) {
		return invalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the "+
			"documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	endpoints := []string{s.URL() + "/" + lt.raw + "/oauth2/v2.0/token"}
	if lt.tenant != nil {
		endpoints = append(endpoints, s.URL()+"/"+lt.tenant.ID+"/oauth2/v2.0/token")
	}
	if !slices.ContainsFunc(claims.Strings("aud"), func(a string) bool {
		return slices.ContainsFunc(endpoints, func(e string) bool { return strings.EqualFold(a, e) })
	}) {
		return invalidClient(50012, "Client assertion audience claim does not match Realm issuer.")
	}
	now := s.clock.Now()
	exp, nbf := claims.Time("exp"), claims.Time("nbf")
	if exp.IsZero() || !now.Before(exp) || (!nbf.IsZero() && now.Add(assertionSkew).Before(nbf)) {
		return invalidClient(700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, "+
			"assertion valid from %s, expiry time of assertion %s.", dotnetTime(now), dotnetTime(nbf), dotnetTime(exp)))
	}
	thumb, sum := thumbprint(h)
	var key *KeyCredential
	for _, k := range app.Certificates {
		// A certificate not yet replicated to the token service is not
		// found there.
		if k.Certificate != nil && thumb != nil && subtle.ConstantTimeCompare(sum(k.Certificate.Raw), thumb) == 1 && !now.Before(k.ReadyAt) {
			key = k
		}
	}
	notRegistered := func(reason string) *aadError {
		return invalidClient(700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not "+
			"registered on application. [Reason - %s, Thumbprint of key used by client: '%s', Please visit the Azure Portal, "+
			"Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]",
			reason, strings.ToUpper(hex.EncodeToString(thumb)), app.AppID))
	}
	if key == nil {
		return notRegistered("The key was not found.")
	}
	if (!key.End.IsZero() && !now.Before(key.End)) || (!key.Start.IsZero() && now.Before(key.Start)) {
		return notRegistered("The key used is expired.")
	}
	pub, ok := key.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok || verifyAssertionSignature(pub, h, signed, sig) != nil {
		return invalidClient(700027, "Client assertion failed signature validation.")
	}
	return nil
}

// thumbprint returns the certificate thumbprint an assertion header names
// and the hash that computes it. MSAL sends it in standard base64, the
// documentation in base64url; both are accepted.
func thumbprint(h map[string]any) ([]byte, func([]byte) []byte) {
	decode := func(v any) []byte {
		s, _ := v.(string)
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
			if b, err := enc.DecodeString(s); err == nil && s != "" {
				return b
			}
		}
		return nil
	}
	if t := decode(h["x5t#S256"]); t != nil {
		return t, func(der []byte) []byte { s := sha256.Sum256(der); return s[:] }
	}
	return decode(h["x5t"]), func(der []byte) []byte { s := sha1.Sum(der); return s[:] }
}

func verifyAssertionSignature(pub *rsa.PublicKey, h map[string]any, signed, sig []byte) error {
	if h["alg"] == "PS256" {
		sum := sha256.Sum256(signed)
		return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	}
	return verifyRS256(pub, h, signed, sig)
}

// dotnetTime formats a time the way Entra ID's messages do.
func dotnetTime(t time.Time) string { return t.UTC().Format("01/02/2006 15:04:05") }
