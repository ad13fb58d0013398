package testserver

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestFirstPartyClients(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	cust := s.AddCustomer(CustomerSpec{GDAP: true})
	outside := s.AddCustomer(CustomerSpec{GDAP: true, AdminOutsideGDAPGroups: true})
	exo := mint(t, s, ExchangePowerShellID, MintScope("https://outlook.office365.com/.default offline_access"))
	boot := mint(t, s, s.BootstrapClientID)

	for _, tc := range []struct {
		name, client, rt, tenant, scope string
		wantScp                         string // "" for an error
		aadsts                          int
	}{
		{"exchange powershell in a GDAP customer", ExchangePowerShellID, exo, cust, "https://outlook.office365.com/.default", "Exchange.Manage", 0},
		{"exchange powershell at home", ExchangePowerShellID, exo, p.TenantID, "https://outlook.office365.com/.default", "Exchange.Manage", 0},
		{"exchange powershell without the minted scope", ExchangePowerShellID, exo, cust, "", "Exchange.Manage", 0},
		{"exchange powershell outside the GDAP groups", ExchangePowerShellID, exo, outside, "https://outlook.office365.com/.default", "", 50020},
		{"exchange powershell asking for Graph", ExchangePowerShellID, exo, cust, "https://graph.microsoft.com/.default", "", 65001},
		{"bootstrap client at home", s.BootstrapClientID, boot, p.TenantID, "https://graph.microsoft.com/.default", "Directory.ReadWrite.All", 0},
		// The partner's admin meets an app the customer never authorized.
		{"bootstrap client in a customer", s.BootstrapClientID, boot, cust, "https://graph.microsoft.com/.default", "", 90099},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postToken(t, s, tc.tenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {tc.client},
				"refresh_token": {tc.rt}, "scope": {tc.scope}})
			if tc.wantScp == "" {
				if !slices.Equal(r.codes(), []int{tc.aadsts}) {
					t.Fatalf("got %d %v, want AADSTS%d", r.Status, r.Body, tc.aadsts)
				}
				return
			}
			if r.Status != 200 {
				t.Fatalf("got %d %v", r.Status, r.Body)
			}
			c := claimsOf(t, s, r.str("access_token"))
			if !slices.Contains(c.Strings("scp"), tc.wantScp) || c.String("tid") != tc.tenant || c.String("appidacr") != "0" {
				t.Errorf("claims %v: want %s in %s for a public client", c, tc.wantScp, tc.tenant)
			}
			if tc.tenant != p.TenantID && c.String("idp") != "https://sts.windows.net/"+p.TenantID+"/" {
				t.Errorf("idp = %q, want the partner's issuer for a foreign user", c.String("idp"))
			}
		})
	}
}

func TestDemandMFA(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{GDAP: true, DemandMFA: true})
	app := registerSAM(t, s, AppSpec{}, cust)
	redeem := func() tokenReply {
		q := signIn(t, s, authorizeURL(s, cust, app.AppID, nil))
		return postToken(t, s, cust, url.Values{"grant_type": {"authorization_code"}, "client_id": {app.AppID},
			"client_secret": {app.Secret}, "code": {q.Get("code")}, "redirect_uri": {"http://localhost:53123"}})
	}
	r := redeem()
	if r.Status != 200 {
		t.Fatalf("an interactive sign-in with MFA: got %d %v, want 200", r.Status, r.Body)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.AppID}, "client_secret": {app.Secret},
		"refresh_token": {r.str("refresh_token")}, "scope": {"https://graph.microsoft.com/.default"}}
	wantError(t, postToken(t, s, cust, refresh), 400, "invalid_grant", 50076)

	s.Mutate(func(w *World) { w.Authorize.NoMFA = true })
	r = redeem()
	wantError(t, r, 400, "invalid_grant", 50076)
	if r.str("suberror") != "basic_action" || !strings.Contains(r.str("claims"), `"capolids"`) {
		t.Errorf("got suberror %q, claims %q; want basic_action and a capolids challenge", r.str("suberror"), r.str("claims"))
	}
}

func TestConsentAtSignIn(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	app := registerSAM(t, s, AppSpec{NoConsent: true})
	signIn(t, s, authorizeURL(s, p.TenantID, app.AppID, map[string]string{
		"scope": "https://graph.microsoft.com/User.Read.All https://outlook.office365.com/Exchange.Manage offline_access"}))
	s.Read(func(w *World) {
		pt := w.Partner
		sp := pt.ServicePrincipalByAppID(app.AppID)
		graph, exo := pt.ServicePrincipalByAppID(GraphAppID), pt.ServicePrincipalByAppID(ExchangeAppID)
		if got := pt.DelegatedScopes(sp.ID, graph.ID, "anyone"); !sameSet(got, []string{"User.Read.All", "offline_access"}) {
			t.Errorf("Graph grant = %v, want what was asked: User.Read.All offline_access", got)
		}
		if got := pt.DelegatedScopes(sp.ID, exo.ID, "anyone"); !slices.Equal(got, []string{"Exchange.Manage"}) {
			t.Errorf("Exchange grant = %v, want Exchange.Manage (consent spans resources at /authorize)", got)
		}
		if got := pt.AppRoles(sp.ID, w.Apps[GraphAppID], graph.ID); len(got) != 0 {
			t.Errorf("app roles = %v, want none without .default", got)
		}
	})

	// A user who is not an administrator consents for themselves only.
	var user string
	s.Mutate(func(w *World) {
		a := w.Partner.Admin()
		a.Roles = nil
		user = a.ID
	})
	signIn(t, s, authorizeURL(s, p.TenantID, app.AppID, map[string]string{"scope": "https://graph.microsoft.com/Directory.Read.All"}))
	s.Read(func(w *World) {
		pt := w.Partner
		sp, graph := pt.ServicePrincipalByAppID(app.AppID), pt.ServicePrincipalByAppID(GraphAppID)
		if got := pt.DelegatedScopes(sp.ID, graph.ID, "anyone"); slices.Contains(got, "Directory.Read.All") {
			t.Errorf("AllPrincipals scopes = %v: a user's consent must not be for everyone", got)
		}
		if got := pt.DelegatedScopes(sp.ID, graph.ID, user); !slices.Contains(got, "Directory.Read.All") {
			t.Errorf("the user's scopes = %v, want their own Directory.Read.All grant", got)
		}
	})
}
