package testserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// graphTokenSpec is what a Graph access token says about its caller.
type graphTokenSpec struct {
	tenant   string
	oid, upn string   // delegated: the signed-in user
	scp      []string // delegated scopes
	roles    []string // app-only roles
	lifetime time.Duration
	aud      string
}

// graphToken signs an access token with the claims the identity platform
// issues for Graph (MICROSOFT-APIS.md §1), without a sign-in.
func graphToken(s *Server, spec graphTokenSpec) string {
	now := s.clock.Now()
	if spec.lifetime == 0 {
		spec.lifetime = time.Hour
	}
	if spec.aud == "" {
		spec.aud = GraphResource
	}
	c := Claims{
		"aud": spec.aud, "iss": "https://sts.windows.net/" + spec.tenant + "/", "tid": spec.tenant,
		"appid": newID(), "ver": "1.0",
		"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(spec.lifetime).Unix()),
	}
	if spec.upn != "" {
		c["oid"], c["upn"], c["scp"], c["amr"] = spec.oid, spec.upn, strings.Join(spec.scp, " "), []any{"pwd", "mfa"}
	} else {
		roles := []any{}
		for _, r := range spec.roles {
			roles = append(roles, r)
		}
		c["oid"], c["roles"], c["idtyp"] = newID(), roles, "app"
	}
	return s.sign(c)
}

// graphAdminToken is a delegated token of the partner's admin in tenant (the
// partner tenant when empty).
func graphAdminToken(s *Server, tenant string, scp ...string) string {
	p := s.Partner()
	if tenant == "" {
		tenant = p.TenantID
	}
	return graphToken(s, graphTokenSpec{tenant: tenant, oid: p.AdminID, upn: p.AdminUPN, scp: scp})
}

// graphAppToken is an app-only token in tenant.
func graphAppToken(s *Server, tenant string, roles ...string) string {
	return graphToken(s, graphTokenSpec{tenant: tenant, roles: roles})
}

// graphAllScopes is what the partner admin's SAM token typically carries.
var graphAllScopes = []string{"Directory.AccessAsUser.All", "Directory.ReadWrite.All", "Application.ReadWrite.All",
	"User.Read", "DelegatedAdminRelationship.Read.All"}

func newGraphServer(t *testing.T) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s
}

// graphDo sends a request to Graph and decodes the JSON answer.
func graphDo(t *testing.T, s *Server, tok, method, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = s.URL() + "/graph/v1.0" + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func graphGet(t *testing.T, s *Server, tok, path string) (int, map[string]any) {
	t.Helper()
	status, body, _ := graphDo(t, s, tok, http.MethodGet, path, nil)
	return status, body
}

// graphErrCode returns the error code of a Graph error body.
func graphErrCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func graphErrMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// graphValues returns a collection's items.
func graphValues(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %v", body)
	}
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

func TestGraphAuthentication(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	tid := s.Partner().TenantID
	expired := graphToken(s, graphTokenSpec{tenant: tid, roles: []string{"User.Read.All"}, lifetime: -time.Minute})
	exchange := graphToken(s, graphTokenSpec{tenant: tid, roles: []string{"User.Read.All"}, aud: ExchangeResource})
	unknownTenant := graphToken(s, graphTokenSpec{tenant: newID(), roles: []string{"User.Read.All"}})
	for _, tc := range []struct {
		name, tok string
	}{
		{"no token", ""},
		{"garbage", "not-a-jwt"},
		{"expired", expired},
		{"other audience", exchange},
		{"unknown tenant", unknownTenant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body, h := graphDo(t, s, tc.tok, http.MethodGet, "/users", nil)
			if status != http.StatusUnauthorized || graphErrCode(body) != "InvalidAuthenticationToken" {
				t.Errorf("got %d %v, want 401 InvalidAuthenticationToken", status, body)
			}
			if !strings.Contains(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", h.Get("WWW-Authenticate"))
			}
			inner, _ := body["error"].(map[string]any)["innerError"].(map[string]any)
			if inner["request-id"] == nil || inner["date"] == nil {
				t.Errorf("innerError = %v, want date and request-id", inner)
			}
		})
	}
}

