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

const samScope = "https://graph.microsoft.com/.default offline_access openid profile"

// authorizeURL builds an /authorize request; extra overrides parameters
// ("" deletes one).
func authorizeURL(s *Server, tenant, clientID string, extra map[string]string) string {
	v := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:53123"},
		"scope": {samScope}, "state": {"st-42"}, "prompt": {"consent"}}
	for k, x := range extra {
		if x == "" {
			v.Del(k)
		} else {
			v.Set(k, x)
		}
	}
	return s.URL() + "/" + tenant + "/oauth2/v2.0/authorize?" + v.Encode()
}

// signIn runs /authorize and returns the redirect's parameters.
func signIn(t *testing.T, s *Server, rawURL string) url.Values {
	t.Helper()
	resp, body := browse(t, s, rawURL)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: got %d %s, want a redirect", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	app := registerSAM(t, s, AppSpec{NoConsent: true})
	verifier, challenge := pkce()

	resp, body := browse(t, s, authorizeURL(s, p.TenantID, app.AppID, map[string]string{
		"code_challenge": challenge, "code_challenge_method": "S256", "nonce": "n-0S6"}))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Scheme+"://"+loc.Host+loc.Path != "http://localhost:53123/" {
		t.Fatalf("authorize: got %d %s %s, want a redirect to http://localhost:53123/", resp.StatusCode, loc, body)
	}
	code := loc.Query().Get("code")
	if loc.Query().Get("state") != "st-42" || !strings.HasPrefix(code, "1.AR") {
		t.Fatalf("redirect %s: want the state and a code", loc)
	}

	s.Read(func(w *World) {
		pt := w.Partner
		sp := pt.ServicePrincipalByAppID(app.AppID)
		if sp == nil {
			t.Fatal("consent created no service principal")
		}
		graph := pt.ServicePrincipalByAppID(GraphAppID)
		if got := pt.DelegatedScopes(sp.ID, graph.ID, "someone else"); !sameSet(got,
			[]string{"User.Read.All", "Directory.Read.All", "offline_access", "openid", "profile"}) {
			t.Errorf("AllPrincipals Graph grant = %v, want the app's static permissions", got)
		}
		if got := pt.AppRoles(sp.ID, w.Apps[GraphAppID], graph.ID); !slices.Equal(got, []string{"Directory.Read.All"}) {
			t.Errorf("app roles = %v, want the admin to grant Directory.Read.All too", got)
		}
	})

	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"code": {code}, "redirect_uri": {"http://localhost:53123"}, "code_verifier": {verifier}, "scope": {samScope},
		"client_info": {"1"}}
	r := postToken(t, s, p.TenantID, form)
	if r.Status != 200 {
		t.Fatalf("redeem: got %d %v", r.Status, r.Body)
	}
	at := claimsOf(t, s, r.str("access_token"))
	if at.String("aud") != GraphResource || !slices.Contains(at.Strings("amr"), "mfa") || at.String("appidacr") != "1" {
		t.Errorf("access token %v: want a Graph token with MFA", at)
	}
	id := claimsOf(t, s, r.str("id_token"))
	if id.String("aud") != app.AppID || id.String("iss") != s.URL()+"/"+p.TenantID+"/v2.0" || id.String("nonce") != "n-0S6" ||
		id.String("preferred_username") != p.AdminUPN || id.String("oid") != p.AdminID || id.String("ver") != "2.0" {
		t.Errorf("id token %v: want the admin's v2 ID token for the app with the nonce", id)
	}
	raw, err := b64.DecodeString(r.str("client_info"))
	var ci map[string]string
	if err != nil || json.Unmarshal(raw, &ci) != nil || ci["uid"] != p.AdminID || ci["utid"] != p.TenantID {
		t.Errorf("client_info = %q, want uid and utid of the admin", r.str("client_info"))
	}
	rt := r.str("refresh_token")
	if rt == "" {
		t.Fatal("no refresh token for offline_access")
	}

	wantError(t, postToken(t, s, p.TenantID, form), 400, "invalid_grant", 54005)

	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"refresh_token": {rt}, "scope": {"https://outlook.office365.com/.default"}}
	if r := postToken(t, s, p.TenantID, refresh); r.Status != 200 {
		t.Errorf("the refresh token from the code: got %d %v", r.Status, r.Body)
	}
	refresh.Del("client_secret")
	wantError(t, postToken(t, s, p.TenantID, refresh), 401, "invalid_client", 7000218)
}

func TestAuthorizationCodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		edit   func(t *testing.T, s *Server, form url.Values) (tenant string)
		status int
		code   string
		aadsts int
	}{
		{"PKCE mismatch", func(t *testing.T, s *Server, form url.Values) string {
			// A different first character: one verifier in 64 starts with x.
			v, first := form.Get("code_verifier"), "x"
			if v[0] == 'x' {
				first = "y"
			}
			form.Set("code_verifier", first+v[1:])
			return s.Partner().TenantID
		}, 400, "invalid_grant", 501481},
		{"no verifier", func(t *testing.T, s *Server, form url.Values) string {
			form.Del("code_verifier")
			return s.Partner().TenantID
		}, 400, "invalid_grant", 501481},
		{"another redirect URI", func(t *testing.T, s *Server, form url.Values) string {
			form.Set("redirect_uri", "http://localhost:1/")
			return s.Partner().TenantID
		}, 401, "invalid_client", 500112},
		{"after ten minutes", func(t *testing.T, s *Server, form url.Values) string {
			s.Clock().Advance(11 * time.Minute)
			return s.Partner().TenantID
		}, 400, "invalid_grant", 70008},
		{"without a secret", func(t *testing.T, s *Server, form url.Values) string {
			form.Del("client_secret")
			return s.Partner().TenantID
		}, 401, "invalid_client", 7000218},
		{"another tenant", func(t *testing.T, s *Server, form url.Values) string {
			return s.AddCustomer(CustomerSpec{GDAP: true})
		}, 400, "invalid_grant", 700005},
		{"unknown code", func(t *testing.T, s *Server, form url.Values) string {
			form.Set("code", "1.ARnothing")
			return s.Partner().TenantID
		}, 400, "invalid_grant", 9002313},
		{"scope of two resources", func(t *testing.T, s *Server, form url.Values) string {
			form.Set("scope", "https://graph.microsoft.com/.default https://outlook.office365.com/.default")
			return s.Partner().TenantID
		}, 400, "invalid_scope", 28000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New()
			defer s.Close()
			p := s.Partner()
			app := registerSAM(t, s, AppSpec{})
			verifier, challenge := pkce()
			q := signIn(t, s, authorizeURL(s, p.TenantID, app.AppID, map[string]string{"code_challenge": challenge, "code_challenge_method": "S256"}))
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
				"code": {q.Get("code")}, "redirect_uri": {"http://localhost:53123"}, "code_verifier": {verifier}}
			tenant := tc.edit(t, s, form)
			wantError(t, postToken(t, s, tenant, form), tc.status, tc.code, tc.aadsts)
		})
	}
}

func TestAuthorizePublicClient(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	verifier, _ := pkce()
	q := signIn(t, s, authorizeURL(s, p.TenantID, s.BootstrapClientID, map[string]string{
		"redirect_uri": "http://localhost:40001", "scope": "User.Read openid offline_access", "code_challenge": verifier}))
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {s.BootstrapClientID}, "code": {q.Get("code")},
		"redirect_uri": {"http://localhost:40001"}, "code_verifier": {verifier}, "client_secret": {"anything"}}
	wantError(t, postToken(t, s, p.TenantID, form), 401, "invalid_client", 700025)
	form.Del("client_secret")
	r := postToken(t, s, p.TenantID, form)
	if r.Status != 200 {
		t.Fatalf("got %d %v", r.Status, r.Body)
	}
	if c := claimsOf(t, s, r.str("access_token")); c.String("appidacr") != "0" || !slices.Contains(c.Strings("scp"), "User.Read") {
		t.Errorf("claims %v: want a public client's token with User.Read (plain PKCE challenge)", c)
	}
	if !strings.Contains(" "+r.str("scope")+" ", " User.Read ") {
		t.Errorf("scope = %q, want bare Graph names as requested", r.str("scope"))
	}
}

