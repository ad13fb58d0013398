package testserver

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// graphNewApp registers an app through Graph and returns its object.
func graphNewApp(t *testing.T, s *Server, tok string, body map[string]any) map[string]any {
	t.Helper()
	status, app, _ := graphDo(t, s, tok, http.MethodPost, "/applications", body)
	if status != http.StatusCreated {
		t.Fatalf("create application: got %d %v", status, app)
	}
	return app
}

func TestGraphApplicationLifecycle(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	p := s.Partner()
	tok := graphAdminToken(s, "", graphAllScopes...)

	app := graphNewApp(t, s, tok, map[string]any{
		"displayName":    "SAM",
		"signInAudience": "AzureADMultipleOrgs",
		"requiredResourceAccess": []map[string]any{{"resourceAppId": GraphAppID, "resourceAccess": []map[string]any{
			{"id": "a154be20-db9c-4678-8ab7-66f6cc099a59", "type": "Scope"}}}},
		"web": map[string]any{"redirectUris": []string{"https://localhost/cb"}},
	})
	id, appID := app["id"].(string), app["appId"].(string)
	if id == "" || appID == "" || app["createdDateTime"] == nil || app["signInAudience"] != "AzureADMultipleOrgs" ||
		app["publisherDomain"] != p.Domain || !strings.HasSuffix(app["@odata.context"].(string), "#applications/$entity") {
		t.Fatalf("created application = %v", app)
	}

	t.Run("read by id, appId and filter", func(t *testing.T) {
		for _, path := range []string{
			"/applications/" + id,
			"/applications(appId='" + appID + "')",
		} {
			status, got := graphGet(t, s, tok, path)
			if status != 200 || got["appId"] != appID || got["displayName"] != "SAM" {
				t.Errorf("GET %s: got %d %v", path, status, got)
			}
		}
		for _, filter := range []string{"displayName%20eq%20'SAM'", "appId%20eq%20'" + appID + "'"} {
			_, body := graphGet(t, s, tok, "/applications?$filter="+filter)
			if apps := graphValues(t, body); len(apps) != 1 || apps[0]["id"] != id {
				t.Errorf("$filter=%s: got %v", filter, apps)
			}
		}
		status, body := graphGet(t, s, tok, "/applications/"+newID())
		if status != 404 || graphErrCode(body) != "Request_ResourceNotFound" ||
			!strings.Contains(graphErrMessage(body), "does not exist or one of its queried reference-property objects are not present") {
			t.Errorf("unknown id: got %d %v", status, body)
		}
	})

	t.Run("update", func(t *testing.T) {
		status, body, _ := graphDo(t, s, tok, http.MethodPatch, "/applications/"+id, map[string]any{
			"displayName":            "SAM 2",
			"publicClient":           map[string]any{"redirectUris": []string{"http://localhost"}},
			"isFallbackPublicClient": true,
			"requiredResourceAccess": []map[string]any{{"resourceAppId": ExchangeAppID, "resourceAccess": []map[string]any{
				{"id": "dc50a0fb-09a3-484d-be87-e023b12c6440", "type": "Role"}}}},
		})
		if status != http.StatusNoContent || body != nil {
			t.Fatalf("PATCH: got %d %v, want 204 and no body", status, body)
		}
		_, got := graphGet(t, s, tok, "/applications/"+id)
		pub := got["publicClient"].(map[string]any)["redirectUris"].([]any)
		web := got["web"].(map[string]any)["redirectUris"].([]any)
		rra := got["requiredResourceAccess"].([]any)[0].(map[string]any)
		if got["displayName"] != "SAM 2" || got["isFallbackPublicClient"] != true || len(pub) != 1 || len(web) != 1 ||
			rra["resourceAppId"] != ExchangeAppID {
			t.Errorf("after PATCH: %v", got)
		}
		status, body, _ = graphDo(t, s, tok, http.MethodPatch, "/applications/"+id, map[string]any{"signInAudience": "Everyone"})
		if status != 400 || graphErrCode(body) != "Request_BadRequest" {
			t.Errorf("bad signInAudience: got %d %v", status, body)
		}
	})

	t.Run("secrets", func(t *testing.T) {
		end := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
		status, pw, _ := graphDo(t, s, tok, http.MethodPost, "/applications/"+id+"/addPassword",
			map[string]any{"passwordCredential": map[string]any{"displayName": "samkit", "endDateTime": end.Format(time.RFC3339)}})
		secret, _ := pw["secretText"].(string)
		keyID, _ := pw["keyId"].(string)
		if status != 200 || len(secret) < 16 || pw["hint"] != secret[:3] || keyID == "" || pw["displayName"] != "samkit" {
			t.Fatalf("addPassword: got %d %v", status, pw)
		}
		if got, _ := time.Parse(time.RFC3339, pw["endDateTime"].(string)); !got.Equal(end) {
			t.Errorf("endDateTime = %v, want %v", pw["endDateTime"], end)
		}
		// The secret is what the token endpoint checks...
		s.Read(func(w *World) {
			if ps := w.Apps[appID].Passwords; len(ps) != 1 || ps[0].Secret != secret || ps[0].KeyID != keyID {
				t.Errorf("world passwords = %+v", ps)
			}
		})
		// ...and reads never show it again.
		_, got := graphGet(t, s, tok, "/applications/"+id)
		creds := got["passwordCredentials"].([]any)
		if len(creds) != 1 {
			t.Fatalf("passwordCredentials = %v", creds)
		}
		c := creds[0].(map[string]any)
		if c["secretText"] != nil || c["hint"] != secret[:3] || c["keyId"] != keyID {
			t.Errorf("passwordCredential on read = %v, want hint and keyId, secretText null", c)
		}

		status, body, _ := graphDo(t, s, tok, http.MethodPost, "/applications(appId='"+appID+"')/removePassword", map[string]any{"keyId": keyID})
		if status != http.StatusNoContent {
			t.Fatalf("removePassword: got %d %v", status, body)
		}
		s.Read(func(w *World) {
			if n := len(w.Apps[appID].Passwords); n != 0 {
				t.Errorf("%d passwords left after removePassword", n)
			}
		})
		status, body, _ = graphDo(t, s, tok, http.MethodPost, "/applications/"+id+"/removePassword", map[string]any{"keyId": keyID})
		if status != 400 {
			t.Errorf("removing it again: got %d %v, want 400", status, body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		status, sp, _ := graphDo(t, s, tok, http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
		if status != http.StatusCreated {
			t.Fatalf("create SP: %d %v", status, sp)
		}
		if err := s.GrantConsent(appID, p.TenantID); err != nil {
			t.Fatal(err)
		}
		status, body, _ := graphDo(t, s, tok, http.MethodDelete, "/applications/"+id, nil)
		if status != http.StatusNoContent {
			t.Fatalf("DELETE: got %d %v", status, body)
		}
		if status, _ := graphGet(t, s, tok, "/applications/"+id); status != 404 {
			t.Errorf("GET after delete: %d, want 404", status)
		}
		if status, _ := graphGet(t, s, tok, "/servicePrincipals/"+sp["id"].(string)); status != 404 {
			t.Errorf("home-tenant service principal after delete: %d, want 404", status)
		}
		s.Read(func(w *World) {
			if w.Apps[appID] != nil {
				t.Error("the app is still in World.Apps: its secrets would still work")
			}
			for _, g := range w.Partner.Grants {
				if g.ClientID == sp["id"] {
					t.Errorf("grant %+v of the deleted app survived", g)
				}
			}
			for _, a := range w.Partner.AppRoleAssignments {
				if a.PrincipalID == sp["id"] {
					t.Errorf("assignment %+v of the deleted app survived", a)
				}
			}
		})
	})
}

func TestGraphApplicationErrors(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	p := s.Partner()
	tok := graphAdminToken(s, "", graphAllScopes...)
	// A member without an admin role holds the scope but not the right.
	plain := &User{ID: newID(), UPN: "plain@" + p.Domain, DisplayName: "Plain User", HomeTenant: p.TenantID}
	s.Mutate(func(w *World) { w.Partner.Users[plain.ID] = plain })
	plainTok := graphToken(s, graphTokenSpec{tenant: p.TenantID, oid: plain.ID, upn: plain.UPN, scp: graphAllScopes})

	for _, tc := range []struct {
		name   string
		tok    string
		body   map[string]any
		status int
		code   string
	}{
		{"no displayName", tok, map[string]any{"signInAudience": "AzureADMyOrg"}, 400, "Request_BadRequest"},
		{"bad access type", tok, map[string]any{"displayName": "x", "requiredResourceAccess": []map[string]any{
			{"resourceAppId": GraphAppID, "resourceAccess": []map[string]any{{"id": newID(), "type": "Delegated"}}}}}, 400, "Request_BadRequest"},
		{"user without an admin role", plainTok, map[string]any{"displayName": "x"}, 403, "Authorization_RequestDenied"},
		{"app-only with the role", graphAppToken(s, p.TenantID, "Application.ReadWrite.All"), map[string]any{"displayName": "x"}, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body, _ := graphDo(t, s, tc.tok, http.MethodPost, "/applications", tc.body)
			if status != tc.status || graphErrCode(body) != tc.code {
				t.Errorf("got %d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

func TestGraphReplicationDelay(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	s.Mutate(func(w *World) { w.ReplicationDelay = 10 * time.Second })
	tok := graphAdminToken(s, "", graphAllScopes...)

	app := graphNewApp(t, s, tok, map[string]any{"displayName": "Fresh", "signInAudience": "AzureADMultipleOrgs"})
	id, appID := app["id"].(string), app["appId"].(string)
	if status, body := graphGet(t, s, tok, "/applications/"+id); status != 404 || graphErrCode(body) != "Request_ResourceNotFound" {
		t.Errorf("read right after create: got %d %v, want 404", status, body)
	}
	if _, body := graphGet(t, s, tok, "/applications?$filter=appId%20eq%20'"+appID+"'"); len(graphValues(t, body)) != 0 {
		t.Errorf("filter right after create found the app: %v", body)
	}
	status, body, _ := graphDo(t, s, tok, http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	if status != 400 || !strings.Contains(graphErrMessage(body), "does not reference a valid application object") {
		t.Errorf("service principal for an unreplicated app: got %d %v", status, body)
	}
	// Objects that were there before the delay was set stay visible.
	if status, _ := graphGet(t, s, tok, "/servicePrincipals(appId='"+GraphAppID+"')"); status != 200 {
		t.Errorf("Graph's service principal: %d, want 200", status)
	}

	s.Clock().Advance(11 * time.Second)
	tok = graphAdminToken(s, "", graphAllScopes...)
	if status, body := graphGet(t, s, tok, "/applications/"+id); status != 200 || body["appId"] != appID {
		t.Errorf("read after the delay: got %d %v", status, body)
	}
	status, sp, _ := graphDo(t, s, tok, http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	if status != http.StatusCreated {
		t.Fatalf("service principal after the delay: %d %v", status, sp)
	}
	if status, _ := graphGet(t, s, tok, "/servicePrincipals/"+sp["id"].(string)); status != 404 {
		t.Errorf("new service principal read at once: %d, want 404", status)
	}
}
