package testserver

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// credsFixture is a SAM app with a secret and a certificate, consented in
// one customer.
type credsFixture struct {
	s        *Server
	app      AppInfo
	customer string
}

func newCredsFixture(t *testing.T) credsFixture {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	c := s.AddCustomer(CustomerSpec{GDAP: true})
	return credsFixture{s: s, app: registerSAM(t, s, AppSpec{Certificate: true}, c), customer: c}
}

func (f credsFixture) endpoint(tenant string) string {
	return f.s.URL() + "/" + tenant + "/oauth2/v2.0/token"
}

func (f credsFixture) secretForm(scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID}, "client_secret": {f.app.Secret}, "scope": {scope}}
}

func (f credsFixture) assertionForm(t *testing.T, scope string, edit func(h, c map[string]any)) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID}, "scope": {scope},
		"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {assertion(t, f.app, f.endpoint(f.customer), edit)}}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		form      func(t *testing.T, f credsFixture) url.Values
		wantAud   string
		wantRoles []string
		wantACR   string
	}{
		{"secret, graph", func(t *testing.T, f credsFixture) url.Values {
			return f.secretForm("https://graph.microsoft.com/.default")
		}, GraphResource, []string{"Directory.Read.All"}, "1"},
		{"secret in HTTP Basic, exchange", func(t *testing.T, f credsFixture) url.Values {
			form := f.secretForm("https://outlook.office365.com/.default")
			form.Del("client_secret")
			form.Set("basic", f.app.Secret)
			return form
		}, ExchangeResource, []string{"Exchange.ManageAsApp"}, "1"},
		{"OpenID Connect scopes are ignored", func(t *testing.T, f credsFixture) url.Values {
			return f.secretForm("https://graph.microsoft.com/.default openid offline_access profile")
		}, GraphResource, []string{"Directory.Read.All"}, "1"},
		{"by app id", func(t *testing.T, f credsFixture) url.Values {
			return f.secretForm(GraphAppID + "/.default")
		}, GraphResource, []string{"Directory.Read.All"}, "1"},
		{"no application permission: no roles", func(t *testing.T, f credsFixture) url.Values {
			return f.secretForm("https://api.partnercenter.microsoft.com/.default")
		}, PartnerCenterResource, nil, "1"},
		{"certificate, PS256 and x5t#S256", func(t *testing.T, f credsFixture) url.Values {
			return f.assertionForm(t, "https://graph.microsoft.com/.default", nil)
		}, GraphResource, []string{"Directory.Read.All"}, "2"},
		{"certificate, RS256 and x5t", func(t *testing.T, f credsFixture) url.Values {
			return f.assertionForm(t, "https://graph.microsoft.com/.default", func(h, c map[string]any) {
				h["alg"] = "RS256"
				delete(h, "x5t#S256")
				h["x5t"] = sha1Thumbprint(f.app)
			})
		}, GraphResource, []string{"Directory.Read.All"}, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newCredsFixture(t)
			form := tc.form(t, f)
			var r tokenReply
			if secret := form.Get("basic"); secret != "" {
				form.Del("basic")
				r = postBasic(t, f.s, f.customer, f.app.AppID, secret, form)
			} else {
				r = postToken(t, f.s, f.customer, form)
			}
			if r.Status != 200 {
				t.Fatalf("got %d %v, want 200", r.Status, r.Body)
			}
			c := claimsOf(t, f.s, r.str("access_token"))
			if c.String("aud") != tc.wantAud || c.String("tid") != f.customer || c.String("idtyp") != "app" ||
				c.String("appid") != f.app.AppID || c.String("appidacr") != tc.wantACR || c.String("scp") != "" || c.String("upn") != "" {
				t.Errorf("claims %v: want an app token for %s in %s", c, tc.wantAud, f.customer)
			}
			if _, has := c["roles"]; (tc.wantRoles == nil) == has || !slices.Equal(c.Strings("roles"), tc.wantRoles) {
				t.Errorf("roles = %v, want %v", c["roles"], tc.wantRoles)
			}
			var sp string
			f.s.Read(func(w *World) { sp = w.Tenants[f.customer].ServicePrincipalByAppID(f.app.AppID).ID })
			if c.String("oid") != sp || c.String("sub") != sp {
				t.Errorf("oid, sub = %s, %s; want the app's service principal %s", c.String("oid"), c.String("sub"), sp)
			}
			for _, k := range []string{"refresh_token", "id_token", "client_info"} {
				if _, ok := r.Body[k]; ok {
					t.Errorf("an app-only response has %s", k)
				}
			}
		})
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	t.Parallel()
	graph := "https://graph.microsoft.com/.default"
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, f credsFixture) (tenant string, form url.Values)
		status int
		code   string
		aadsts int
	}{
		{"scope without /.default", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.secretForm("https://graph.microsoft.com/User.Read.All")
		}, 400, "invalid_scope", 1002012},
		{"only OpenID Connect scopes", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.secretForm("openid offline_access profile")
		}, 400, "invalid_scope", 1002012},
		{"two resources", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.secretForm(graph + " https://outlook.office365.com/.default")
		}, 400, "invalid_scope", 70011},
		{"no scope", func(t *testing.T, f credsFixture) (string, url.Values) {
			form := f.secretForm(graph)
			form.Del("scope")
			return f.customer, form
		}, 400, "invalid_request", 900144},
		{"unknown resource", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.secretForm("https://api.example.com/.default")
		}, 400, "invalid_resource", 500011},
		{"app not consented in the tenant", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.s.AddCustomer(CustomerSpec{GDAP: true}), f.secretForm(graph)
		}, 400, "unauthorized_client", 700016},
		{"unknown app", func(t *testing.T, f credsFixture) (string, url.Values) {
			form := f.secretForm(graph)
			form.Set("client_id", newID())
			return f.customer, form
		}, 400, "unauthorized_client", 700016},
		{"unknown tenant", func(t *testing.T, f credsFixture) (string, url.Values) {
			return "nosuch.onmicrosoft.com", f.secretForm(graph)
		}, 400, "invalid_request", 90002},
		{"an alias names no tenant", func(t *testing.T, f credsFixture) (string, url.Values) {
			return "common", f.secretForm(graph)
		}, 400, "invalid_request", 9001023},
		{"no credential", func(t *testing.T, f credsFixture) (string, url.Values) {
			form := f.secretForm(graph)
			form.Del("client_secret")
			return f.customer, form
		}, 401, "invalid_client", 7000218},
		{"wrong secret", func(t *testing.T, f credsFixture) (string, url.Values) {
			form := f.secretForm(graph)
			form.Set("client_secret", "not-the-secret")
			return f.customer, form
		}, 401, "invalid_client", 7000215},
		{"expired secret", func(t *testing.T, f credsFixture) (string, url.Values) {
			f.s.Clock().Advance(3 * 365 * 24 * time.Hour)
			return f.customer, f.secretForm(graph)
		}, 401, "invalid_client", 7000222},
		{"assertion for another endpoint", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.assertionForm(t, graph, func(h, c map[string]any) { c["aud"] = "https://login.microsoftonline.com/x/oauth2/v2.0/token" })
		}, 401, "invalid_client", 50012},
		{"expired assertion", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.assertionForm(t, graph, func(h, c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })
		}, 401, "invalid_client", 700024},
		{"assertion from the future", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.assertionForm(t, graph, func(h, c map[string]any) {
				c["nbf"], c["exp"] = time.Now().Add(time.Hour).Unix(), time.Now().Add(2*time.Hour).Unix()
			})
		}, 401, "invalid_client", 700024},
		{"unregistered certificate", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.assertionForm(t, graph, func(h, c map[string]any) {
				h["x5t#S256"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			})
		}, 401, "invalid_client", 700027},
		{"bad signature", func(t *testing.T, f credsFixture) (string, url.Values) {
			form := f.assertionForm(t, graph, nil)
			a := form.Get("client_assertion")
			form.Set("client_assertion", a[:len(a)-6]+"AAAAAA")
			return f.customer, form
		}, 401, "invalid_client", 700027},
		{"sub differs from iss", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.assertionForm(t, graph, func(h, c map[string]any) { c["sub"] = newID() })
		}, 401, "invalid_client", 50048},
		{"assertion of another app", func(t *testing.T, f credsFixture) (string, url.Values) {
			return f.customer, f.assertionForm(t, graph, func(h, c map[string]any) { c["iss"], c["sub"] = GraphAppID, GraphAppID })
		}, 401, "invalid_client", 700021},
		{"malformed assertion", func(t *testing.T, f credsFixture) (string, url.Values) {
			form := f.assertionForm(t, graph, nil)
			form.Set("client_assertion", "not.a.jwt")
			return f.customer, form
		}, 401, "invalid_client", 50027},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newCredsFixture(t)
			tenant, form := tc.setup(t, f)
			wantError(t, postToken(t, f.s, tenant, form), tc.status, tc.code, tc.aadsts)
		})
	}
}

// postBasic posts a token request authenticating with HTTP Basic
// (client_secret_basic), the secret form-encoded as RFC 6749 §2.3.1 asks.
func postBasic(t *testing.T, s *Server, tenant, id, secret string, form url.Values) tokenReply {
	t.Helper()
	return postFormWith(t, s, "/"+tenant+"/oauth2/v2.0/token", form, func(r *http.Request) {
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	})
}