func TestGraphPermissions(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	tid := s.Partner().TenantID
	weak := graphAdminToken(s, "", "openid")
	appWeak := graphAppToken(s, tid, "SecurityEvents.Read.All")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/users", nil},
		{"GET", "/organization", nil},
		{"GET", "/domains", nil},
		{"GET", "/me", nil},
		{"GET", "/me/memberOf", nil},
		{"GET", "/applications", nil},
		{"POST", "/applications", map[string]any{"displayName": "x"}},
		{"GET", "/servicePrincipals", nil},
		{"POST", "/servicePrincipals", map[string]any{"appId": GraphAppID}},
		{"GET", "/oauth2PermissionGrants", nil},
		{"POST", "/oauth2PermissionGrants", map[string]any{}},
		{"GET", "/contracts", nil},
		{"GET", "/tenantRelationships/delegatedAdminRelationships", nil},
		{"GET", "/tenantRelationships/delegatedAdminCustomers", nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			for _, tok := range []string{weak, appWeak} {
				status, body, _ := graphDo(t, s, tok, tc.method, tc.path, tc.body)
				if tc.path == "/me" || tc.path == "/me/memberOf" {
					if tok == appWeak {
						// An app-only token has no /me at all.
						if status != http.StatusBadRequest {
							t.Errorf("app-only: got %d %v, want 400", status, body)
						}
						continue
					}
				}
				if status != http.StatusForbidden || graphErrCode(body) != "Authorization_RequestDenied" ||
					graphErrMessage(body) != "Insufficient privileges to complete the operation." {
					t.Errorf("got %d %v, want 403 Authorization_RequestDenied", status, body)
				}
			}
		})
	}
}

func TestGraphDirectory(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	p := s.Partner()
	cust := s.AddCustomer(CustomerSpec{Name: "Fabrikam", GDAP: true, Users: 2})
	tok := graphAdminToken(s, "", graphAllScopes...)
	custTok := graphAdminToken(s, cust, graphAllScopes...)

	t.Run("organization", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, tok, "/organization")
		orgs := graphValues(t, body)
		if status != 200 || len(orgs) != 1 || orgs[0]["id"] != p.TenantID || orgs[0]["displayName"] != p.Name {
			t.Fatalf("got %d %v, want the partner organization", status, body)
		}
		doms := orgs[0]["verifiedDomains"].([]any)
		if d := doms[0].(map[string]any); d["name"] != p.Domain || d["isDefault"] != true {
			t.Errorf("verifiedDomains = %v", doms)
		}
		if !strings.HasSuffix(body["@odata.context"].(string), "/graph/v1.0/$metadata#organization") {
			t.Errorf("@odata.context = %v", body["@odata.context"])
		}
	})
	t.Run("me", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, tok, "/me")
		if status != 200 || body["id"] != p.AdminID || body["userPrincipalName"] != p.AdminUPN || body["@odata.context"] == nil {
			t.Errorf("got %d %v, want the partner admin", status, body)
		}
	})
	t.Run("me in a customer is a foreign principal", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, custTok, "/me")
		if status != 404 || graphErrCode(body) != "Request_ResourceNotFound" || !strings.Contains(graphErrMessage(body), p.AdminID) {
			t.Errorf("got %d %v, want 404 Request_ResourceNotFound", status, body)
		}
	})
	t.Run("me app-only", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, graphAppToken(s, p.TenantID, "User.Read.All"), "/me")
		if status != 400 || graphErrMessage(body) != "/me request is only valid with delegated authentication flow." {
			t.Errorf("got %d %v, want 400", status, body)
		}
	})
	for _, path := range []string{"/me/memberOf", "/me/transitiveMemberOf"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			status, body := graphGet(t, s, tok, path)
			if status != 200 {
				t.Fatalf("got %d %v", status, body)
			}
			var group, role bool
			for _, o := range graphValues(t, body) {
				switch o["@odata.type"] {
				case "#microsoft.graph.group":
					group = group || o["displayName"] == AdminAgentsGroupName
				case "#microsoft.graph.directoryRole":
					role = role || (o["roleTemplateId"] == GlobalAdminTemplateID && o["displayName"] == "Global Administrator")
				}
			}
			if !group || !role {
				t.Errorf("memberships %v: want AdminAgents and Global Administrator", body["value"])
			}
		})
	}
	t.Run("users", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, custTok, "/users?$top=999")
		if users := graphValues(t, body); status != 200 || len(users) != 3 { // two users and the admin
			t.Fatalf("got %d, %d users, want 3", status, len(users))
		}
		upn := "user1@fabrikam.onmicrosoft.com"
		status, body = graphGet(t, s, custTok, "/users?$filter=userPrincipalName%20eq%20'"+upn+"'&$select=id,userPrincipalName")
		users := graphValues(t, body)
		if status != 200 || len(users) != 1 || users[0]["userPrincipalName"] != upn || len(users[0]) != 2 {
			t.Errorf("filtered: got %d %v, want just %s with two properties", status, users, upn)
		}
		if ctx := body["@odata.context"].(string); !strings.HasSuffix(ctx, "#users(id,userPrincipalName)") {
			t.Errorf("@odata.context = %s", ctx)
		}
		_, body = graphGet(t, s, custTok, "/users?$filter=accountEnabled%20eq%20true")
		if n := len(graphValues(t, body)); n != 3 {
			t.Errorf("accountEnabled eq true: %d users, want 3", n)
		}
		status, body = graphGet(t, s, custTok, "/users/"+upn)
		if status != 200 || body["userPrincipalName"] != upn {
			t.Errorf("by UPN: got %d %v", status, body)
		}
	})
	t.Run("domains", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, custTok, "/domains")
		doms := graphValues(t, body)
		if status != 200 || len(doms) != 1 || doms[0]["id"] != "fabrikam.onmicrosoft.com" || doms[0]["isDefault"] != true {
			t.Errorf("got %d %v", status, doms)
		}
	})
}

