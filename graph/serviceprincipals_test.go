package graph

import (
	"errors"
	"slices"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
)

func TestServicePrincipals(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	ctx := t.Context()

	graphSP, err := f.c.ServicePrincipalByAppID(ctx, testserver.GraphAppID)
	if err != nil {
		t.Fatalf("ServicePrincipalByAppID(Graph): %v", err)
	}
	if graphSP.AppID != testserver.GraphAppID || graphSP.DisplayName != "Microsoft Graph" ||
		!slices.ContainsFunc(graphSP.AppRoles, func(r AppRole) bool {
			return r.Value == "Directory.Read.All" && r.ID == "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
		}) ||
		!slices.ContainsFunc(graphSP.OAuth2PermissionScopes, func(s PermissionScope) bool { return s.Value == "User.Read" }) {
		t.Errorf("Graph's service principal = %+v, want its app roles and scopes", graphSP)
	}
	got, err := f.c.GetServicePrincipal(ctx, graphSP.ID)
	if err != nil || got.ID != graphSP.ID || got.AppID != testserver.GraphAppID {
		t.Errorf("GetServicePrincipal = %+v, %v; want Graph's", got, err)
	}

	app, err := f.c.CreateApplication(ctx, samApp("sp"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.ServicePrincipalByAppID(ctx, app.AppID); !errors.Is(err, ErrNotFound) {
		t.Errorf("ServicePrincipalByAppID before creation: err = %v, want ErrNotFound", err)
	}
	sp, err := f.c.CreateServicePrincipal(ctx, app.AppID)
	if err != nil {
		t.Fatalf("CreateServicePrincipal: %v", err)
	}
	if sp.ID == "" || sp.AppID != app.AppID || sp.DisplayName != "sp" {
		t.Errorf("CreateServicePrincipal = %+v, want one for %s", sp, app.AppID)
	}
	if _, err := f.c.CreateServicePrincipal(ctx, app.AppID); !errors.Is(err, ErrConflict) {
		t.Errorf("second CreateServicePrincipal: err = %v, want ErrConflict", err)
	}
	if found, err := f.c.ServicePrincipalByAppID(ctx, app.AppID); err != nil || found.ID != sp.ID {
		t.Errorf("ServicePrincipalByAppID = %+v, %v; want %s", found, err, sp.ID)
	}

	all := collect(t, f.c.ServicePrincipals(ctx, ListOptions{Select: []string{"id", "appId"}}))
	if !slices.ContainsFunc(all, func(s ServicePrincipal) bool { return s.ID == sp.ID }) || len(all) < 5 {
		t.Errorf("ServicePrincipals listed %d, want the first-party ones and the new one", len(all))
	}
	filtered := collect(t, f.c.ServicePrincipals(ctx, ListOptions{Filter: "displayName eq " + Quote("Microsoft Graph")}))
	if len(filtered) != 1 || filtered[0].ID != graphSP.ID {
		t.Errorf("filtered ServicePrincipals = %+v, want Graph's", filtered)
	}

	if err := f.c.DeleteServicePrincipal(ctx, sp.ID); err != nil {
		t.Fatalf("DeleteServicePrincipal: %v", err)
	}
	if _, err := f.c.GetServicePrincipal(ctx, sp.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetServicePrincipal after delete: err = %v, want ErrNotFound", err)
	}
	if err := f.c.DeleteServicePrincipal(ctx, sp.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteServicePrincipal: err = %v, want ErrNotFound", err)
	}
}

func TestCreateServicePrincipalUnknownApp(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	_, err := f.c.CreateServicePrincipal(t.Context(), "99999999-9999-4999-8999-999999999999")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 400 || len(e.Details) != 1 || e.Details[0].Code != "NoBackingApplicationObject" {
		t.Fatalf("err = %v, want 400 with NoBackingApplicationObject", err)
	}
	if n := len(f.waits.all()); n != 0 {
		t.Errorf("%d replication waits for an app this client did not create, want 0", n)
	}
}
