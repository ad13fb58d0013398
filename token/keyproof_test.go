package token

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyProof: the proof has the claims Microsoft's rollkey page asks for
// (aud Microsoft Graph, iss the object id, ten minutes) and is signed by
// the certificate's key.
func TestKeyProof(t *testing.T) {
	t.Parallel()
	cert := testCertificate(t)
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	const objectID = "0d3c1b2a-0000-4000-8000-000000000001"
	p, err := KeyProof(cert, objectID, now)
	require.NoError(t, err)
	parts := strings.Split(p, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(b, &claims))
	assert.Equal(t, "00000003-0000-0000-c000-000000000000", claims["aud"], "Microsoft Graph's appId")
	assert.Equal(t, objectID, claims["iss"], "the application's object id")
	assert.Equal(t, float64(now.Unix()), claims["nbf"])
	assert.Equal(t, float64(now.Add(10*time.Minute).Unix()), claims["exp"], "valid for ten minutes at most")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	assert.NoError(t, rsa.VerifyPKCS1v15(cert.Chain[0].PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig))

	_, err = KeyProof(nil, objectID, now)
	assert.Error(t, err, "no certificate, no proof")
}

// TestClientAuthentication: a secret when there is one, else a client
// assertion; neither is an error.
func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	const endpoint = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
	now := time.Now()
	f, err := ClientAuthentication(Credentials{ApplicationID: testAppID, ClientSecret: NewSecret("s3cret")}, endpoint, now)
	require.NoError(t, err)
	assert.Equal(t, "s3cret", f.Get("client_secret"))
	assert.Empty(t, f.Get("client_assertion"))

	f, err = ClientAuthentication(Credentials{ApplicationID: testAppID, Certificate: testCertificate(t)}, endpoint, now)
	require.NoError(t, err)
	assert.Empty(t, f.Get("client_secret"))
	assert.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.Get("client_assertion_type"))
	assert.Equal(t, 2, strings.Count(f.Get("client_assertion"), "."), "a JWT")

	_, err = ClientAuthentication(Credentials{ApplicationID: testAppID}, endpoint, now)
	assert.Error(t, err)
}
