package testserver

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake against Microsoft's documentation, one deviation at a time;
// each test names the page it follows.

// rawPost posts form to the token endpoint of tenant and returns the
// answer undecoded: throttling answers are not JSON.
func rawPost(t *testing.T, s *Server, tenant string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// Client credentials past the limit: 429, Retry-After, a plain-text body;
// per client and tenant, over a sliding window.
// https://learn.microsoft.com/entra/identity/users/directory-service-limits-restrictions
func TestTokenThrottlingClientCredentials(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{GDAP: true})
	app := registerSAM(t, s, AppSpec{}, cust)
	s.Mutate(func(w *World) { w.TokenThrottle = TokenThrottle{AppRequests: 3, Window: time.Minute} })
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"scope": {"https://graph.microsoft.com/.default"}}
	for i := range 3 {
		resp, body := rawPost(t, s, cust, form)
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d of 3 is within the limit: %s", i+1, body)
	}
	s.Clock().Advance(20 * time.Second)
	resp, body := rawPost(t, s, cust, form)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the fourth request in a minute is throttled")
	assert.Equal(t, "40", resp.Header.Get("Retry-After"), "the oldest request leaves the window in 40 s")
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), "content type %q", resp.Header.Get("Content-Type"))
	assert.False(t, json.Valid([]byte(body)), "the body is plain text, not JSON: %q", body)

	other, _ := rawPost(t, s, s.Partner().TenantID, form)
	assert.Equal(t, http.StatusOK, other.StatusCode, "another tenant has its own count")

	s.Clock().Advance(41 * time.Second)
	again, _ := rawPost(t, s, cust, form)
	assert.Equal(t, http.StatusOK, again.StatusCode, "once the window slid past the first requests, tokens come again")
}

// A client redeeming refresh tokens in a loop: invalid_grant AADSTS50196.
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS50196)
func TestTokenThrottlingRefreshLoop(t *testing.T) {
	t.Parallel()
	f := newRefreshFixture(t)
	f.s.Mutate(func(w *World) { w.TokenThrottle = TokenThrottle{RefreshRequests: 2, Window: time.Minute} })
	form := f.form("https://graph.microsoft.com/.default")
	for range 2 {
		r := postToken(t, f.s, f.partner.TenantID, form)
		require.Equal(t, http.StatusOK, r.Status, "within the limit: %v", r.Body)
	}
	r := postToken(t, f.s, f.partner.TenantID, form)
	wantError(t, r, http.StatusBadRequest, "invalid_grant", 50196)
	assert.Contains(t, r.str("error_description"), "client request loop")

	ok := postToken(t, f.s, f.consented, form)
	assert.Equal(t, http.StatusOK, ok.Status, "the loop is counted per tenant: %v", ok.Body)
	f.s.Clock().Advance(time.Minute)
	ok = postToken(t, f.s, f.partner.TenantID, form)
	assert.Equal(t, http.StatusOK, ok.Status, "after the window the client is served again: %v", ok.Body)
}

// A secret works only from its startDateTime.
// https://learn.microsoft.com/graph/api/resources/passwordcredential
func TestSecretStartDateTime(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	app := registerSAM(t, s, AppSpec{})
	start := s.Clock().Now().Add(time.Hour)
	s.Mutate(func(w *World) { w.Apps[app.AppID].Passwords[0].Start = start })
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"scope": {"https://graph.microsoft.com/.default"}}
	wantError(t, postToken(t, s, s.Partner().TenantID, form), http.StatusUnauthorized, "invalid_client", 7000215)
	s.Clock().Advance(time.Hour)
	r := postToken(t, s, s.Partner().TenantID, form)
	assert.Equal(t, http.StatusOK, r.Status, "from its start the secret works: %v", r.Body)
}

