package sam_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// TestCheckAccessStopsOnRefusedCredentials: credentials the identity
// platform refuses fail every tenant alike, so the run stops at the first
// such failure instead of asking for a token in each tenant, and says so
// once.
func TestCheckAccessStopsOnRefusedCredentials(t *testing.T) {
	t.Parallel()
	const customers = 40
	for _, tc := range []struct {
		name   string
		creds  func(*token.Credentials)
		checks sam.Checks
		code   string
	}{
		{"wrong secret", func(c *token.Credentials) { c.ClientSecret = token.NewSecret("not-the-secret") },
			sam.Checks{DelegatedGraph: true, DelegatedExchange: true}, "AADSTS7000215"},
		{"wrong secret, app-only", func(c *token.Credentials) { c.ClientSecret = token.NewSecret("not-the-secret") },
			sam.Checks{AppGraph: true}, "AADSTS7000215"},
		{"garbled refresh token", func(c *token.Credentials) { c.RefreshToken = token.NewSecret("garbled") },
			sam.Checks{DelegatedGraph: true}, "AADSTS9002313"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newAccessWorld(t)
			tenants := make([]sam.Tenant, customers)
			for i := range tenants {
				tenants[i] = w.customer(t, testserver.CustomerSpec{Name: fmt.Sprintf("Customer %02d", i), GDAP: true}, true)
			}
			creds := token.Credentials{TenantID: w.partner.TenantID, ApplicationID: w.app.AppID,
				ClientSecret: token.NewSecret(w.app.Secret), RefreshToken: token.NewSecret("unused")}
			if rt, err := w.s.MintRefreshToken(w.app.AppID); err == nil {
				creds.RefreshToken = token.NewSecret(rt)
			}
			tc.creds(&creds)
			ct := &sam.CountingTransport{Base: w.s.Client().Transport}
			hc := &http.Client{Transport: ct}
			opts := w.options(tenants, tc.checks)
			opts.creds, opts.hc, opts.concurrency = &creds, hc, 4

			rep, err := w.check(t.Context(), t, opts)
			require.NoError(t, err, "a stopped run is a report, not an error")
			require.NotNil(t, rep.Stopped, "the run should stop at the refused credentials")
			assert.Equal(t, tc.code, rep.Stopped.Code)
			assert.NotEmpty(t, rep.Stopped.Hint)
			assert.False(t, rep.OK())
			assert.LessOrEqual(t, ct.TokenRequests(), int64(opts.concurrency),
				"at most one token request per worker: the run stops at the first refusal")
			skipped := 0
			for _, r := range rep.Tenants {
				if r.Skipped() {
					skipped++
				}
			}
			assert.GreaterOrEqual(t, skipped, customers-opts.concurrency, "the tenants after the refusal are not checked")
			assert.Contains(t, rep.Summary(), "stopped, the credentials were refused")
		})
	}
}

func TestStopsRun(t *testing.T) {
	t.Parallel()
	secret := &token.Error{Code: "invalid_client", Codes: []int{7000215}}
	revoked := &token.Error{Code: "invalid_grant", Codes: []int{50173}}
	consent := &token.Error{Code: "invalid_grant", Codes: []int{65001}}
	for _, tc := range []struct {
		check sam.Check
		err   error
		want  bool
	}{
		{sam.CheckDelegatedGraph, fmt.Errorf("graph: getting a token: %w", secret), true},
		{sam.CheckAppGraph, secret, true},
		{sam.CheckDelegatedGraph, revoked, true},
		{sam.CheckPartnerCenter, revoked, true},
		// The legacy Exchange refresh token may be the one revoked.
		{sam.CheckDelegatedExchange, revoked, false},
		{sam.CheckDelegatedGraph, consent, false},
		{sam.CheckDelegatedGraph, fmt.Errorf("EOF"), false},
	} {
		assert.Equal(t, tc.want, sam.StopsRun(tc.check, tc.err), "%s: %v", tc.check, tc.err)
	}
}
