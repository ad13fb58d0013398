package graph

import (
	"errors"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
)

// newClientSP registers an app and its service principal, returning the
// latter and Graph's service principal.
func newClientSP(t *testing.T, f *fake) (client, graphSP ServicePrincipal) {
	t.Helper()
	ctx := t.Context()
	app, err := f.c.CreateApplication(ctx, samApp("client"))
	if err != nil {
		t.Fatal(err)
	}
	client, err = f.c.CreateServicePrincipal(ctx, app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	graphSP, err = f.c.ServicePrincipalByAppID(ctx, testserver.GraphAppID)
	if err != nil {
		t.Fatal(err)
	}
	return client, graphSP
}

func TestOAuth2PermissionGrants(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	ctx := t.Context()
	client, graphSP := newClientSP(t, f)

	g, err := f.c.CreateOAuth2PermissionGrant(ctx, OAuth2PermissionGrant{
		ClientID: client.ID, ConsentType: ConsentAllPrincipals, ResourceID: graphSP.ID, Scope: "User.Read Directory.Read.All",
	})
	if err != nil {
		t.Fatalf("CreateOAuth2PermissionGrant: %v", err)
	}
	if g.ID == "" || g.ClientID != client.ID || g.ResourceID != graphSP.ID || g.ConsentType != ConsentAllPrincipals ||
		g.PrincipalID != "" || len(g.Scopes()) != 2 {
		t.Errorf("created grant = %+v", g)
	}
	_, err = f.c.CreateOAuth2PermissionGrant(ctx, OAuth2PermissionGrant{
		ClientID: client.ID, ConsentType: ConsentAllPrincipals, ResourceID: graphSP.ID, Scope: "User.Read",
	})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("second grant: err = %v, want ErrConflict", err)
	}

	grants := collect(t, f.c.OAuth2PermissionGrants(ctx, client.ID))
	if len(grants) != 1 || grants[0].ID != g.ID || grants[0].Scope != "User.Read Directory.Read.All" {
		t.Errorf("OAuth2PermissionGrants = %+v, want the grant", grants)
	}

	if err := f.c.UpdateOAuth2PermissionGrantScope(ctx, g.ID, "User.Read"); err != nil {
		t.Fatalf("UpdateOAuth2PermissionGrantScope: %v", err)
	}
	grants = collect(t, f.c.OAuth2PermissionGrants(ctx, client.ID))
	if len(grants) != 1 || grants[0].Scope != "User.Read" {
		t.Errorf("after update: %+v, want scope User.Read", grants)
	}

	if err := f.c.DeleteOAuth2PermissionGrant(ctx, g.ID); err != nil {
		t.Fatalf("DeleteOAuth2PermissionGrant: %v", err)
	}
	if grants := collect(t, f.c.OAuth2PermissionGrants(ctx, client.ID)); len(grants) != 0 {
		t.Errorf("after delete: %+v, want none", grants)
	}
	if err := f.c.DeleteOAuth2PermissionGrant(ctx, g.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
}

func TestCreateOAuth2PermissionGrantRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	const id = "11111111-2222-4333-8444-555555555555"
	for _, g := range []OAuth2PermissionGrant{
		{ClientID: id, ResourceID: id, ConsentType: "Everyone", Scope: "a"},
		{ClientID: id, ResourceID: id, ConsentType: ConsentAllPrincipals, PrincipalID: id, Scope: "a"},
		{ClientID: id, ResourceID: id, ConsentType: ConsentAllPrincipals, Scope: " "},
	} {
		if _, err := f.c.CreateOAuth2PermissionGrant(t.Context(), g); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("CreateOAuth2PermissionGrant(%+v): err = %v, want ErrInvalidArgument", g, err)
		}
	}
	if n := len(f.graphRequests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}