// PATCH /applications keeps keyCredentials and refuses unknown and
// read-only properties.
// https://learn.microsoft.com/graph/api/application-update
func TestGraphApplicationPatchProperties(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	tok := graphAdminToken(s, "", graphAllScopes...)
	app := graphNewApp(t, s, tok, map[string]any{"displayName": "SAM keys"})
	id, appID := app["id"].(string), app["appId"].(string)
	cert := base64.StdEncoding.EncodeToString(s.cert)

	status, body, _ := graphDo(t, s, tok, http.MethodPatch, "/applications/"+id, map[string]any{"keyCredentials": []any{
		map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert, "displayName": "CN=samkit"}}})
	require.Equal(t, http.StatusNoContent, status, "PATCH keyCredentials: %v", body)
	_, got := graphGet(t, s, tok, "/applications/"+id)
	keys, _ := got["keyCredentials"].([]any)
	require.Len(t, keys, 1, "the certificate is stored: %v", got["keyCredentials"])
	keyID := keys[0].(map[string]any)["keyId"].(string)

	// Sending the kept key back by keyId (reads show key as null) keeps it.
	status, body, _ = graphDo(t, s, tok, http.MethodPatch, "/applications/"+id, map[string]any{
		"keyCredentials": []any{map[string]any{"keyId": keyID, "type": "AsymmetricX509Cert", "usage": "Verify", "key": nil}},
		"appId":          appID, // read-only, but set to its own value: a no-op
	})
	require.Equal(t, http.StatusNoContent, status, "%v", body)
	_, got = graphGet(t, s, tok, "/applications/"+id)
	assert.Len(t, got["keyCredentials"], 1)

	for _, tc := range []struct {
		name string
		body map[string]any
		text string
	}{
		{"unknown property", map[string]any{"colour": "blue"}, "Property 'colour' does not exist"},
		{"read-only property", map[string]any{"appId": newID()}, "Property 'appId' is read-only"},
		{"secrets are actions, not properties", map[string]any{"passwordCredentials": []any{map[string]any{"displayName": "x"}}}, "read-only"},
		{"a key that is no certificate", map[string]any{"keyCredentials": []any{
			map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}}}, "KeyCredential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := graphDo(t, s, tok, http.MethodPatch, "/applications/"+id, tc.body)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, "Request_BadRequest", graphErrCode(body))
			assert.Contains(t, graphErrMessage(body), tc.text)
		})
	}
	_, got = graphGet(t, s, tok, "/applications/"+id)
	assert.Equal(t, "SAM keys", got["displayName"], "a refused PATCH changes nothing")
	assert.Len(t, got["keyCredentials"], 1, "a refused PATCH changes nothing")
}

// The v1.0 metadata: issuer sts.windows.net, the v1 endpoints; the keys
// carry their certificate and issuer.
// https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
// https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-signing-key-issuer
func TestOpenIDConfigurationV1AndKeys(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	get := func(path string) map[string]any {
		t.Helper()
		resp, err := s.Client().Get(s.URL() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	for _, tc := range []struct{ tenant, issuer, token string }{
		{p.TenantID, "https://sts.windows.net/" + p.TenantID + "/", s.URL() + "/" + p.TenantID + "/oauth2/token"},
		{p.Domain, "https://sts.windows.net/" + p.TenantID + "/", s.URL() + "/" + p.TenantID + "/oauth2/token"},
		{"common", "https://sts.windows.net/{tenantid}/", s.URL() + "/common/oauth2/token"},
	} {
		cfg := get("/" + tc.tenant + "/.well-known/openid-configuration")
		assert.Equal(t, tc.issuer, cfg["issuer"], tc.tenant)
		assert.Equal(t, tc.token, cfg["token_endpoint"], tc.tenant)
	}
	// Every access token the fake issues names that issuer.
	tok := s.IssueAccessToken(TokenSpec{Resource: GraphResource, UserID: p.AdminID, UPN: p.AdminUPN})
	assert.Equal(t, "https://sts.windows.net/"+p.TenantID+"/", claimsOf(t, s, tok).String("iss"))

	cfg := get("/" + p.TenantID + "/.well-known/openid-configuration")
	jwksURL := strings.TrimPrefix(cfg["jwks_uri"].(string), s.URL())
	for _, tc := range []struct{ path, issuer string }{
		{jwksURL, s.URL() + "/{tenantid}/v2.0"},
		{"/" + p.TenantID + "/discovery/v2.0/keys", s.URL() + "/" + p.TenantID + "/v2.0"},
	} {
		keys := get(tc.path)["keys"].([]any)
		require.Len(t, keys, 1)
		k := keys[0].(map[string]any)
		assert.Equal(t, tc.issuer, k["issuer"], tc.path)
		x5c := k["x5c"].([]any)
		require.Len(t, x5c, 1)
		der, err := base64.StdEncoding.DecodeString(x5c[0].(string))
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		require.True(t, ok)
		assert.True(t, pub.Equal(&s.key.PublicKey), "x5c holds the signing key's certificate")
		sum := sha1.Sum(der)
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), k["x5t"], "x5t is the certificate's thumbprint")
		assert.Equal(t, k["x5t"], k["kid"])
	}
}

