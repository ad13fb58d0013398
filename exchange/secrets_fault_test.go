package exchange_test

import (
	"context"
	"sync"
	"testing"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestFaultNoSecretInLogsOrErrors runs cmdlets in many tenants with
// delegated, app-only and legacy Exchange tokens from a Provider, and fails
// in every way the admin API and the wire allow, logging at debug level
// throughout: no credential that crossed the wire may appear in a log line
// or an error.
func TestFaultNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	w := faulttest.NewSecretWorld(t, 8)
	ctx := t.Context()
	scope := w.Server.Cloud().Exchange.Scope()
	newClient := func(src token.Source, tenant string) *exchange.Client {
		c, err := exchange.New(src, tenant, exchange.WithCloud(w.Server.Cloud()), exchange.WithHTTPClient(w.Provider.HTTPClient()),
			exchange.WithLogger(w.Logs.Logger()), exchange.WithRetryPolicy(faulttest.Policy), exchange.WithPageSize(1))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	invoke := func(ctx context.Context, c *exchange.Client, cmdlet string) {
		for _, err := range c.Invoke(ctx, cmdlet, nil) {
			w.Errors.Add(err)
		}
	}
	var wg sync.WaitGroup
	for _, tenant := range w.Customers {
		wg.Go(func() {
			for _, src := range []token.Source{w.Provider.Source(tenant, scope), w.Provider.AppSource(tenant, scope), w.Provider.LegacyExchangeSource(tenant)} {
				c := newClient(src, tenant)
				invoke(ctx, c, "Get-OrganizationConfig")
				invoke(ctx, c, "Get-Mailbox")
			}
		})
	}
	wg.Wait()
	if n := w.Errors.Len(); n > 0 {
		t.Fatalf("%d calls failed:\n%s", n, w.Errors.String())
	}

	// The admin API's refusals: no Exchange role, an unknown cmdlet, a
	// token of another tenant, and an object that does not exist.
	denied := w.Server.AddCustomer(testserver.CustomerSpec{GDAP: true, ExchangeDeny: true})
	if err := w.Server.GrantConsent(w.App.AppID, denied); err != nil {
		t.Fatal(err)
	}
	invoke(ctx, newClient(w.Provider.Source(denied, scope), denied), "Get-OrganizationConfig")
	c := newClient(w.Provider.Source(w.Customers[0], scope), w.Customers[0])
	invoke(ctx, c, "Get-Nothing")
	invoke(ctx, newClient(w.Provider.Source(w.Customers[1], scope), w.Customers[0]), "Get-OrganizationConfig")
	for _, err := range c.Invoke(ctx, "Get-Mailbox", map[string]any{"Identity": "nobody@nowhere.example"}) {
		w.Errors.Add(err)
	}

	// Broken answers.
	w.UnderFaults(t, "exchange", func(_ *testing.T, fctx context.Context) {
		invoke(fctx, c, "Get-Mailbox")
	})
	w.Check(t, 15)
}
