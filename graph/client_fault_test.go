package graph_test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"testing"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
)

var graphService = faulttest.Service{
	Fault:  "graph",
	Prefix: "graph: ",
	Status: func(err error) (int, bool) {
		var e *graph.Error
		if errors.As(err, &e) {
			return e.StatusCode, true
		}
		return 0, false
	},
	Throttled: graph.ErrThrottled,
}

// directoryRoleReadAll is Graph's Directory.Read.All application
// permission.
const directoryRoleReadAll = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"

// faultEnv is a fake cloud with a registered app, a GDAP customer, and a
// Graph client acting as the partner's admin over a counting wire.
type faultEnv struct {
	srv     *testserver.Server
	wire    *faulttest.Wire
	c       *graph.Client
	app     testserver.AppInfo
	graphSP string
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddCustomer(testserver.CustomerSpec{GDAP: true, Contract: true})
	p := srv.Partner()
	tok := srv.IssueAccessToken(testserver.TokenSpec{Resource: testserver.GraphResource, UserID: p.AdminID, UPN: p.AdminUPN,
		Scopes: []string{"User.Read", "Directory.AccessAsUser.All", "DelegatedAdminRelationship.Read.All"}, MFA: true})
	e := &faultEnv{srv: srv, wire: faulttest.NewWire(srv), app: app}
	srv.Read(func(w *testserver.World) { e.graphSP = w.Partner.ServicePrincipalByAppID(testserver.GraphAppID).ID })
	e.c, err = graph.New(faulttest.StaticSource(tok), graph.WithCloud(srv.Cloud()), graph.WithHTTPClient(e.wire.Client()),
		graph.WithRetryPolicy(faulttest.Policy), graph.WithConsistencyRetry(0))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// drain ranges over an iterator to its end.
func drain[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// freshApp registers an app with a service principal and nothing granted,
// for operations that create something about it.
func (e *faultEnv) freshApp() (testserver.AppInfo, error) {
	return e.srv.RegisterApp(testserver.AppSpec{RequiredResourceAccess: []testserver.RequiredResourceAccess{}})
}

// unread are the faults whose 200 an operation without an answer body
// takes as done.
var unread = []testserver.FaultKind{testserver.Empty, testserver.Truncated}

// faultOps are the operations of the sweep, reads and writes.
func faultOps(e *faultEnv) []faulttest.Op {
	c, app := e.c, e.app
	read := func(name string, run func(ctx context.Context) error) faulttest.Op {
		return faulttest.Op{Name: name, Class: httpx.RetryAlways, Run: run}
	}
	var fresh testserver.AppInfo // the app the write in progress is about
	prepareFresh := func(context.Context) (err error) { fresh, err = e.freshApp(); return err }
	var keyID string
	return []faulttest.Op{
		read("Organization", func(ctx context.Context) error { _, err := c.Organization(ctx); return err }),
		read("Me", func(ctx context.Context) error { _, err := c.Me(ctx); return err }),
		read("Users", func(ctx context.Context) error { return drain(c.Users(ctx, graph.ListOptions{})) }),
		read("MemberOf", func(ctx context.Context) error { return drain(c.MemberOf(ctx)) }),
		read("TransitiveMemberOf", func(ctx context.Context) error { return drain(c.TransitiveMemberOf(ctx)) }),
		read("IsGlobalAdmin", func(ctx context.Context) error { _, err := c.IsGlobalAdmin(ctx); return err }),
		read("Domains", func(ctx context.Context) error { return drain(c.Domains(ctx)) }),
		read("GetApplication", func(ctx context.Context) error { _, err := c.GetApplication(ctx, app.ObjectID); return err }),
		read("ApplicationByAppID", func(ctx context.Context) error { _, err := c.ApplicationByAppID(ctx, app.AppID); return err }),
		read("ApplicationsByDisplayName", func(ctx context.Context) error {
			return drain(c.ApplicationsByDisplayName(ctx, "SAM (sandbox)"))
		}),
		read("GetServicePrincipal", func(ctx context.Context) error {
			_, err := c.GetServicePrincipal(ctx, app.ServicePrincipalID)
			return err
		}),
		read("ServicePrincipalByAppID", func(ctx context.Context) error {
			_, err := c.ServicePrincipalByAppID(ctx, app.AppID)
			return err
		}),
		read("ServicePrincipals", func(ctx context.Context) error { return drain(c.ServicePrincipals(ctx, graph.ListOptions{Top: 5})) }),
		read("OAuth2PermissionGrants", func(ctx context.Context) error {
			return drain(c.OAuth2PermissionGrants(ctx, app.ServicePrincipalID))
		}),
		read("AppRoleAssignments", func(ctx context.Context) error { return drain(c.AppRoleAssignments(ctx, app.ServicePrincipalID)) }),
		read("Contracts", func(ctx context.Context) error { return drain(c.Contracts(ctx)) }),
		read("DelegatedAdminRelationships", func(ctx context.Context) error { return drain(c.DelegatedAdminRelationships(ctx, "")) }),
		read("DelegatedAdminCustomers", func(ctx context.Context) error { return drain(c.DelegatedAdminCustomers(ctx)) }),
		{Name: "Batch", Class: httpx.RetryThrottleOnly, Run: func(ctx context.Context) error {
			resps, err := c.Batch(ctx, []graph.BatchRequest{{URL: "/organization"}, {URL: "/users?$top=2"}, {URL: "/applications/" + app.ObjectID}})
			if err != nil {
				return err
			}
			for _, r := range resps {
				if err := r.Err(); err != nil {
					return err
				}
			}
			return nil
		}},
		{Name: "CreateApplication", Class: httpx.RetryThrottleOnly, Run: func(ctx context.Context) error {
			_, err := c.CreateApplication(ctx, graph.Application{DisplayName: "fault sweep"})
			return err
		}},
		{Name: "UpdateApplication", Class: httpx.RetryAlways, Unread: unread, Run: func(ctx context.Context) error {
			return c.UpdateApplication(ctx, app.ObjectID, graph.Application{DisplayName: "SAM (sandbox)"})
		}},
		{Name: "DeleteApplication", Class: httpx.RetryAlways, Unread: unread, Prepare: prepareFresh, Run: func(ctx context.Context) error {
			return c.DeleteApplication(ctx, fresh.ObjectID)
		}},
		{Name: "AddPassword", Class: httpx.RetryThrottleOnly, Run: func(ctx context.Context) error {
			_, err := c.AddPassword(ctx, app.ObjectID, graph.PasswordCredential{DisplayName: "fault sweep"})
			return err
		}},
		{Name: "RemovePassword", Class: httpx.RetryThrottleOnly, Unread: unread,
			Prepare: func(ctx context.Context) error {
				p, err := c.AddPassword(ctx, app.ObjectID, graph.PasswordCredential{DisplayName: "to remove"})
				keyID = p.KeyID
				return err
			},
			Run: func(ctx context.Context) error { return c.RemovePassword(ctx, app.ObjectID, keyID) }},
		{Name: "CreateServicePrincipal", Class: httpx.RetryThrottleOnly,
			Prepare: func(context.Context) (err error) {
				fresh, err = e.srv.RegisterApp(testserver.AppSpec{NoConsent: true})
				return err
			},
			Run: func(ctx context.Context) error { _, err := c.CreateServicePrincipal(ctx, fresh.AppID); return err }},
		{Name: "CreateOAuth2PermissionGrant", Class: httpx.RetryThrottleOnly, Prepare: prepareFresh, Run: func(ctx context.Context) error {
			_, err := c.CreateOAuth2PermissionGrant(ctx, graph.OAuth2PermissionGrant{ClientID: fresh.ServicePrincipalID,
				ConsentType: graph.ConsentAllPrincipals, ResourceID: e.graphSP, Scope: "User.Read.All"})
			return err
		}},
		{Name: "AssignAppRole", Class: httpx.RetryThrottleOnly, Prepare: prepareFresh, Run: func(ctx context.Context) error {
			_, err := c.AssignAppRole(ctx, e.graphSP, graph.AppRoleAssignment{PrincipalID: fresh.ServicePrincipalID,
				ResourceID: e.graphSP, AppRoleID: directoryRoleReadAll})
			return err
		}},
	}
}

// TestFaultSweep drives every operation of the client into every fault
// of Graph's answers.
func TestFaultSweep(t *testing.T) {
	faulttest.NoLeaks(t)
	var names []string
	for _, op := range faultOps(&faultEnv{}) {
		names = append(names, op.Name)
	}
	faulttest.Concurrently(t, names, func(t *testing.T, i int) {
		e := newFaultEnv(t)
		faulttest.Sweep(t, faulttest.Target{Server: e.srv, Wire: e.wire, Service: graphService, Op: faultOps(e)[i]})
	})
}

// TestFaultBatchItems: Graph throttles and fails the items of a $batch one
// by one; the client sends throttled items again and reports the others
// as the items' own errors.
func TestFaultBatchItems(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	reqs := []graph.BatchRequest{{URL: "/organization"}, {URL: "/users?$top=2"}}
	tests := []struct {
		name  string
		fault testserver.Fault
		// want is the users item's status.
		want int
	}{
		{"throttled once", testserver.Fault{Kind: testserver.Throttle, RetryAfter: "1", Count: 1}, http.StatusOK},
		{"always throttled", testserver.Fault{Kind: testserver.Throttle, RetryAfter: "0.5"}, http.StatusTooManyRequests},
		{"500 once", testserver.Fault{Kind: testserver.Status, Status: 500, Count: 1}, http.StatusOK},
		{"always 503", testserver.Fault{Kind: testserver.Status, Status: 503}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fault
			f.Service, f.Path = "graph", "/v1.0/users"
			e.srv.Inject(f)
			defer e.srv.ClearFaults()
			e.wire.Reset()
			resps, err := e.c.Batch(t.Context(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			if n := e.wire.Count("graph"); n > faulttest.Policy.MaxAttempts {
				t.Errorf("%d $batch calls, want at most %d", n, faulttest.Policy.MaxAttempts)
			}
			if resps[0].Status != http.StatusOK || resps[1].Status != tt.want {
				t.Fatalf("statuses %d, %d; want 200, %d", resps[0].Status, resps[1].Status, tt.want)
			}
			if tt.want == http.StatusOK {
				return
			}
			var ge *graph.Error
			if err := resps[1].Err(); !errors.As(err, &ge) || ge.StatusCode != tt.want {
				t.Errorf("item error %v, want a *graph.Error with status %d", err, tt.want)
			}
		})
	}
}
