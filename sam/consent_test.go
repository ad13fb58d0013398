package sam

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pushOptions sets up the SAM app with manifest m and returns the Partner
// it makes and the options to push its consent.
func pushOptions(t *testing.T, e *setupEnv, m Manifest) (*Partner, PushOptions) {
	t.Helper()
	opts := e.options()
	opts.Manifest = m
	e.setup(t.Context(), opts)
	return e.partner(), PushOptions{Manifest: m}
}

func TestPushConsentsIdempotent(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	a := e.s.AddCustomer(testserver.CustomerSpec{Name: "Alpha", GDAP: true, PartnerCenter: true})
	blocked := e.s.AddCustomer(testserver.CustomerSpec{Name: "Blocked", GDAP: true, PartnerCenter: true, ConsentBlocked: true})
	c := e.s.AddCustomer(testserver.CustomerSpec{Name: "Gamma", GDAP: true, PartnerCenter: true})
	sp, opts := pushOptions(t, e, DefaultManifest())
	var (
		mu       sync.Mutex
		reported []string
	)
	opts.Progress = func(r PushResult) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, r.Tenant)
	}
	tenants := []string{a, blocked, c}

	results, err := sp.PushConsent(t.Context(), tenants, opts)
	require.Len(t, results, len(tenants))
	require.ErrorIs(t, err, partner.ErrForbidden, "the blocked tenant's error is the call's")
	for i, r := range results {
		if r.Tenant != tenants[i] {
			t.Errorf("result %d is for %s, want %s", i, r.Tenant, tenants[i])
		}
	}
	for _, r := range []PushResult{results[0], results[2]} {
		if r.Err != nil || r.PartnerConsent != ConsentCreated || r.AssignmentsCreated != 2 || r.GrantsCreated != 0 {
			t.Errorf("tenant %s: %+v, want a created consent, 2 assignments, no extra grant", r.Tenant, r)
		}
	}
	if r := results[1]; !errors.Is(r.Err, partner.ErrForbidden) || r.PartnerConsent != "" || !strings.Contains(r.Err.Error(), blocked) {
		t.Errorf("blocked tenant: %+v, want a forbidden Partner Center consent naming the tenant", r)
	}
	slices.Sort(reported)
	sorted := slices.Sorted(slices.Values(tenants))
	if !slices.Equal(reported, sorted) {
		t.Errorf("progress reported %v, want every tenant once", reported)
	}

	// Pushing again changes nothing.
	before := e.snapshot()
	again, err := sp.PushConsent(t.Context(), []string{a, c}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if r.Err != nil || r.PartnerConsent != ConsentAlreadyExisted || r.AssignmentsCreated+r.GrantsCreated+r.GrantsUpdated != 0 {
			t.Errorf("second push to %s: %+v, want nothing done", r.Tenant, r)
		}
	}
	if added := before.added(e.snapshot()); len(added) > 0 {
		t.Errorf("the second push changed:\n%s", strings.Join(added, "\n"))
	}

	// Both kinds of customer token work.
	p := sp.Provider()
	if _, err := p.Token(t.Context(), a, e.s.Cloud().Exchange.Scope()); err != nil {
		t.Errorf("delegated Exchange token: %v", err)
	}
	tok, err := p.AppToken(t.Context(), c, e.s.Cloud().Exchange.Scope())
	if err != nil {
		t.Fatalf("app-only Exchange token: %v", err)
	}
	if cl, _ := tok.Claims(); !slices.Contains(cl.Roles, "Exchange.ManageAsApp") {
		t.Errorf("app-only Exchange roles = %v", cl.Roles)
	}
}

// TestPushConsentCannotAssign: without a delegated permission that may
// assign application permissions in the customer tenant, the CPV consent
// still works and the error says what to add to the manifest.
func TestPushConsentCannotAssign(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	cust := e.s.AddCustomer(testserver.CustomerSpec{GDAP: true, PartnerCenter: true})
	m := DefaultManifest()
	for i, r := range m.Resources {
		if r.ResourceAppID == GraphAppID {
			m.Resources[i].Delegated = slices.DeleteFunc(r.Delegated, func(p Permission) bool { return p.Name == "AppRoleAssignment.ReadWrite.All" })
		}
	}
	sp, opts := pushOptions(t, e, m)
	results, err := sp.PushConsent(t.Context(), []string{cust}, opts)
	require.Len(t, results, 1)
	res := results[0]
	if !errors.Is(err, ErrCannotAssignRoles) || !errors.Is(res.Err, ErrCannotAssignRoles) {
		t.Fatalf("PushConsent = %v, want ErrCannotAssignRoles", err)
	}
	if res.PartnerConsent != ConsentCreated || !strings.Contains(err.Error(), "AppRoleAssignment.ReadWrite.All") {
		t.Errorf("result = %+v", res)
	}
	if _, err := sp.Provider().Token(t.Context(), cust, e.s.Cloud().Graph.Scope()); err != nil {
		t.Errorf("delegated Graph token after the CPV consent: %v", err)
	}
}

// TestPushConsentCompletesGrants: a consent that exists already but lacks
// permissions the manifest has gained is completed inside the tenant.
func TestPushConsentCompletesGrants(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	cust := e.s.AddCustomer(testserver.CustomerSpec{GDAP: true, PartnerCenter: true})
	sp, opts := pushOptions(t, e, DefaultManifest())
	_, err := sp.PushConsent(t.Context(), []string{cust}, opts)
	require.NoError(t, err)
	// Someone trimmed the Graph grant and removed the Exchange one.
	var appID = sp.Provider().ApplicationID()
	e.s.Mutate(func(w *testserver.World) {
		tn := w.Tenants[cust]
		sp := tn.ServicePrincipalByAppID(appID)
		for id, g := range tn.Grants {
			switch {
			case g.ClientID != sp.ID:
			case g.ResourceID == tn.ServicePrincipalByAppID(ExchangeAppID).ID:
				delete(tn.Grants, id)
			case g.ResourceID == tn.ServicePrincipalByAppID(GraphAppID).ID:
				g.Scope = "User.Read Directory.Read.All AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All"
			}
		}
	})
	results, err := sp.PushConsent(t.Context(), []string{cust}, opts)
	require.NoError(t, err)
	res := results[0]
	if res.PartnerConsent != ConsentAlreadyExisted || res.GrantsCreated != 1 || res.GrantsUpdated != 1 {
		t.Errorf("result = %+v, want the Exchange grant made and the Graph one completed", res)
	}
}

func TestPushOptionsValidation(t *testing.T) {
	t.Parallel()
	sp, err := New(token.Credentials{TenantID: "contoso.com", ApplicationID: "5e1c1a2b-0000-4000-8000-00000000a11d",
		ClientSecret: token.NewSecret("not-used-here")})
	require.NoError(t, err)
	for name, o := range map[string]PushOptions{
		"invalid manifest": {Manifest: Manifest{Resources: []ResourceAccess{{ResourceAppID: "not-a-guid"}}}},
	} {
		results, err := sp.PushConsent(t.Context(), []string{"5e1c1a2b-0000-4000-8000-000000000001"}, o)
		assert.Error(t, err, name)
		assert.Nil(t, results, name)
	}
}