func TestGraphQueryErrors(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	tok := graphAdminToken(s, "", graphAllScopes...)
	for _, tc := range []struct {
		path, code string
		status     int
	}{
		{"/users?$top=1000", "Request_UnsupportedQuery", 400},
		{"/users?$top=0", "Request_UnsupportedQuery", 400},
		{"/users?$top=abc", "Request_UnsupportedQuery", 400},
		{"/users?$filter=city%20eq%20'x'", "Request_UnsupportedQuery", 400},
		{"/users?$filter=startswith(displayName,'a')", "BadRequest", 400},
		{"/users?$skiptoken=bogus", "Directory_ExpiredPageToken", 400},
		{"/tenantRelationships/delegatedAdminRelationships?$top=301", "BadRequest", 400},
		{"/nothing", "BadRequest", 400},
		{"/users/" + newID(), "Request_ResourceNotFound", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			status, body := graphGet(t, s, tok, tc.path)
			if status != tc.status || graphErrCode(body) != tc.code {
				t.Errorf("got %d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		t.Parallel()
		status, body, _ := graphDo(t, s, tok, http.MethodDelete, "/users", nil)
		if status != http.StatusMethodNotAllowed {
			t.Errorf("got %d %v, want 405", status, body)
		}
	})
	t.Run("bad JSON", func(t *testing.T) {
		t.Parallel()
		status, body, _ := graphDo(t, s, tok, http.MethodPost, "/applications", "not an object")
		if status != 400 || graphErrCode(body) != "BadRequest" {
			t.Errorf("got %d %v, want 400 BadRequest", status, body)
		}
	})
}

func TestGraphPaging(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	cust := s.AddCustomer(CustomerSpec{Users: 4})
	s.Mutate(func(w *World) { w.MaxPageSize = 2 })
	tok := graphAdminToken(s, cust, graphAllScopes...)

	var ids []string
	next, pages := "/users?$select=id,displayName", 0
	for next != "" {
		status, body := graphGet(t, s, tok, next)
		require.Equal(t, http.StatusOK, status, "page %d: %v", pages, body)
		page := graphValues(t, body)
		require.LessOrEqual(t, len(page), 2, "a page holds at most MaxPageSize 2")
		for _, u := range page {
			ids = append(ids, u["id"].(string))
		}
		pages++
		next, _ = body["@odata.nextLink"].(string)
		if next != "" {
			require.True(t, strings.HasPrefix(next, s.URL()+"/graph/v1.0/users?"), "nextLink %q is absolute", next)
			require.Contains(t, next, "$skiptoken=")
			require.Contains(t, next, "$select=id,displayName", "the nextLink keeps the other query options")
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	assert.Equal(t, 3, pages, "5 users in pages of 2")
	assert.Len(t, ids, 5)
	assert.Len(t, seen, 5, "no user twice")

	// $top smaller than the cap pages by $top.
	_, body := graphGet(t, s, tok, "/users?$top=1")
	link, _ := body["@odata.nextLink"].(string)
	require.Len(t, graphValues(t, body), 1)
	require.Contains(t, link, "$top=1")
	// A token only works for the request it continues.
	for name, bad := range map[string]string{
		"tampered":     link[:len(link)-3] + "AAA",
		"other query":  strings.Replace(link, "$top=1", "$top=2", 1),
		"other tenant": link,
	} {
		tk := tok
		if name == "other tenant" {
			tk = graphAdminToken(s, "", graphAllScopes...)
		}
		status, body := graphGet(t, s, tk, bad)
		assert.Equal(t, http.StatusBadRequest, status, "%s skiptoken: %v", name, body)
		assert.Equal(t, "Directory_ExpiredPageToken", graphErrCode(body), "%s skiptoken", name)
	}
}
