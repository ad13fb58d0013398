package testserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pcDo sends a Partner Center request with tok and decodes a JSON answer
// into out (when not nil).
func pcDo(t *testing.T, s *Server, method, path, tok string, hdr http.Header, body any, out any) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+"/partner"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp
}

// pcAdminToken is a delegated Partner Center token of the partner's admin,
// with or without MFA.
func pcAdminToken(s *Server, mfa bool) string {
	p := s.Partner()
	return s.IssueAccessToken(TokenSpec{Resource: PartnerCenterResource, UserID: p.AdminID, UPN: p.AdminUPN,
		Scopes: []string{"user_impersonation"}, MFA: mfa})
}

// pcErrorBody is Partner Center's error; its code is a JSON number.
type pcErrorBody struct {
	Code        json.Number `json:"code"`
	Description string      `json:"description"`
	Source      string      `json:"source"`
}

func TestPartnerCustomersPaging(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	s.Mutate(func(w *World) { w.MaxPageSize = 2 })
	want := map[string]bool{}
	for range 5 {
		want[s.AddCustomer(CustomerSpec{PartnerCenter: true})] = true
	}
	s.AddCustomer(CustomerSpec{GDAP: true}) // not a Partner Center customer
	tok := pcAdminToken(s, true)

	got := map[string]bool{}
	path, hdr := "/v1/customers?size=10", http.Header{"Ms-Correlationid": {"corr-1"}}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging did not end")
		}
		var page struct {
			TotalCount int `json:"totalCount"`
			Items      []struct {
				ID             string `json:"id"`
				CompanyProfile struct {
					TenantID, Domain, CompanyName string
				} `json:"companyProfile"`
				Attributes struct{ ObjectType string } `json:"attributes"`
			} `json:"items"`
			Links struct {
				Next *struct {
					URI     string `json:"uri"`
					Method  string `json:"method"`
					Headers []struct{ Key, Value string }
				} `json:"next"`
			} `json:"links"`
		}
		resp := pcDo(t, s, http.MethodGet, path, tok, hdr, nil, &page)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("MS-CorrelationId") != "corr-1" {
			t.Fatalf("page %d: status %d, correlation %q", pages, resp.StatusCode, resp.Header.Get("MS-CorrelationId"))
		}
		if len(page.Items) > 2 || page.TotalCount != len(page.Items) {
			t.Errorf("page %d: %d items, totalCount %d; want at most 2, equal", pages, len(page.Items), page.TotalCount)
		}
		for _, it := range page.Items {
			if it.CompanyProfile.TenantID != it.ID || it.Attributes.ObjectType != "Customer" || it.CompanyProfile.Domain == "" {
				t.Errorf("item %+v is not a customer of the documented shape", it)
			}
			got[it.ID] = true
		}
		if page.Links.Next == nil {
			break
		}
		n := page.Links.Next
		if !strings.HasPrefix(n.URI, "/customers?") || !strings.Contains(n.URI, "seekOperation=Next") || n.Method != "GET" ||
			len(n.Headers) != 1 || n.Headers[0].Key != "MS-ContinuationToken" {
			t.Fatalf("next link %+v", n)
		}
		path = "/v1" + n.URI
		hdr = http.Header{"Ms-Correlationid": {"corr-1"}, "Ms-Continuationtoken": {n.Headers[0].Value}}
	}
	if len(got) != len(want) {
		t.Errorf("listed %d customers, want %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("customer %s not listed", id)
		}
	}

	// The continuation token is required, and only the service's own.
	for name, h := range map[string]http.Header{
		"missing":  {},
		"tampered": {"Ms-Continuationtoken": {"eyJvZmZzZXQiOjB9.AAAA"}},
	} {
		var e pcErrorBody
		resp := pcDo(t, s, http.MethodGet, "/v1/customers?size=2&seekOperation=Next", tok, h, nil, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Code == "" || e.Source != "PartnerFD" {
			t.Errorf("%s continuation token: %d %+v, want 400 in Partner Center's shape", name, resp.StatusCode, e)
		}
	}
}

