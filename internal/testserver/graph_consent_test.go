package testserver

import (
	"net/http"
	"strings"
	"testing"
)

const (
	graphUserReadAll       = "User.Read.All"
	graphDirectoryReadRole = "7ab1d382-f21e-4acd-a863-ba3e13f7da61" // Graph Directory.Read.All (Role)
)

// graphConsentFixture is a multi-tenant app with its service principal in a
// customer tenant the partner admin reaches through GDAP.
type graphConsentFixture struct {
	s                   *Server
	tok, cust, appID    string
	clientSP, graphSPID string
}

func newGraphConsentFixture(t *testing.T) graphConsentFixture {
	t.Helper()
	s := newGraphServer(t)
	ptok := graphAdminToken(s, "", graphAllScopes...)
	app := graphNewApp(t, s, ptok, map[string]any{"displayName": "SAM", "signInAudience": "AzureADMultipleOrgs"})
	cust := s.AddCustomer(CustomerSpec{Name: "Contoso", GDAP: true})
	tok := graphAdminToken(s, cust, graphAllScopes...)
	appID := app["appId"].(string)
	status, sp, _ := graphDo(t, s, tok, http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	if status != http.StatusCreated {
		t.Fatalf("create service principal: %d %v", status, sp)
	}
	_, body := graphGet(t, s, tok, "/servicePrincipals?$filter=appId%20eq%20'"+GraphAppID+"'")
	graphSP := graphValues(t, body)
	if len(graphSP) != 1 {
		t.Fatalf("Graph's service principal: %v", body)
	}
	return graphConsentFixture{s: s, tok: tok, cust: cust, appID: appID, clientSP: sp["id"].(string), graphSPID: graphSP[0]["id"].(string)}
}

func TestGraphServicePrincipals(t *testing.T) {
	t.Parallel()
	f := newGraphConsentFixture(t)
	s, tok := f.s, f.tok

	status, sp := graphGet(t, s, tok, "/servicePrincipals/"+f.clientSP)
	if status != 200 || sp["appId"] != f.appID || sp["servicePrincipalType"] != "Application" || sp["displayName"] != "SAM" {
		t.Errorf("GET by id: %d %v", status, sp)
	}
	status, graph := graphGet(t, s, tok, "/servicePrincipals(appId='"+GraphAppID+"')")
	if status != 200 {
		t.Fatalf("Graph by appId: %d %v", status, graph)
	}
	var found bool
	for _, r := range graph["appRoles"].([]any) {
		role := r.(map[string]any)
		found = found || (role["id"] == graphDirectoryReadRole && role["value"] == "Directory.Read.All")
	}
	if !found {
		t.Errorf("Graph's appRoles lack Directory.Read.All: %v", graph["appRoles"])
	}
	if scopes := graph["oauth2PermissionScopes"].([]any); len(scopes) == 0 {
		t.Error("Graph publishes no oauth2PermissionScopes")
	}

	for _, tc := range []struct {
		name, appID, code, detail string
		status                    int
	}{
		{"again", f.appID, "Request_MultipleObjectsWithSameKeyValue", "ObjectConflict", http.StatusConflict},
		{"unknown app", newID(), "Request_BadRequest", "NoBackingApplicationObject", http.StatusBadRequest},
	} {
		status, body, _ := graphDo(t, s, tok, http.MethodPost, "/servicePrincipals", map[string]any{"appId": tc.appID})
		details, _ := body["error"].(map[string]any)["details"].([]any)
		if status != tc.status || graphErrCode(body) != tc.code || len(details) != 1 || details[0].(map[string]any)["code"] != tc.detail {
			t.Errorf("%s: got %d %v, want %d %s/%s", tc.name, status, body, tc.status, tc.code, tc.detail)
		}
	}

	// A single-tenant app of another tenant cannot be instantiated here.
	ptok := graphAdminToken(s, "", graphAllScopes...)
	local := graphNewApp(t, s, ptok, map[string]any{"displayName": "Internal"})
	status, body, _ := graphDo(t, s, tok, http.MethodPost, "/servicePrincipals", map[string]any{"appId": local["appId"]})
	if status != http.StatusBadRequest {
		t.Errorf("single-tenant app of the partner in a customer: %d %v, want 400", status, body)
	}

	status, body, _ = graphDo(t, s, tok, http.MethodDelete, "/servicePrincipals/"+f.clientSP, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %v", status, body)
	}
	if status, _ := graphGet(t, s, tok, "/servicePrincipals/"+f.clientSP); status != 404 {
		t.Errorf("GET after delete: %d, want 404", status)
	}
}

func TestGraphDelegatedGrants(t *testing.T) {
	t.Parallel()
	f := newGraphConsentFixture(t)
	s, tok := f.s, f.tok
	grant := map[string]any{"clientId": f.clientSP, "consentType": "AllPrincipals", "resourceId": f.graphSPID, "scope": graphUserReadAll}

	status, g, _ := graphDo(t, s, tok, http.MethodPost, "/oauth2PermissionGrants", grant)
	if status != http.StatusCreated || g["id"] == "" || g["scope"] != graphUserReadAll || g["principalId"] != nil {
		t.Fatalf("create: %d %v", status, g)
	}
	id := g["id"].(string)

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"again", grant, http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue"},
		{"unpublished scope", map[string]any{"clientId": f.clientSP, "consentType": "AllPrincipals", "resourceId": f.graphSPID, "scope": "Mail.Launch"}, 400, "Request_BadRequest"},
		{"unknown client", map[string]any{"clientId": newID(), "consentType": "AllPrincipals", "resourceId": f.graphSPID, "scope": graphUserReadAll}, 404, "Request_ResourceNotFound"},
		{"bad consent type", map[string]any{"clientId": f.clientSP, "consentType": "Everyone", "resourceId": f.graphSPID, "scope": graphUserReadAll}, 400, "Request_BadRequest"},
	} {
		status, body, _ := graphDo(t, s, tok, http.MethodPost, "/oauth2PermissionGrants", tc.body)
		if status != tc.status || graphErrCode(body) != tc.code {
			t.Errorf("%s: got %d %v, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
		if tc.name == "again" && graphErrMessage(body) != "Permission entry already exists." {
			t.Errorf("duplicate message = %q", graphErrMessage(body))
		}
	}

	for _, path := range []string{
		"/oauth2PermissionGrants?$filter=clientId%20eq%20'" + f.clientSP + "'",
		"/servicePrincipals/" + f.clientSP + "/oauth2PermissionGrants",
	} {
		status, body := graphGet(t, s, tok, path)
		if gs := graphValues(t, body); status != 200 || len(gs) != 1 || gs[0]["id"] != id {
			t.Errorf("GET %s: %d %v", path, status, body)
		}
	}

	status, body, _ := graphDo(t, s, tok, http.MethodPatch, "/oauth2PermissionGrants/"+id, map[string]any{"scope": "User.Read.All Directory.Read.All"})
	if status != http.StatusNoContent {
		t.Fatalf("PATCH: %d %v", status, body)
	}
	s.Read(func(w *World) {
		got := w.Tenants[f.cust].DelegatedScopes(f.clientSP, f.graphSPID, "anyone")
		if strings.Join(got, " ") != "User.Read.All Directory.Read.All" {
			t.Errorf("scopes the token endpoint sees = %v", got)
		}
	})
	status, body, _ = graphDo(t, s, tok, http.MethodPatch, "/oauth2PermissionGrants/"+id, map[string]any{"scope": "Nope.All"})
	if status != 400 {
		t.Errorf("PATCH with an unpublished scope: %d %v", status, body)
	}

	status, body, _ = graphDo(t, s, tok, http.MethodDelete, "/oauth2PermissionGrants/"+id, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %v", status, body)
	}
	if status, _ := graphGet(t, s, tok, "/oauth2PermissionGrants/"+id); status != 404 {
		t.Errorf("GET after delete: %d, want 404", status)
	}
}

func TestGraphAppRoleAssignments(t *testing.T) {
	t.Parallel()
	f := newGraphConsentFixture(t)
	s, tok := f.s, f.tok
	path := "/servicePrincipals/" + f.graphSPID + "/appRoleAssignedTo"
	body := map[string]any{"principalId": f.clientSP, "resourceId": f.graphSPID, "appRoleId": graphDirectoryReadRole}

	status, a, _ := graphDo(t, s, tok, http.MethodPost, path, body)
	if status != http.StatusCreated || a["appRoleId"] != graphDirectoryReadRole || a["principalId"] != f.clientSP ||
		a["principalType"] != "ServicePrincipal" || a["resourceDisplayName"] != "Microsoft Graph" {
		t.Fatalf("assign: %d %v", status, a)
	}
	id := a["id"].(string)
	s.Read(func(w *World) {
		if got := w.Tenants[f.cust].AppRoles(f.clientSP, w.Apps[GraphAppID], f.graphSPID); len(got) != 1 || got[0] != "Directory.Read.All" {
			t.Errorf("roles the token endpoint sees = %v", got)
		}
	})

	for _, tc := range []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"again", body, "Permission being assigned already exists on the object."},
		{"unknown role", map[string]any{"principalId": f.clientSP, "resourceId": f.graphSPID, "appRoleId": newID()}, "Permission being assigned was not found on application"},
	} {
		status, got, _ := graphDo(t, s, tok, http.MethodPost, path, tc.body)
		if status != 400 || graphErrCode(got) != "Request_BadRequest" || !strings.HasPrefix(graphErrMessage(got), tc.msg) {
			t.Errorf("%s: got %d %v, want 400 %q", tc.name, status, got, tc.msg)
		}
	}

	for _, p := range []string{path, "/servicePrincipals/" + f.clientSP + "/appRoleAssignments"} {
		status, got := graphGet(t, s, tok, p)
		if as := graphValues(t, got); status != 200 || len(as) != 1 || as[0]["id"] != id {
			t.Errorf("GET %s: %d %v", p, status, got)
		}
	}

	status, got, _ := graphDo(t, s, tok, http.MethodDelete, path+"/"+id, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %v", status, got)
	}
	if _, got := graphGet(t, s, tok, path); len(graphValues(t, got)) != 0 {
		t.Errorf("assignments after delete: %v", got)
	}
}

// The partner admin's rights in a customer are those of the GDAP
// relationship: a Microsoft-led transition one grants Directory Readers,
// which reads but does not consent.
func TestGraphGDAPRolesBoundWrites(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{MLT: true})
	tok := graphAdminToken(s, cust, graphAllScopes...)
	if status, body := graphGet(t, s, tok, "/users"); status != 200 {
		t.Errorf("read as Directory Readers: %d %v", status, body)
	}
	status, body, _ := graphDo(t, s, tok, http.MethodPost, "/applications", map[string]any{"displayName": "x"})
	if status != 403 {
		t.Errorf("create an app as Directory Readers: %d %v, want 403", status, body)
	}
	_, graph := graphGet(t, s, tok, "/servicePrincipals(appId='"+GraphAppID+"')")
	_, exo := graphGet(t, s, tok, "/servicePrincipals(appId='"+ExchangeAppID+"')")
	status, body, _ = graphDo(t, s, tok, http.MethodPost, "/oauth2PermissionGrants", map[string]any{
		"clientId": exo["id"], "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": "User.Read"})
	if status != 403 {
		t.Errorf("grant consent as Directory Readers: %d %v, want 403", status, body)
	}
}
