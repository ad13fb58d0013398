package token

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestClientAssertion(t *testing.T) {
	t.Parallel()
	cert := testCertificate(t)
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	const aud = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"
	a, err := clientAssertion(cert, testAppID, aud, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d parts", len(parts))
	}
	var header map[string]string
	var claims map[string]any
	decode := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	s256, s1 := sha256.Sum256(cert.Chain[0].Raw), sha1.Sum(cert.Chain[0].Raw)
	if header["alg"] != "RS256" || header["typ"] != "JWT" ||
		header["x5t#S256"] != base64.RawURLEncoding.EncodeToString(s256[:]) || header["x5t"] != base64.RawURLEncoding.EncodeToString(s1[:]) {
		t.Errorf("header = %v", header)
	}
	if claims["aud"] != aud || claims["iss"] != testAppID || claims["sub"] != testAppID || claims["jti"] == "" ||
		claims["nbf"] != float64(now.Unix()) || claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(10*time.Minute).Unix()) {
		t.Errorf("claims = %v", claims)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(cert.Chain[0].PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	b, _ := clientAssertion(cert, testAppID, aud, now)
	if b == a {
		t.Error("two assertions share a jti")
	}
}