func TestPartnerAuth(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{PartnerCenter: true})
	p := s.Partner()
	appOnly := s.IssueAccessToken(TokenSpec{Resource: PartnerCenterResource})
	for _, tc := range []struct {
		name, method, path, tok string
		status                  int
		code                    string
	}{
		{"no token", "GET", "/v1/customers", "", 401, pcInvalidToken},
		{"no MFA", "GET", "/v1/customers", pcAdminToken(s, false), 401, pcMFARequired},
		{"graph audience", "GET", "/v1/customers", s.IssueAccessToken(TokenSpec{Resource: GraphResource, UserID: p.AdminID, UPN: p.AdminUPN, Scopes: []string{"user_impersonation"}, MFA: true}), 401, pcInvalidToken},
		{"expired", "GET", "/v1/customers", s.IssueAccessToken(TokenSpec{Resource: PartnerCenterResource, UserID: p.AdminID, UPN: p.AdminUPN, Scopes: []string{"user_impersonation"}, MFA: true, Lifetime: -time.Minute}), 401, pcInvalidToken},
		{"customer tenant", "GET", "/v1/customers", s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: PartnerCenterResource, UPN: "admin@x", Scopes: []string{"user_impersonation"}, MFA: true}), 403, pcAccessDenied},
		{"not an admin agent", "GET", "/v1/customers", s.IssueAccessToken(TokenSpec{Resource: PartnerCenterResource, UPN: "someone@x", Scopes: []string{"user_impersonation"}, MFA: true}), 403, pcInsufficientPrivileges},
		{"app-only consent", "POST", "/v1/customers/" + cust + "/applicationconsents", appOnly, 403, pcAppOnlyNotSupported},
		{"app-only list", "GET", "/v1/customers", appOnly, 200, ""},
		{"admin list", "GET", "/v1/customers", pcAdminToken(s, true), 200, ""},
		{"unknown path", "GET", "/v1/nothing", pcAdminToken(s, true), 404, pcNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e pcErrorBody
			resp := pcDo(t, s, tc.method, tc.path, tc.tok, http.Header{"Ms-Requestid": {"req-1"}}, nil, &e)
			if resp.StatusCode != tc.status || string(e.Code) != tc.code {
				t.Fatalf("got %d %+v, want %d code %q", resp.StatusCode, e, tc.status, tc.code)
			}
			if resp.Header.Get("MS-RequestId") != "req-1" {
				t.Errorf("MS-RequestId echoed as %q, want req-1", resp.Header.Get("MS-RequestId"))
			}
		})
	}
}

// samApp registers a multi-tenant app in the partner tenant and returns it.
func samApp(s *Server, audience string) *App {
	app := &App{ObjectID: newID(), AppID: newID(), DisplayName: "SAM", SignInAudience: audience, HomeTenant: s.Partner().TenantID}
	s.Mutate(func(w *World) { w.Apps[app.AppID] = app })
	return app
}