func TestAuthorizeResponses(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	app := registerSAM(t, s, AppSpec{WebRedirectURIs: []string{"https://app.example.com/callback", "http://localhost"}})
	gdap := s.AddCustomer(CustomerSpec{GDAP: true})
	stranger := s.AddCustomer(CustomerSpec{Contract: true})

	for _, tc := range []struct {
		name      string
		url       string
		wantPage  int    // status of an error page; 0 for a redirect
		wantText  string // in the page, or the redirect's error_description
		wantError string // the redirect's error
		wantHost  string
	}{
		{"unregistered redirect URI", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"redirect_uri": "https://evil.example.com/"}),
			400, "AADSTS50011", "", ""},
		{"loopback path differs", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"redirect_uri": "http://localhost:8400/other"}),
			400, "AADSTS50011", "", ""},
		{"loopback scheme differs", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"redirect_uri": "https://localhost:8400"}),
			400, "AADSTS50011", "", ""},
		{"another port on https is another URI", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"redirect_uri": "https://app.example.com:444/callback"}),
			400, "AADSTS50011", "", ""},
		{"no redirect URI", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"redirect_uri": ""}), 400, "AADSTS900971", "", ""},
		{"unknown app", authorizeURL(s, p.TenantID, newID(), nil), 400, "AADSTS700016", "", ""},
		{"unknown tenant", authorizeURL(s, "nosuch.example", app.AppID, nil), 400, "AADSTS90002", "", ""},
		{"tenant without GDAP", authorizeURL(s, stranger, app.AppID, nil), 400, "AADSTS50020", "", ""},
		{"registered URI", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"redirect_uri": "https://app.example.com/callback"}),
			0, "", "", "app.example.com"},
		{"customer through GDAP", authorizeURL(s, gdap, app.AppID, nil), 0, "", "", "localhost:53123"},
		{"response_type token", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"response_type": "token"}),
			0, "AADSTS70005", "unsupported_response_type", "localhost:53123"},
		{"no scope", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"scope": ""}), 0, "AADSTS900144", "invalid_request", "localhost:53123"},
		{"scope the resource lacks", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"scope": "https://graph.microsoft.com/Nope.Nothing"}),
			0, "AADSTS650053", "invalid_client", "localhost:53123"},
		{"unknown resource", authorizeURL(s, p.TenantID, app.AppID, map[string]string{"scope": "https://api.example.com/.default"}),
			0, "AADSTS500011", "invalid_resource", "localhost:53123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := browse(t, s, tc.url)
			if tc.wantPage != 0 {
				if resp.StatusCode != tc.wantPage || resp.Header.Get("Location") != "" || !strings.Contains(body, tc.wantText) {
					t.Errorf("got %d, Location %q; want a %d page with %s", resp.StatusCode, resp.Header.Get("Location"), tc.wantPage, tc.wantText)
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc.Host != tc.wantHost || loc.Query().Get("state") != "st-42" {
				t.Fatalf("got %d %s, want a redirect to %s with the state", resp.StatusCode, loc, tc.wantHost)
			}
			if q := loc.Query(); q.Get("error") != tc.wantError || !strings.HasPrefix(q.Get("error_description"), tc.wantText) ||
				(tc.wantError == "") != (q.Get("code") != "") {
				t.Errorf("redirect %s: want error %q %s", loc, tc.wantError, tc.wantText)
			}
		})
	}
	s.Read(func(w *World) {
		if w.Tenants[gdap].ServicePrincipalByAppID(app.AppID) == nil {
			t.Error("the admin's consent through GDAP created no service principal in the customer")
		}
	})
}

func TestAuthorizePolicy(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	app := registerSAM(t, s, AppSpec{})

	s.Mutate(func(w *World) { w.Authorize.Deny = true })
	q := signIn(t, s, authorizeURL(s, p.TenantID, app.AppID, nil))
	if q.Get("error") != "access_denied" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65004:") || q.Get("code") != "" {
		t.Errorf("deny: got %v, want access_denied with AADSTS65004", q)
	}

	s.Mutate(func(w *World) { w.Authorize = AuthorizePolicy{NoMFA: true} })
	q = signIn(t, s, authorizeURL(s, p.TenantID, app.AppID, nil))
	r := postToken(t, s, p.TenantID, url.Values{"grant_type": {"authorization_code"}, "client_id": {app.AppID},
		"client_secret": {app.Secret}, "code": {q.Get("code")}, "redirect_uri": {"http://localhost:53123"}})
	if r.Status != 200 {
		t.Fatalf("got %d %v", r.Status, r.Body)
	}
	if amr := claimsOf(t, s, r.str("access_token")).Strings("amr"); !slices.Equal(amr, []string{"pwd"}) {
		t.Errorf("amr = %v, want [pwd] for a sign-in without MFA", amr)
	}

	resp, body := browse(t, s, authorizeURL(s, p.TenantID, app.AppID, map[string]string{"response_mode": "form_post"}))
	if resp.StatusCode != 200 || !strings.Contains(body, `action="http://localhost:53123"`) ||
		!strings.Contains(body, `name="code" value="1.AR`) || !strings.Contains(body, `name="state" value="st-42"`) {
		t.Errorf("form_post: got %d %s, want a form posting code and state to the redirect URI", resp.StatusCode, body)
	}
}

func TestAdminConsentEndpoint(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	app := registerSAM(t, s, AppSpec{})
	cust := s.AddCustomer(CustomerSpec{GDAP: true})
	v := url.Values{"client_id": {app.AppID}, "redirect_uri": {"http://localhost:8080"}, "state": {"s1"},
		"scope": {"https://graph.microsoft.com/.default"}}
	q := signIn(t, s, s.URL()+"/"+cust+"/v2.0/adminconsent?"+v.Encode())
	if q.Get("admin_consent") != "True" || q.Get("tenant") != cust || q.Get("state") != "s1" {
		t.Fatalf("got %v, want admin_consent=True for the customer", q)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"scope": {"https://outlook.office365.com/.default"}}
	if r := postToken(t, s, cust, form); r.Status != 200 || !slices.Contains(claimsOf(t, s, r.str("access_token")).Strings("roles"), "Exchange.ManageAsApp") {
		t.Errorf("after admin consent: got %d %v, want an Exchange.ManageAsApp token", r.Status, r.Body)
	}
	s.Mutate(func(w *World) { w.Authorize.Deny = true })
	if q := signIn(t, s, s.URL()+"/"+cust+"/v2.0/adminconsent?"+v.Encode()); q.Get("error") != "permission_denied" {
		t.Errorf("deny: got %v, want permission_denied", q)
	}
}
