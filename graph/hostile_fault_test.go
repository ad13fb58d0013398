package graph_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
)

// TestFaultHostileIDs feeds customer ids read from hostile contract rows
// to every call that puts an id in a URL. Calls that take GUIDs refuse
// them all before anything is sent; calls that take other ids (grants,
// app role assignments) may send one that is a single path segment, and
// then the request stays on that segment.
func TestFaultHostileIDs(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	ctx := t.Context()
	c, good := e.c, e.app.ObjectID
	guidCalls := map[string]func(id string) error{
		"GetApplication":     func(id string) error { _, err := c.GetApplication(ctx, id); return err },
		"ApplicationByAppID": func(id string) error { _, err := c.ApplicationByAppID(ctx, id); return err },
		"UpdateApplication":  func(id string) error { return c.UpdateApplication(ctx, id, graph.Application{DisplayName: "x"}) },
		"DeleteApplication":  func(id string) error { return c.DeleteApplication(ctx, id) },
		"AddPassword": func(id string) error {
			_, err := c.AddPassword(ctx, id, graph.PasswordCredential{})
			return err
		},
		"RemovePassword object": func(id string) error { return c.RemovePassword(ctx, id, good) },
		"RemovePassword key":    func(id string) error { return c.RemovePassword(ctx, good, id) },
		"GetServicePrincipal":   func(id string) error { _, err := c.GetServicePrincipal(ctx, id); return err },
		"ServicePrincipalByAppID": func(id string) error {
			_, err := c.ServicePrincipalByAppID(ctx, id)
			return err
		},
		"CreateServicePrincipal": func(id string) error { _, err := c.CreateServicePrincipal(ctx, id); return err },
		"OAuth2PermissionGrants": func(id string) error { return drain(c.OAuth2PermissionGrants(ctx, id)) },
		"CreateOAuth2PermissionGrant": func(id string) error {
			_, err := c.CreateOAuth2PermissionGrant(ctx, graph.OAuth2PermissionGrant{ClientID: id, ConsentType: graph.ConsentAllPrincipals,
				ResourceID: e.graphSP, Scope: "User.Read"})
			return err
		},
		"AppRoleAssignments": func(id string) error { return drain(c.AppRoleAssignments(ctx, id)) },
		"AssignAppRole": func(id string) error {
			_, err := c.AssignAppRole(ctx, id, graph.AppRoleAssignment{PrincipalID: good, ResourceID: id, AppRoleID: directoryRoleReadAll})
			return err
		},
		"DeleteAppRoleAssignment sp": func(id string) error { return c.DeleteAppRoleAssignment(ctx, id, "x") },
	}
	// Calls whose id is any single path segment, with the path it lands on.
	segmentCalls := map[string]struct {
		path string
		call func(id string) error
	}{
		"UpdateOAuth2PermissionGrantScope": {"/graph/v1.0/oauth2PermissionGrants/", func(id string) error {
			return c.UpdateOAuth2PermissionGrantScope(ctx, id, "User.Read")
		}},
		"DeleteOAuth2PermissionGrant": {"/graph/v1.0/oauth2PermissionGrants/", func(id string) error {
			return c.DeleteOAuth2PermissionGrant(ctx, id)
		}},
		"DeleteAppRoleAssignment id": {"/graph/v1.0/servicePrincipals/" + e.graphSP + "/appRoleAssignments/", func(id string) error {
			return c.DeleteAppRoleAssignment(ctx, e.graphSP, id)
		}},
	}
	for _, id := range faulttest.ServeHostileContracts(t, e.srv) {
		short := faulttest.Short(id)
		for name, call := range guidCalls {
			faulttest.Refused(t, e.srv, name+"("+short+")", func() error {
				err := call(id)
				if err != nil && !errors.Is(err, graph.ErrInvalidArgument) {
					t.Errorf("%s(%q): err = %s, want graph.ErrInvalidArgument", name, short, faulttest.Short(err.Error()))
				}
				return err
			})
		}
		for name, sc := range segmentCalls {
			if httpx.ValidPathSegment(id) != nil {
				faulttest.Refused(t, e.srv, name+"("+short+")", func() error { return sc.call(id) })
				continue
			}
			e.srv.ResetRequests()
			_ = sc.call(id) // the fake has no such grant: 404
			for _, r := range e.srv.Requests() {
				if r.Path != sc.path+id {
					t.Errorf("%s(%q) requested %s, want %s{id}", name, short, faulttest.Short(r.Path), sc.path)
				}
			}
		}
		// A $batch item's URL may carry a query and odd characters, but
		// may not leave the version root.
		for _, u := range []string{id, "/applications/" + id} {
			leaves := strings.Contains(u, "..") || strings.HasPrefix(u, "//") || strings.Contains(u, "://") ||
				strings.ContainsAny(u, "\\#\x00\r\n") || strings.Contains(strings.ToLower(u), "%2")
			if !leaves {
				continue
			}
			faulttest.Refused(t, e.srv, "Batch("+faulttest.Short(u)+")", func() error {
				_, err := c.Batch(ctx, []graph.BatchRequest{{URL: u}})
				return err
			})
		}
	}
}

// TestFaultHostileDisplayName: a display name that tries to end its OData
// string literal and add a clause is sent as one literal, and a name with
// quotes round-trips.
func TestFaultHostileDisplayName(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	ctx := t.Context()
	injection := "SAM (sandbox)' and displayName eq 'SAM (sandbox)"
	e.srv.ResetRequests()
	var found []graph.Application
	for a, err := range e.c.ApplicationsByDisplayName(ctx, injection) {
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, a)
	}
	if len(found) != 0 {
		t.Errorf("the name %q matched %d applications, want none: it left its literal", injection, len(found))
	}
	reqs := e.srv.Requests()
	if len(reqs) != 1 || reqs[0].Query.Get("$filter") != "displayName eq 'SAM (sandbox)'' and displayName eq ''SAM (sandbox)'" {
		t.Errorf("sent %+v, want one request with the quotes doubled", reqs)
	}

	name := "O'Brien's \"app\" <script>\u202e"
	created, err := e.c.CreateApplication(ctx, graph.Application{DisplayName: name})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for a, err := range e.c.ApplicationsByDisplayName(ctx, name) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, a.DisplayName)
	}
	if created.DisplayName != name || len(names) != 1 || names[0] != name {
		t.Errorf("created %q, found %q; want %q both times", created.DisplayName, names, name)
	}
}
