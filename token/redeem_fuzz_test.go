package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/faulttest/marker"
)

// Token endpoint answers as the identity platform, proxies and broken
// connections give them. SECRET marks where a credential sits.
var tokenBodies = []string{
	`{"token_type":"Bearer","scope":"https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/.default","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.SECRET","refresh_token":"SECRET"}`,
	`{"token_type":"Bearer","expires_in":"3599","access_token":"SECRET"}`,
	`{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application with ID 'x'. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-01-01 08:55:37Z","error_codes":[65001],"timestamp":"2026-01-01 08:55:37Z","trace_id":"1","correlation_id":"2","suberror":"consent_required"}`,
	`{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.","error_codes":[50076],"claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"c\"]}}}"}`,
	`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'.","error_codes":[7000215]}`,
	`{"error":"temporarily_unavailable","error_description":"AADSTS90055: TenantThrottlingError","error_codes":[90055]}`,
	`{"token_type":"Bearer","expires_in":3599,"access_token":"SECRET","error":"server_error"}`,
	`{"token_type":"Bearer","value":[{"id":"0000`,
	`{"token_type":"Bearer","scope":"https://graph.microsoft.com/.default","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.SECRET","refresh_token":"SECRET`,
	`<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>refresh_token=SECRET&client_secret=SECRET</p></body></html>`,
	``,
	`null`,
	`{"access_token":"SECRET","expires_in":-1}`,
	`{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found.\r\nTrace ID: 1"}`,
}

// FuzzDecodeTokenResponse: whatever the token endpoint answers, the
// decoder returns a usable token response or a *Error, never panics, and
// never puts a credential of the answer in the error.
func FuzzDecodeTokenResponse(f *testing.F) {
	for _, b := range tokenBodies {
		for _, status := range []int{200, 400, 401, 429, 502} {
			f.Add(status, "application/json; charset=utf-8", []byte(b))
		}
	}
	f.Add(502, "text/html", []byte(tokenBodies[9]))
	f.Add(200, "", []byte(""))
	k := cacheKey{kind: Delegated, client: "c", tenant: "contoso.com", scope: "https://graph.microsoft.com/.default"}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		text, secretsPlaced := marker.WithMarker(body)
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}}
		res, err := decodeTokenResponse(resp, []byte(text), nil, k, "https://login.example/contoso.com/oauth2/v2.0/token")
		if err == nil {
			if status != http.StatusOK || res.AccessToken == "" || res.Error != "" {
				t.Fatalf("accepted status %d, access token %t, error %q", status, res.AccessToken != "", res.Error)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("err %v is a %T, not a *Error", err, err)
		}
		if e.StatusCode != status || e.Tenant != k.tenant || !strings.HasPrefix(e.Error(), "token: ") {
			t.Fatalf("error %q: status %d, tenant %q", e.Error(), e.StatusCode, e.Tenant)
		}
		_ = e.Hint()
		for _, s := range allSentinels {
			_ = errors.Is(err, s)
		}
		if secretsPlaced {
			marker.NoMarker(t, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
		}
	})
}

// FuzzClaims: Claims reads any access token without panicking; its
// errors are fixed sentences that never quote the token; and the claims
// of a token it reads come back the same from a token holding just them.
func FuzzClaims(f *testing.F) {
	f.Add("", []byte(`{"tid":"8d5c0b9e-6f4a-4a39-9d8b-2b8f0f1e2a3c","aud":"https://graph.microsoft.com","appid":"a","oid":"o","upn":"admin@contoso.com","scp":"User.Read.All Directory.Read.All","amr":["pwd","mfa"],"exp":1767257737}`))
	f.Add("", []byte(`{"tid":"t","aud":["https://outlook.office365.com","x"],"azp":"a","roles":["Exchange.ManageAsApp"],"idtyp":"app","exp":"1767257737.5"}`))
	f.Add("", []byte(`{"exp":1e300}`))
	f.Add("", []byte(`{"scp":"  a\tb\n c ","roles":null,"amr":[]}`))
	f.Add("", []byte(`[]`))
	f.Add("not.a.jwt", []byte{})
	f.Add("eyJhbGciOiJSUzI1NiJ9.!!!.sig", []byte{})
	f.Add("a.b", []byte{})
	f.Fuzz(func(t *testing.T, raw string, payload []byte) {
		// A payload, when given, is wrapped in a JWT; else raw is the
		// token as is.
		if len(payload) > 0 {
			raw = "eyJhbGciOiJSUzI1NiJ9." + b64(payload) + ".c2ln"
		}
		c, err := Token{AccessToken: NewSecret(raw)}.Claims()
		if err != nil {
			switch err.Error() {
			case "token: access token is not a JWT", "token: access token payload is not base64url",
				"token: access token payload is not a JSON object", "token: access token exp is not a number":
			default:
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		for _, s := range c.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") {
				t.Fatalf("scope %q holds a space", s)
			}
		}
		again, err := Token{AccessToken: NewSecret("eyJhbGciOiJSUzI1NiJ9." + b64(claimsPayload(t, c)) + ".c2ln")}.Claims()
		if err != nil {
			t.Fatalf("claims %+v do not read back: %v", c, err)
		}
		if fmt.Sprintf("%#v", again) != fmt.Sprintf("%#v", c) {
			t.Fatalf("claims changed on the way back:\n%#v\n%#v", c, again)
		}
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// claimsPayload is a JWT payload holding exactly c.
func claimsPayload(t *testing.T, c Claims) []byte {
	t.Helper()
	m := map[string]any{"tid": c.TenantID, "aud": c.Audience, "appid": c.AppID, "oid": c.ObjectID, "upn": c.UPN,
		"scp": strings.Join(c.Scopes, " "), "roles": c.Roles, "amr": c.AMR}
	if !c.Expiry.IsZero() {
		m["exp"] = c.Expiry.Unix()
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
