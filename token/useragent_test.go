package token_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestUserAgentOfEveryGrant: every token request, of each kind of token,
// says samkit made it, after the caller's product when one was named, so
// that a customer's sign-in log names both.
func TestUserAgentOfEveryGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   []token.Option
		prefix string
	}{
		{"samkit alone", nil, "samkit"},
		{"a product named", []token.Option{token.WithUserAgent("acme-msp/2.1")}, "acme-msp/2.1 samkit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, gdap)
			exRT, err := e.srv.MintRefreshToken(testserver.ExchangePowerShellID, testserver.MintPublic(),
				testserver.MintScope(testserver.ExchangeResource+"/.default offline_access"))
			require.NoError(t, err)
			c := e.credentials()
			c.ExchangeRefreshToken = token.NewSecret(exRT)
			p := e.provider(t, c, tc.opts...)
			customer := e.customers[0]
			_, err = p.Token(t.Context(), customer, e.srv.Cloud().Graph.Scope())
			require.NoError(t, err, "delegated (refresh_token)")
			_, err = p.AppToken(t.Context(), customer, e.srv.Cloud().Graph.Scope())
			require.NoError(t, err, "app-only (client_credentials)")
			_, err = p.LegacyExchangeToken(t.Context(), customer)
			require.NoError(t, err, "legacy Exchange (refresh_token, public client)")

			reqs := e.srv.Requests()
			require.Len(t, reqs, 3, "one token request of each kind")
			for _, r := range reqs {
				assert.Regexp(t, `^`+regexp.QuoteMeta(tc.prefix)+`(/\S+)?$`, r.UserAgent,
					"the %s grant of client %s names samkit, and its version when the build recorded one", r.Grant(), r.Form.Get("client_id"))
				assert.Equal(t, p.UserAgent(), r.UserAgent, "the Provider reports the User-Agent its requests carry")
			}
			assert.Equal(t, p.UserAgent(), p.Source(customer, "x").(token.UserAgentSource).UserAgent(),
				"a Source hands its Provider's User-Agent to the API clients built on it")
		})
	}
}

func TestWithUserAgentRefusesAHeaderBreak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, product := range []string{"acme/1\r\nX-Injected: 1", " acme/1"} {
		_, err := token.NewProvider(e.credentials(), token.WithUserAgent(product))
		require.Error(t, err, "%q is no product", product)
		assert.Contains(t, err.Error(), "token: WithUserAgent: ", "the error names the option")
	}
}