func TestPartnerConsent(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{PartnerCenter: true, GDAP: true})
	blocked := s.AddCustomer(CustomerSpec{PartnerCenter: true, ConsentBlocked: true})
	notPC := s.AddCustomer(CustomerSpec{GDAP: true})
	app := samApp(s, "AzureADMultipleOrgs")
	single := samApp(s, "AzureADMyOrg")
	tok := pcAdminToken(s, true)
	consent := func(appID string) map[string]any {
		return map[string]any{"applicationId": appID, "displayName": "SAM", "applicationGrants": []map[string]string{
			{"enterpriseApplicationId": GraphAppID, "scope": "Directory.Read.All, User.Read.All"},
			{"enterpriseApplicationId": ExchangeAppID, "scope": "Exchange.Manage"},
		}}
	}

	var created struct {
		ApplicationID     string             `json:"applicationId"`
		ApplicationGrants []ApplicationGrant `json:"applicationGrants"`
	}
	resp := pcDo(t, s, "POST", "/v1/customers/"+cust+"/applicationconsents", tok, nil, consent(app.AppID), &created)
	if resp.StatusCode != http.StatusCreated || created.ApplicationID != app.AppID || len(created.ApplicationGrants) != 2 {
		t.Fatalf("create: %d %+v", resp.StatusCode, created)
	}
	s.Read(func(w *World) {
		tn := w.Tenants[cust]
		sp := tn.ServicePrincipalByAppID(app.AppID)
		if sp == nil {
			t.Fatal("no service principal for the app in the customer tenant")
		}
		graph, exo := tn.ServicePrincipalByAppID(GraphAppID), tn.ServicePrincipalByAppID(ExchangeAppID)
		if got := strings.Join(tn.DelegatedScopes(sp.ID, graph.ID, "anyone"), " "); got != "Directory.Read.All User.Read.All" {
			t.Errorf("Graph scopes %q", got)
		}
		if got := strings.Join(tn.DelegatedScopes(sp.ID, exo.ID, "anyone"), " "); got != "Exchange.Manage" {
			t.Errorf("Exchange scopes %q", got)
		}
		if len(w.Partner.Customers[0].Consents[app.AppID]) != 2 {
			t.Errorf("consent not recorded: %+v", w.Partner.Customers[0].Consents)
		}
	})

	for _, tc := range []struct {
		name, customer string
		body           any
		status         int
		code, text     string
	}{
		{"again", cust, consent(app.AppID), 409, pcUndefined, "Permission entry already exists."},
		{"blocked", blocked, consent(app.AppID), 403, pcInsufficientPrivileges, "Insufficient privileges"},
		{"not a Partner Center customer", notPC, consent(app.AppID), 404, pcTenantNotFound, "Tenant not found"},
		{"unknown tenant", newID(), consent(app.AppID), 404, pcTenantNotFound, "Tenant not found"},
		{"not a GUID", "contoso.onmicrosoft.com", consent(app.AppID), 400, pcInvalidCustomerID, "Invalid Customer ID"},
		{"single-tenant app", cust, consent(single.AppID), 400, pcInvalidProperty, "multi-tenant"},
		{"unknown app", cust, consent(newID()), 400, pcInvalidProperty, "no application"},
		{"no grants", cust, map[string]any{"applicationId": app.AppID}, 400, pcInvalidProperty, "applicationGrants"},
		{"not a resource", cust, map[string]any{"applicationId": app.AppID, "applicationGrants": []map[string]string{{"enterpriseApplicationId": single.AppID, "scope": "x"}}}, 400, pcInvalidProperty, "not a resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e pcErrorBody
			resp := pcDo(t, s, "POST", "/v1/customers/"+tc.customer+"/applicationconsents", tok, nil, tc.body, &e)
			if resp.StatusCode != tc.status || string(e.Code) != tc.code || !strings.Contains(e.Description, tc.text) {
				t.Errorf("got %d %+v, want %d code %q with %q", resp.StatusCode, e, tc.status, tc.code, tc.text)
			}
		})
	}

	resp = pcDo(t, s, "DELETE", "/v1/customers/"+cust+"/applicationconsents/"+app.AppID, tok, nil, nil, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	s.Read(func(w *World) {
		tn := w.Tenants[cust]
		if tn.ServicePrincipalByAppID(app.AppID) != nil {
			t.Error("the app's service principal survived the deletion")
		}
		for _, g := range tn.Grants {
			if tn.ServicePrincipals[g.ClientID] == nil {
				t.Errorf("grant %s of a deleted service principal survived", g.ID)
			}
		}
	})
	var e pcErrorBody
	if resp := pcDo(t, s, "DELETE", "/v1/customers/"+cust+"/applicationconsents/"+app.AppID, tok, nil, nil, &e); resp.StatusCode != 404 || string(e.Code) != pcNotFound {
		t.Errorf("second delete: %d %+v, want 404", resp.StatusCode, e)
	}
	if resp := pcDo(t, s, "POST", "/v1/customers/"+cust+"/applicationconsents", tok, nil, consent(app.AppID), nil); resp.StatusCode != http.StatusCreated {
		t.Errorf("consent after deletion: %d, want 201", resp.StatusCode)
	}
}
