package sam

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
)

// TestWithUserAgent: every request samkit makes itself, through Setup and
// a Partner (token requests of each grant, Graph, Partner Center and
// Exchange), names samkit, after the product WithUserAgent named. The
// admin's sign-in is MSAL's, and the browser's is the browser's.
func TestWithUserAgent(t *testing.T) {
	t.Parallel()
	for _, product := range []string{"", "acme-msp/2.1"} {
		t.Run("product "+product, func(t *testing.T) {
			t.Parallel()
			e := newSetupEnv(t)
			customer := e.s.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam", GDAP: true, Contract: true})
			_, err := Setup(t.Context(), e.options(), WithUserAgent(product))
			require.NoError(t, err)
			creds, err := e.store.Load(t.Context())
			require.NoError(t, err)
			require.NoError(t, e.s.GrantConsent(creds.ApplicationID, customer))

			p := e.partner(WithUserAgent(product))
			_, err = p.Tenants(t.Context(), ListOptions{})
			require.NoError(t, err)
			rep, err := p.Check(t.Context(), []Tenant{{ID: customer}}, CheckOptions{Checks: Checks{DelegatedGraph: true, DelegatedExchange: true, AppGraph: true, PartnerCenter: true}})
			require.NoError(t, err)
			require.Empty(t, rep.Failures(), "a healthy customer")

			want := httpx.UserAgent(product)
			assert.Regexp(t, `samkit(/\S+)?$`, want)
			assert.Equal(t, want, p.Provider().UserAgent())
			seen := map[string]bool{}
			for _, r := range e.s.Requests() {
				if signIn(r) {
					continue
				}
				seen[r.Service+" "+r.Grant()] = true
				assert.Equal(t, want, r.UserAgent, "%s %s %s (grant %q)", r.Service, r.Method, r.Path, r.Grant())
			}
			for _, k := range []string{"login authorization_code", "login refresh_token", "login client_credentials", "graph ", "partner ", "exchange "} {
				assert.True(t, seen[k], "the run made a %s request", k)
			}
		})
	}
}

// signIn reports whether r is a request of the admin's sign-in, which
// MSAL and the browser make, not samkit: discovery, the device code, the
// authorization page, and MSAL's token requests, which ask for the
// client_info MSAL keeps accounts by.
func signIn(r testserver.Request) bool {
	return r.Service == "login" && (!r.IsToken() || r.Form.Get("client_info") == "1")
}

// TestClientsUserAgent: an API client's own WithUserAgent wins over its
// Provider's, and each option refuses a product that would break the
// header, naming itself.
func TestClientsUserAgent(t *testing.T) {
	t.Parallel()
	e, creds := setUpPartner(t)
	customer := e.s.AddCustomer(testserver.CustomerSpec{GDAP: true})
	require.NoError(t, e.s.GrantConsent(creds.ApplicationID, customer))
	tp := e.partner(WithUserAgent("acme-msp/2.1")).Provider()
	c := e.s.Cloud()
	ctx := t.Context()
	const product = "tool/3 (+https://tool.example)"
	e.s.ResetRequests()

	g, err := graph.New(tp.Source(customer, c.Graph.Scope()), graph.WithUserAgent(product))
	require.NoError(t, err)
	_, err = g.Organization(ctx)
	require.NoError(t, err)
	pc, err := partner.New(tp.Source(creds.TenantID, c.PartnerCenter.Scope()), partner.WithUserAgent(product))
	require.NoError(t, err)
	for _, err := range pc.Customers(ctx, partner.ListOptions{}) {
		require.NoError(t, err)
	}
	x, err := exchange.New(tp.Source(customer, c.Exchange.Scope()), customer, exchange.WithUserAgent(product))
	require.NoError(t, err)
	for _, err := range x.Invoke(ctx, "Get-OrganizationConfig", nil) {
		require.NoError(t, err)
	}

	seen := map[string]bool{}
	for _, r := range e.s.Requests() {
		seen[r.Service] = true
		want := httpx.UserAgent(product)
		if r.Service == "login" {
			want = tp.UserAgent() // the Provider's token requests keep its own
		}
		assert.Equal(t, want, r.UserAgent, "%s %s %s", r.Service, r.Method, r.Path)
	}
	assert.Equal(t, map[string]bool{"login": true, "graph": true, "partner": true, "exchange": true}, seen)

	src := tp.Source(customer, c.Graph.Scope())
	for name, err := range map[string]error{
		"graph":    second(graph.New(src, graph.WithUserAgent("a\nb"))),
		"partner":  second(partner.New(src, partner.WithUserAgent("a\nb"))),
		"exchange": second(exchange.New(src, customer, exchange.WithUserAgent("a\nb"))),
		"sam":      second(New(creds, WithUserAgent("a\nb"))),
	} {
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name+": WithUserAgent: ", "the error names the option")
	}
}

func second[T any](_ T, err error) error { return err }
