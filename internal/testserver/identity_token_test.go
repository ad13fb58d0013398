package testserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDiscovery(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	for _, tc := range []struct {
		tenant, wantIssuer, wantToken string
	}{
		{p.TenantID, s.URL() + "/" + p.TenantID + "/v2.0", s.URL() + "/" + p.TenantID + "/oauth2/v2.0/token"},
		{p.Domain, s.URL() + "/" + p.TenantID + "/v2.0", s.URL() + "/" + p.TenantID + "/oauth2/v2.0/token"},
		{"organizations", s.URL() + "/{tenantid}/v2.0", s.URL() + "/organizations/oauth2/v2.0/token"},
		{"common", s.URL() + "/{tenantid}/v2.0", s.URL() + "/common/oauth2/v2.0/token"},
	} {
		resp, body := browse(t, s, s.URL()+"/"+tc.tenant+"/v2.0/.well-known/openid-configuration")
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: got %d %s", tc.tenant, resp.StatusCode, body)
		}
		if doc["issuer"] != tc.wantIssuer || doc["token_endpoint"] != tc.wantToken {
			t.Errorf("%s: got issuer %v, token_endpoint %v; want %s, %s", tc.tenant, doc["issuer"], doc["token_endpoint"], tc.wantIssuer, tc.wantToken)
		}
		for _, k := range []string{"authorization_endpoint", "device_authorization_endpoint", "jwks_uri", "end_session_endpoint"} {
			if v, _ := doc[k].(string); !strings.HasPrefix(v, s.URL()+"/") {
				t.Errorf("%s: %s = %v, want an endpoint of this server", tc.tenant, k, doc[k])
			}
		}
	}

	resp, body := browse(t, s, s.URL()+"/nosuchtenant.example/v2.0/.well-known/openid-configuration")
	if resp.StatusCode != 400 || !strings.Contains(body, `"invalid_tenant"`) || !strings.Contains(body, "AADSTS90002") {
		t.Errorf("unknown tenant: got %d %s, want 400 invalid_tenant AADSTS90002", resp.StatusCode, body)
	}

	resp, body = browse(t, s, s.URL()+"/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape(s.URL()+"/"+p.TenantID+"/oauth2/v2.0/authorize"))
	var inst struct {
		TenantDiscoveryEndpoint string `json:"tenant_discovery_endpoint"`
		Metadata                []struct {
			Aliases []string `json:"aliases"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(body), &inst); err != nil || resp.StatusCode != 200 ||
		inst.TenantDiscoveryEndpoint != s.URL()+"/"+p.TenantID+"/v2.0/.well-known/openid-configuration" || len(inst.Metadata) != 1 {
		t.Errorf("instance discovery: got %d %s", resp.StatusCode, body)
	}
	resp, body = browse(t, s, s.URL()+"/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape("https://login.example.com/x/oauth2/v2.0/authorize"))
	if resp.StatusCode != 400 || !strings.Contains(body, "invalid_instance") {
		t.Errorf("foreign instance: got %d %s, want 400 invalid_instance", resp.StatusCode, body)
	}

	resp, body = browse(t, s, s.URL()+"/"+p.TenantID+"/discovery/v2.0/keys")
	var keys struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &keys); err != nil || resp.StatusCode != 200 || len(keys.Keys) != 1 || keys.Keys[0].Kid != s.kid {
		t.Errorf("keys: got %d %s", resp.StatusCode, body)
	}
}

// refreshFixture is a partner with two customers (one consented, one not),
// a SAM app and one of its refresh tokens.
type refreshFixture struct {
	s                      *Server
	app                    AppInfo
	rt                     string
	partner                PartnerInfo
	consented, unconsented string
}

func newRefreshFixture(t *testing.T) refreshFixture {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	f := refreshFixture{s: s, partner: s.Partner()}
	f.consented = s.AddCustomer(CustomerSpec{Name: "Fabrikam", GDAP: true})
	f.unconsented = s.AddCustomer(CustomerSpec{Name: "Tailspin", GDAP: true})
	f.app = registerSAM(t, s, AppSpec{}, f.consented)
	f.rt = mint(t, s, f.app.AppID)
	return f
}

func (f refreshFixture) form(scope string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {f.app.AppID}, "client_secret": {f.app.Secret},
		"refresh_token": {f.rt}, "scope": {scope}}
}

func TestRefreshTokenGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		tenant     func(f refreshFixture) string
		scope      string
		wantAud    string
		wantScp    []string
		wantScope  string
		wantIDTok  bool
		wantTenant func(f refreshFixture) string
	}{
		{name: "graph in the partner tenant", tenant: func(f refreshFixture) string { return f.partner.TenantID },
			scope: "https://graph.microsoft.com/.default offline_access openid profile", wantAud: GraphResource,
			wantScp:   []string{"User.Read.All", "Directory.Read.All", "openid", "profile"},
			wantScope: "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/Directory.Read.All openid profile https://graph.microsoft.com/.default",
			wantIDTok: true},
		{name: "graph by domain", tenant: func(f refreshFixture) string { return "fabrikam.onmicrosoft.com" },
			scope: "https://graph.microsoft.com/.default", wantAud: GraphResource,
			wantScp:    []string{"User.Read.All", "Directory.Read.All", "openid", "profile"},
			wantTenant: func(f refreshFixture) string { return f.consented }},
		{name: "bare graph names", tenant: func(f refreshFixture) string { return f.partner.TenantID },
			scope: "User.Read.All offline_access", wantAud: GraphResource, wantScope: "User.Read.All Directory.Read.All"},
		{name: "exchange in a customer", tenant: func(f refreshFixture) string { return f.consented },
			scope: "https://outlook.office365.com/.default", wantAud: ExchangeResource, wantScp: []string{"Exchange.Manage"},
			wantScope: "https://outlook.office365.com/Exchange.Manage https://outlook.office365.com/.default"},
		{name: "partner center in the partner tenant", tenant: func(f refreshFixture) string { return f.partner.TenantID },
			scope: "https://api.partnercenter.microsoft.com/user_impersonation", wantAud: PartnerCenterResource,
			wantScp: []string{"user_impersonation"}},
		{name: "organizations means the home tenant", tenant: func(f refreshFixture) string { return "organizations" },
			scope: "https://graph.microsoft.com/.default", wantAud: GraphResource,
			wantTenant: func(f refreshFixture) string { return f.partner.TenantID }},
		{name: "no scope: the minted scope", tenant: func(f refreshFixture) string { return f.partner.TenantID },
			scope: "", wantAud: GraphResource, wantIDTok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRefreshFixture(t)
			r := postToken(t, f.s, tc.tenant(f), f.form(tc.scope))
			if r.Status != 200 {
				t.Fatalf("got %d %v, want 200", r.Status, r.Body)
			}
			c := claimsOf(t, f.s, r.str("access_token"))
			wantTid := tc.tenant(f)
			if tc.wantTenant != nil {
				wantTid = tc.wantTenant(f)
			}
			if c.String("aud") != tc.wantAud || c.String("tid") != wantTid || c.String("iss") != "https://sts.windows.net/"+wantTid+"/" {
				t.Errorf("aud, tid, iss = %s, %s, %s; want %s, %s", c.String("aud"), c.String("tid"), c.String("iss"), tc.wantAud, wantTid)
			}
			if c.String("appid") != f.app.AppID || c.String("appidacr") != "1" || c.String("oid") != f.partner.AdminID ||
				c.String("upn") != f.partner.AdminUPN || c.String("ver") != "1.0" || !slices.Equal(c.Strings("amr"), []string{"pwd", "mfa"}) {
				t.Errorf("claims %v: want the admin's MFA token for the SAM app", c)
			}
			if tc.wantScp != nil && !sameSet(c.Strings("scp"), tc.wantScp) {
				t.Errorf("scp = %v, want %v", c.Strings("scp"), tc.wantScp)
			}
			if tc.wantScope != "" && !sameSet(strings.Fields(r.str("scope")), strings.Fields(tc.wantScope)) {
				t.Errorf("scope = %q, want %q", r.str("scope"), tc.wantScope)
			}
			// Entra picks each lifetime between 60 and 90 minutes.
			// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-lifetime
			in, _ := r.Body["expires_in"].(float64)
			if r.str("token_type") != "Bearer" || in < 3600 || in > 5400 || r.Body["ext_expires_in"] != r.Body["expires_in"] {
				t.Errorf("token_type, expires_in = %v, %v; want Bearer, 3600..5400", r.Body["token_type"], r.Body["expires_in"])
			}
			if life := c.Time("exp").Sub(c.Time("iat")); life != time.Duration(in)*time.Second {
				t.Errorf("exp - iat = %v, want expires_in (%v s)", life, in)
			}
			if nrt := r.str("refresh_token"); nrt == "" || nrt == f.rt || !strings.HasPrefix(nrt, "1.AQ") {
				t.Errorf("refresh_token = %q, want a new one", nrt)
			}
			if (r.str("id_token") != "") != tc.wantIDTok {
				t.Errorf("id_token present = %v, want %v", r.str("id_token") != "", tc.wantIDTok)
			}
			if r.Header.Get("Cache-Control") == "" {
				t.Error("a token response must not be cacheable")
			}
		})
	}
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
}

func TestRefreshTokenErrors(t *testing.T) {
	t.Parallel()
	graph := "https://graph.microsoft.com/.default"
	for _, tc := range []struct {
		name         string
		setup        func(t *testing.T, f *refreshFixture) (tenant string, form url.Values)
		status       int
		code         string
		aadsts       int
		suberror     string
		claimsPolicy bool
	}{
		{"unknown tenant", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			return newID(), f.form(graph)
		}, 400, "invalid_request", 90002, "", false},
		{"deleted tenant", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			f.s.Mutate(func(w *World) { w.Tenants[f.consented].Deleted = true })
			return f.consented, f.form(graph)
		}, 400, "invalid_request", 90002, "", false},
		{"unknown client", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Set("client_id", newID())
			return f.partner.TenantID, form
		}, 400, "unauthorized_client", 700016, "", false},
		{"unknown refresh token", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Set("refresh_token", "1.AQnotatoken")
			return f.partner.TenantID, form
		}, 400, "invalid_grant", 9002313, "", false},
		// AADSTS700007, as the service answers it:
		// https://github.com/microsoft/Partner-Center-PowerShell/issues/419
		{"another client's token", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			other := registerSAM(t, f.s, AppSpec{DisplayName: "Other"})
			form := f.form(graph)
			form.Set("client_id", other.AppID)
			form.Set("client_secret", other.Secret)
			return f.partner.TenantID, form
		}, 400, "invalid_grant", 700007, "", false},
		{"public token with a secret", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Set("refresh_token", mint(t, f.s, f.app.AppID, MintPublic()))
			return f.partner.TenantID, form
		}, 401, "invalid_client", 700025, "", false},
		{"confidential token without a secret", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Del("client_secret")
			return f.partner.TenantID, form
		}, 401, "invalid_client", 7000218, "", false},
		{"wrong secret", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Set("client_secret", f.app.SecretKeyID)
			return f.partner.TenantID, form
		}, 401, "invalid_client", 7000215, "", false},
		{"expired secret", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			if err := f.s.ExpireSecrets(f.app.AppID); err != nil {
				t.Fatal(err)
			}
			return f.partner.TenantID, f.form(graph)
		}, 401, "invalid_client", 7000222, "", false},
		{"idle for 91 days", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			if _, err := f.s.AddSecret(f.app.AppID, 5*365*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			f.s.Clock().Advance(91 * 24 * time.Hour)
			return f.partner.TenantID, f.form(graph)
		}, 400, "invalid_grant", 700082, "", false},
		{"sessions revoked", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			if err := f.s.RevokeSessions(f.partner.AdminID); err != nil {
				t.Fatal(err)
			}
			return f.partner.TenantID, f.form(graph)
		}, 400, "invalid_grant", 50173, "", false},
		{"two resources", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			return f.partner.TenantID, f.form(graph + " https://outlook.office365.com/.default offline_access")
		}, 400, "invalid_scope", 28000, "", false},
		{"a scope the resource lacks", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			return f.partner.TenantID, f.form("https://graph.microsoft.com/Nope.Nothing")
		}, 400, "invalid_scope", 70011, "", false},
		// A partner's admin meets an app the customer never authorized:
		// AADSTS90099, https://learn.microsoft.com/entra/identity-platform/reference-error-codes
		{"not consented in the customer", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			return f.unconsented, f.form(graph)
		}, 400, "invalid_grant", 90099, "", false},
		{"permission not granted", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			return f.consented, f.form("https://graph.microsoft.com/Directory.ReadWrite.All")
		}, 400, "invalid_grant", 65001, "consent_required", false},
		{"no GDAP relationship", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			c := f.s.AddCustomer(CustomerSpec{Contract: true})
			if err := f.s.GrantConsent(f.app.AppID, c); err != nil {
				t.Fatal(err)
			}
			return c, f.form(graph)
		}, 400, "invalid_grant", 50020, "", false},
		{"GDAP relationship expired", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			c := f.s.AddCustomer(CustomerSpec{GDAP: true, GDAPStatus: "expired"})
			if err := f.s.GrantConsent(f.app.AppID, c); err != nil {
				t.Fatal(err)
			}
			return c, f.form(graph)
		}, 400, "invalid_grant", 50020, "", false},
		{"admin outside the GDAP groups", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			c := f.s.AddCustomer(CustomerSpec{GDAP: true, AdminOutsideGDAPGroups: true})
			if err := f.s.GrantConsent(f.app.AppID, c); err != nil {
				t.Fatal(err)
			}
			return c, f.form(graph)
		}, 400, "invalid_grant", 50020, "", false},
		{"conditional access demands MFA", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			c := f.s.AddCustomer(CustomerSpec{GDAP: true, DemandMFA: true})
			if err := f.s.GrantConsent(f.app.AppID, c); err != nil {
				t.Fatal(err)
			}
			return c, f.form(graph)
		}, 400, "invalid_grant", 50076, "basic_action", true},
		{"resource missing in the customer", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			f.s.Mutate(func(w *World) {
				tn := w.Tenants[f.consented]
				delete(tn.ServicePrincipals, tn.ServicePrincipalByAppID(PartnerCenterAppID).ID)
			})
			return f.consented, f.form("https://api.partnercenter.microsoft.com/user_impersonation")
		}, 400, "invalid_resource", 500011, "", false},
		{"unknown resource", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			return f.partner.TenantID, f.form("https://api.example.com/.default")
		}, 400, "invalid_resource", 500011, "", false},
		{"unsupported grant", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Set("grant_type", "password")
			return f.partner.TenantID, form
		}, 400, "unsupported_grant_type", 70003, "", false},
		{"no grant type", func(t *testing.T, f *refreshFixture) (string, url.Values) {
			form := f.form(graph)
			form.Del("grant_type")
			return f.partner.TenantID, form
		}, 400, "invalid_request", 900144, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRefreshFixture(t)
			tenant, form := tc.setup(t, &f)
			r := postToken(t, f.s, tenant, form)
			wantError(t, r, tc.status, tc.code, tc.aadsts)
			if r.str("suberror") != tc.suberror {
				t.Errorf("suberror = %q, want %q", r.str("suberror"), tc.suberror)
			}
			if tc.claimsPolicy {
				var ch struct {
					AccessToken struct {
						Capolids struct {
							Essential bool     `json:"essential"`
							Values    []string `json:"values"`
						} `json:"capolids"`
					} `json:"access_token"`
				}
				if err := json.Unmarshal([]byte(r.str("claims")), &ch); err != nil || !ch.AccessToken.Capolids.Essential ||
					len(ch.AccessToken.Capolids.Values) != 1 {
					t.Errorf("claims = %q, want a capolids challenge", r.str("claims"))
				}
			} else if _, ok := r.Body["claims"]; ok {
				t.Errorf("claims = %q, want none", r.str("claims"))
			}
		})
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	f := newRefreshFixture(t)
	first := postToken(t, f.s, f.partner.TenantID, f.form("https://graph.microsoft.com/.default"))
	second := postToken(t, f.s, f.partner.TenantID, f.form("https://graph.microsoft.com/.default"))
	if first.Status != 200 || second.Status != 200 {
		t.Fatalf("got %d, %d; want the old token to stay valid after a rotation", first.Status, second.Status)
	}
	rts := []string{f.rt, first.str("refresh_token"), second.str("refresh_token")}
	if rts[1] == rts[2] || rts[1] == rts[0] {
		t.Fatalf("refresh tokens %v: want a new one on every use", rts)
	}
	next := f.form("https://outlook.office365.com/.default")
	next.Set("refresh_token", rts[1])
	if r := postToken(t, f.s, f.consented, next); r.Status != 200 {
		t.Fatalf("rotated token: got %d %v", r.Status, r.Body)
	}
}

func TestRefreshTokenIdleExpiry(t *testing.T) {
	t.Parallel()
	f := newRefreshFixture(t)
	if _, err := f.s.AddSecret(f.app.AppID, 5*365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	f.s.Clock().Advance(60 * 24 * time.Hour)
	r := postToken(t, f.s, f.partner.TenantID, f.form("https://graph.microsoft.com/.default"))
	if r.Status != 200 {
		t.Fatalf("day 60: got %d %v", r.Status, r.Body)
	}
	f.s.Clock().Advance(31 * 24 * time.Hour)
	wantError(t, postToken(t, f.s, f.partner.TenantID, f.form("https://graph.microsoft.com/.default")), 400, "invalid_grant", 700082)
	rotated := f.form("https://graph.microsoft.com/.default")
	rotated.Set("refresh_token", r.str("refresh_token"))
	if r := postToken(t, f.s, f.partner.TenantID, rotated); r.Status != 200 {
		t.Errorf("day 91 with the token rotated on day 60: got %d %v, want 200", r.Status, r.Body)
	}
}

func TestRefreshTokenRevocationSparesNewSignIns(t *testing.T) {
	t.Parallel()
	f := newRefreshFixture(t)
	if err := f.s.RevokeSessions(f.partner.AdminID); err != nil {
		t.Fatal(err)
	}
	f.s.Clock().Advance(time.Second)
	form := f.form("https://graph.microsoft.com/.default")
	form.Set("refresh_token", mint(t, f.s, f.app.AppID))
	if r := postToken(t, f.s, f.partner.TenantID, form); r.Status != 200 {
		t.Errorf("token minted after the revocation: got %d %v, want 200", r.Status, r.Body)
	}
}

func TestRefreshTokenMFA(t *testing.T) {
	t.Parallel()
	f := newRefreshFixture(t)
	form := f.form("https://api.partnercenter.microsoft.com/.default")
	form.Set("refresh_token", mint(t, f.s, f.app.AppID, MintWithoutMFA()))
	r := postToken(t, f.s, f.partner.TenantID, form)
	if r.Status != 200 {
		t.Fatalf("got %d %v", r.Status, r.Body)
	}
	if amr := claimsOf(t, f.s, r.str("access_token")).Strings("amr"); slices.Contains(amr, "mfa") {
		t.Errorf("amr = %v, want no mfa for a sign-in without it", amr)
	}
	form.Set("refresh_token", r.str("refresh_token"))
	if r := postToken(t, f.s, f.partner.TenantID, form); slices.Contains(claimsOf(t, f.s, r.str("access_token")).Strings("amr"), "mfa") {
		t.Error("a rotated token gained MFA its sign-in lacked")
	}
}

func TestTokenEndpointMethod(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	resp, body := browse(t, s, s.URL()+"/common/oauth2/v2.0/token")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "AADSTS900561") {
		t.Errorf("GET /token: got %d %s, want 400 AADSTS900561", resp.StatusCode, body)
	}
}
