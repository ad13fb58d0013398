package graph_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestFaultNoSecretInLogsOrErrors calls Graph in many tenants with
// delegated and app-only tokens from a Provider, creates a client secret,
// and fails in every way Graph and the wire allow, logging at debug level
// throughout: no credential that crossed the wire may appear in a log line
// or an error.
func TestFaultNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	w := faulttest.NewSecretWorld(t, 8)
	ctx := t.Context()
	scope := w.Server.Cloud().Graph.Scope()
	newClient := func(src token.Source) *graph.Client {
		c, err := graph.New(src, graph.WithCloud(w.Server.Cloud()), graph.WithHTTPClient(w.Provider.HTTPClient()),
			graph.WithLogger(w.Logs.Logger()), graph.WithRetryPolicy(faulttest.Policy), graph.WithConsistencyRetry(0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var wg sync.WaitGroup
	for _, tenant := range append([]string{w.Partner}, w.Customers...) {
		wg.Go(func() {
			for _, c := range []*graph.Client{newClient(w.Provider.Source(tenant, scope)), newClient(w.Provider.AppSource(tenant, scope))} {
				_, err := c.Organization(ctx)
				w.Errors.Add(err)
				w.Errors.Add(drain(c.Users(ctx, graph.ListOptions{Top: 1})))
			}
		})
	}
	wg.Wait()
	if n := w.Errors.Len(); n > 0 {
		t.Fatalf("%d calls failed:\n%s", n, w.Errors.String())
	}

	// The partner's admin, with rights to create secrets.
	p := w.Server.Partner()
	admin := func(lifetime time.Duration) *graph.Client {
		return newClient(faulttest.StaticSource(w.Server.IssueAccessToken(testserver.TokenSpec{Resource: testserver.GraphResource,
			UserID: p.AdminID, UPN: p.AdminUPN, Scopes: []string{"Directory.AccessAsUser.All"}, MFA: true, Lifetime: lifetime})))
	}
	c := admin(0)
	cred, err := c.AddPassword(ctx, w.App.ObjectID, graph.PasswordCredential{DisplayName: "leak test"})
	if err != nil {
		t.Fatal(err)
	}
	w.Wire.Keep(cred.SecretText.Reveal())
	w.Errors.Add(c.RemovePassword(ctx, w.App.ObjectID, cred.KeyID))

	// Graph's refusals: an expired token, missing rights, unknown objects,
	// a $batch with failing items.
	_, err = admin(-time.Hour).Me(ctx)
	w.Errors.Add(err)
	delegated := newClient(w.Provider.Source(w.Customers[0], scope))
	_, err = delegated.CreateApplication(ctx, graph.Application{DisplayName: "not allowed"})
	w.Errors.Add(err)
	_, err = c.GetApplication(ctx, "6e1a2b3c-0000-4000-8000-000000000000")
	w.Errors.Add(err)
	_, err = c.ApplicationByAppID(ctx, "6e1a2b3c-0000-4000-8000-000000000000")
	w.Errors.Add(err)
	resps, err := c.Batch(ctx, []graph.BatchRequest{{URL: "/applications/6e1a2b3c-0000-4000-8000-000000000000"}, {URL: "/nowhere"}})
	w.Errors.Add(err)
	for _, r := range resps {
		w.Errors.Add(r.Err())
	}

	// Broken answers.
	w.UnderFaults(t, "graph", func(_ *testing.T, fctx context.Context) {
		_, err := c.AddPassword(fctx, w.App.ObjectID, graph.PasswordCredential{DisplayName: "under a fault"})
		w.Errors.Add(err)
		_, err = delegated.Organization(fctx)
		w.Errors.Add(err)
	})
	w.Check(t, 25)
}