// Lifetimes between 60 and 90 minutes, the same for the same seed.
// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-lifetime
func TestAccessTokenLifetimeRandom(t *testing.T) {
	t.Parallel()
	lifetimes := func(seed uint64) []time.Duration {
		s := New(WithSeed(seed))
		defer s.Close()
		var out []time.Duration
		s.Mutate(func(*World) {
			for range 200 {
				out = append(out, s.accessLifetimeLocked())
			}
		})
		return out
	}
	a, b, c := lifetimes(7), lifetimes(7), lifetimes(8)
	assert.Equal(t, a, b, "the same seed gives the same lifetimes")
	assert.NotEqual(t, a, c, "another seed gives others")
	distinct := map[time.Duration]bool{}
	for _, d := range a {
		require.GreaterOrEqual(t, d, 60*time.Minute)
		require.LessOrEqual(t, d, 90*time.Minute)
		distinct[d] = true
	}
	assert.Greater(t, len(distinct), 100, "lifetimes vary")

	s := New()
	defer s.Close()
	s.Mutate(func(w *World) { w.AccessTokenLifetime = time.Hour })
	s.Read(func(*World) { assert.Equal(t, time.Hour, s.accessLifetimeLocked(), "a fixed lifetime is kept") })
}

// Error shapes: the STS trailer on CRLF lines; Graph's innerError echoes
// client-request-id; Partner Center's code is a number.
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes#handling-error-codes-in-your-application
// https://learn.microsoft.com/graph/errors#json-representation
// https://learn.microsoft.com/partner-center/developer/error-codes
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()

	r := postToken(t, s, s.Partner().TenantID, url.Values{"grant_type": {"client_credentials"}})
	desc := r.str("error_description")
	assert.Contains(t, desc, "\r\nTrace ID: "+r.str("trace_id")+"\r\nCorrelation ID: "+r.str("correlation_id")+"\r\nTimestamp: ")

	for _, sent := range []string{"aaaaaaaa-1111-2222-3333-444444444444", ""} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/graph/v1.0/users", nil)
		require.NoError(t, err)
		if sent != "" {
			req.Header.Set("client-request-id", sent)
		}
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		var body struct {
			Error struct {
				InnerError map[string]string `json:"innerError"`
			} `json:"error"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		want := sent
		if want == "" {
			want = resp.Header.Get("request-id")
		}
		assert.Equal(t, want, body.Error.InnerError["client-request-id"], "innerError echoes client-request-id (sent %q)", sent)
		assert.Equal(t, want, resp.Header.Get("client-request-id"))
	}

	tok := pcAdminToken(s, false)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/partner/v1/customers", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var pe map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&pe))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "900421", string(pe["code"]), "the code is the number 900421, not a string")
}
