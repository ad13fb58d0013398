package sam

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
)

// adminGraph signs the fake's admin in and returns a Graph client in the
// partner tenant.
func (e *setupEnv) adminGraph() *graph.Client {
	e.t.Helper()
	g, err := adminGraph(e.t.Context(), e.options())
	if err != nil {
		e.t.Fatalf("adminGraph: %v", err)
	}
	return g
}

func permissionGranted(in *Inspection, name string, kind PermissionKind) (granted, found bool) {
	for _, p := range in.Permissions {
		if p.Name == name && p.Kind == kind {
			return p.Granted, true
		}
	}
	return false, false
}

func TestInspect(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	res := e.setup(t.Context(), e.options())
	g := e.adminGraph()

	in, err := inspect(t.Context(), g, res.App.AppID)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if !in.HasServicePrincipal {
		t.Error("HasServicePrincipal = false")
	}
	if len(in.Secrets) != 1 || in.Secrets[0].ExpiresSoon || in.Secrets[0].Expired || in.Secrets[0].Hint == "" {
		t.Errorf("Secrets = %+v, want one fresh secret with a hint", in.Secrets)
	}
	wantURIs := []RedirectURI{{"web", "http://localhost"}, {"web", "http://127.0.0.1"}, {"publicClient", e.s.URL() + "/organizations/oauth2/nativeclient"}}
	if !slices.Equal(in.RedirectURIs, wantURIs) {
		t.Errorf("RedirectURIs = %v, want %v", in.RedirectURIs, wantURIs)
	}
	want := 0
	for _, r := range DefaultManifest().Resources {
		want += len(r.Delegated) + len(r.Application)
	}
	if len(in.Permissions) != want {
		t.Errorf("%d permissions, want %d", len(in.Permissions), want)
	}
	for _, p := range in.Permissions {
		if !p.Granted {
			t.Errorf("%s %s on %s not granted after Setup", p.Kind, p.Name, p.Resource)
		}
	}

	// Expiry flags follow the clock.
	soon, err := inspectAt(t.Context(), g, res.App.AppID, time.Now().Add(DefaultSecretLifetime-10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !soon.Secrets[0].ExpiresSoon || soon.Secrets[0].Expired {
		t.Errorf("10 days before the end: %+v, want ExpiresSoon", soon.Secrets[0])
	}
	late, err := inspectAt(t.Context(), g, res.App.AppID, time.Now().Add(DefaultSecretLifetime+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !late.Secrets[0].Expired || late.Secrets[0].ExpiresSoon {
		t.Errorf("after the end: %+v, want Expired", late.Secrets[0])
	}

	// Real grants decide, not the request: withdraw some consent by hand.
	e.s.Mutate(func(w *testserver.World) {
		p := w.Partner
		sp := p.ServicePrincipalByAppID(res.App.AppID)
		exo := p.ServicePrincipalByAppID(ExchangeAppID)
		graphSP := p.ServicePrincipalByAppID(GraphAppID)
		for id, gr := range p.Grants {
			if gr.ClientID == sp.ID && gr.ResourceID == exo.ID {
				// A user's own consent is not admin consent.
				gr.ConsentType, gr.PrincipalID = "Principal", w.Partner.Admin().ID
				p.Grants[id] = gr
			}
		}
		for id, a := range p.AppRoleAssignments {
			if a.PrincipalID == sp.ID && a.ResourceID == graphSP.ID {
				delete(p.AppRoleAssignments, id)
			}
		}
	})
	in, err = inspect(t.Context(), g, res.App.AppID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		kind    PermissionKind
		granted bool
	}{
		{"Exchange.Manage", DelegatedPermission, false},
		{"Directory.Read.All", ApplicationPermission, false},
		{"Directory.Read.All", DelegatedPermission, true},
		{"Exchange.ManageAsApp", ApplicationPermission, true},
	} {
		granted, found := permissionGranted(in, c.name, c.kind)
		if !found || granted != c.granted {
			t.Errorf("%s %s: granted = %v (found %v), want %v", c.kind, c.name, granted, found, c.granted)
		}
	}
}

func TestInspectWithoutServicePrincipal(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	g := e.adminGraph()
	const appID = "5e1c1a2b-0000-4000-8000-00000000a11d"
	e.s.Mutate(func(w *testserver.World) {
		w.Apps[appID] = &testserver.App{ObjectID: "5e1c1a2b-0000-4000-8000-0000000000b1", AppID: appID, DisplayName: "bare", HomeTenant: w.Partner.ID,
			SignInAudience: "AzureADMultipleOrgs", CreatedAt: time.Now(),
			RequiredResourceAccess: []testserver.RequiredResourceAccess{{ResourceAppID: GraphAppID,
				ResourceAccess: []testserver.ResourceAccess{{ID: "df021288-bdef-4463-88db-98f22de89214", Type: "Role"}}}}}
	})
	in, err := inspect(t.Context(), g, appID)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if in.HasServicePrincipal {
		t.Error("HasServicePrincipal = true for an app without one")
	}
	if len(in.Permissions) != 1 || in.Permissions[0].Name != "User.Read.All" || in.Permissions[0].Granted || in.Permissions[0].Resource != "Microsoft Graph" {
		t.Errorf("Permissions = %+v, want User.Read.All on Microsoft Graph, not granted", in.Permissions)
	}
}

// expiry flags secrets and certificates alike: within ExpiryWarning of
// their end they expire soon, from their end on they have expired, and
// one without an end does neither.
func TestExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name          string
		end           time.Time
		soon, expired bool
	}{
		{"no end", time.Time{}, false, false},
		{"beyond the warning", now.Add(ExpiryWarning + time.Second), false, false},
		{"at the warning", now.Add(ExpiryWarning), true, false},
		{"a second before the end", now.Add(time.Second), true, false},
		{"at the end", now, false, true},
		{"after the end", now.Add(-time.Hour), false, true},
	} {
		soon, expired := expiry(tc.end, now)
		assert.Equal(t, tc.soon, soon, "%s: expires soon", tc.name)
		assert.Equal(t, tc.expired, expired, "%s: expired", tc.name)
	}
}
