package token_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// genericHints are the Hint texts of an error whose code has no advice of
// its own: a code in the hint table must never get one of them.
var genericHints = []string{"Look up ", "The refresh token was refused:", "The client credentials were rejected:",
	"The identity platform is throttling token requests:", "requires an interactive sign-in"}

// sentinelOf is the sentinel each hinted code must match, where people
// branch on it (token.Error.Is lists them).
var sentinelOf = map[int]error{
	65001: token.ErrConsentRequired, 90099: token.ErrConsentRequired, 65004: token.ErrConsentDeclined,
	50076: token.ErrMFARequired, 50078: token.ErrMFARequired, 50079: token.ErrMFARequired,
	70043: token.ErrSignInFrequency, 53003: token.ErrConditionalAccess, 53000: token.ErrConditionalAccess,
	53001: token.ErrConditionalAccess, 530032: token.ErrConditionalAccess,
	50173: token.ErrRevoked, 70008: token.ErrRevoked, 700082: token.ErrRefreshTokenExpired,
	70000: token.ErrRefreshTokenInvalid, 700007: token.ErrRefreshTokenInvalid, 9002313: token.ErrRefreshTokenInvalid,
	50196: token.ErrThrottled, 90055: token.ErrThrottled,
	7000215: token.ErrInvalidClient, 7000222: token.ErrSecretExpired, 7000218: token.ErrInvalidClient,
	700025: token.ErrInvalidClient, 700027: token.ErrInvalidClient, 700024: token.ErrInvalidClient,
	700016: token.ErrAppNotFound, 90002: token.ErrTenantNotFound, 50020: token.ErrNotInGDAPGroups, 50177: token.ErrNotInGDAPGroups,
}

// Every code the fake can answer reaches samkit as a *token.Error with
// that code, its own hint, and its sentinel.
func TestHintsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenant := e.srv.Partner().TenantID
	codes := testserver.IdentityErrorCodes()
	require.GreaterOrEqual(t, len(codes), 30, "at least 30 codes have a hint")
	for _, code := range codes {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			// Not parallel: one fault at a time, used by this request.
			p := e.provider(t, e.credentials(), token.WithRetryPolicy(token.RetryPolicy{MaxAttempts: 1}))
			e.srv.Inject(testserver.Fault{Kind: testserver.IdentityError, AADSTS: code, Service: "login", Path: "/oauth2/v2.0/token", Count: 1})
			_, err := p.Token(t.Context(), tenant, "https://graph.microsoft.com/.default")
			var te *token.Error
			require.ErrorAs(t, err, &te)
			require.NotEmpty(t, te.Codes)
			assert.Equal(t, code, te.Codes[0])
			hint := te.Hint()
			for _, g := range genericHints {
				assert.NotContains(t, hint, g, "AADSTS%d has a hint of its own", code)
			}
			if want, ok := sentinelOf[code]; ok {
				assert.ErrorIs(t, err, want)
			}
			if code == 50196 || code == 90055 {
				assert.NotErrorIs(t, err, token.ErrRevoked, "throttling is not a dead refresh token")
				assert.NotErrorIs(t, err, token.ErrRefreshTokenInvalid, "throttling is not a dead refresh token")
			}
			assert.NotContains(t, err.Error(), "\r", "the one-line message ends before the CRLF trailer")
		})
	}
}

// A refresh loop (AADSTS50196) is throttling to wait out; the refresh
// token is fine and works once the window has passed.
func TestRefreshLoopIsThrottling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testserver.CustomerSpec{GDAP: true})
	e.srv.Mutate(func(w *testserver.World) {
		w.TokenThrottle = testserver.TokenThrottle{RefreshRequests: 1, Window: time.Minute}
	})
	p := e.provider(t, e.credentials())
	cust := e.customers[0]
	_, err := p.Token(t.Context(), cust, "https://graph.microsoft.com/.default")
	require.NoError(t, err)
	_, err = p.Token(t.Context(), cust, "https://outlook.office365.com/.default")
	require.ErrorIs(t, err, token.ErrThrottled)
	assert.NotErrorIs(t, err, token.ErrRevoked)
	assert.NotErrorIs(t, err, token.ErrRefreshTokenInvalid)
	var te *token.Error
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Hint(), "wait")

	e.srv.Clock().Advance(time.Minute)
	_, err = p.Token(t.Context(), cust, "https://outlook.office365.com/.default")
	assert.NoError(t, err, "after the window the same refresh token works")
}

// Client credentials throttled with 429, Retry-After and a plain-text
// body: samkit waits (Retry-After, capped) and retries, and reports
// ErrThrottled when the retries run out.
func TestAppTokenThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testserver.CustomerSpec{GDAP: true})
	e.srv.Mutate(func(w *testserver.World) {
		w.TokenThrottle = testserver.TokenThrottle{AppRequests: 1, Window: time.Hour}
	})
	p := e.provider(t, e.credentials(), token.WithRetryPolicy(token.RetryPolicy{MaxAttempts: 3, MaxRetryAfter: time.Millisecond}))
	cust := e.customers[0]
	_, err := p.AppToken(t.Context(), cust, "https://graph.microsoft.com/.default")
	require.NoError(t, err)
	before := e.tokenRequests()
	_, err = p.AppToken(t.Context(), cust, "https://outlook.office365.com/.default")
	require.ErrorIs(t, err, token.ErrThrottled)
	assert.Equal(t, 3, e.tokenRequests()-before, "each of the 3 attempts was made after the Retry-After wait")
	var te *token.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusTooManyRequests, te.StatusCode)
	assert.Contains(t, te.Description, "Too many requests", "the plain-text body is quoted")
	assert.Contains(t, te.Hint(), "wait")
}

// Consent, client and credential mismatches, as the fake now answers
// them, reach samkit as the right sentinels.
func TestGrantMismatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env) (token.Credentials, func(p *token.Provider) error)
		want  error
		code  int
		hint  string
	}{
		{"customer never authorized the app", func(t *testing.T, e *env) (token.Credentials, func(p *token.Provider) error) {
			cust := e.srv.AddCustomer(testserver.CustomerSpec{GDAP: true})
			return e.credentials(), func(p *token.Provider) error {
				_, err := p.Token(t.Context(), cust, "https://graph.microsoft.com/.default")
				return err
			}
		}, token.ErrConsentRequired, 90099, "samctl consent push"},
		{"another app's refresh token", func(t *testing.T, e *env) (token.Credentials, func(p *token.Provider) error) {
			other, err := e.srv.RegisterApp(testserver.AppSpec{DisplayName: "Other"})
			require.NoError(t, err)
			c := e.credentials()
			c.ApplicationID, c.ClientSecret = other.AppID, token.NewSecret(other.Secret)
			return c, func(p *token.Provider) error {
				_, err := p.Token(t.Context(), e.srv.Partner().TenantID, "https://graph.microsoft.com/.default")
				return err
			}
		}, token.ErrRefreshTokenInvalid, 700007, "another application"},
		{"a secret not yet started", func(t *testing.T, e *env) (token.Credentials, func(p *token.Provider) error) {
			e.srv.Mutate(func(w *testserver.World) { w.Apps[e.app.AppID].Passwords[0].Start = e.srv.Clock().Now().Add(time.Hour) })
			return e.credentials(), func(p *token.Provider) error {
				_, err := p.AppToken(t.Context(), e.srv.Partner().TenantID, "https://graph.microsoft.com/.default")
				return err
			}
		}, token.ErrInvalidClient, 7000215, "secret value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c, call := tc.setup(t, e)
			err := call(e.provider(t, c))
			require.ErrorIs(t, err, tc.want)
			var te *token.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, []int{tc.code}, te.Codes)
			assert.Contains(t, te.Hint(), tc.hint)
			assert.False(t, errors.Is(err, token.ErrRevoked), "not a revoked token")
		})
	}
}

// Tokens live 60 to 90 minutes; the Provider takes each expiry from the
// answer, not from a fixed hour.
func TestRandomLifetimeKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testserver.CustomerSpec{GDAP: true})
	p := e.provider(t, e.credentials())
	for _, scope := range []string{"https://graph.microsoft.com/.default", "https://outlook.office365.com/.default"} {
		before := e.srv.Clock().Now().Truncate(time.Second)
		tok, err := p.Token(t.Context(), e.customers[0], scope)
		require.NoError(t, err)
		c, err := tok.Claims()
		require.NoError(t, err)
		life := c.Expiry.Sub(before)
		assert.GreaterOrEqual(t, life, 60*time.Minute, scope)
		assert.LessOrEqual(t, life, 91*time.Minute, scope)
		assert.False(t, tok.Expiry.Before(c.Expiry.Add(-time.Second)), "the cached expiry (%v) is the token's (%v), not an hour", tok.Expiry, c.Expiry)
	}
}

// Rehearsing the retirement of the Exchange Online PowerShell client: its
// refresh tokens are refused with AADSTS7000112, and the hint says the
// client is retired and what replaces it.
func TestLegacyExchangeClientRetired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testserver.CustomerSpec{GDAP: true})
	rt, err := e.srv.MintRefreshToken(token.ExchangePowerShellClientID, testserver.MintPublic(),
		testserver.MintScope("https://outlook.office365.com/.default"))
	require.NoError(t, err)
	c := e.credentials()
	c.ExchangeRefreshToken = token.NewSecret(rt)
	p := e.provider(t, c)
	_, err = p.LegacyExchangeToken(t.Context(), e.customers[0])
	require.NoError(t, err, "before the retirement the legacy token works")

	require.NoError(t, e.srv.Rehearse(testserver.RehearseExchangePowerShellRetired))
	_, err = p.LegacyExchangeToken(t.Context(), e.srv.Partner().TenantID)
	var te *token.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, []int{7000112}, te.Codes)
	assert.Contains(t, te.Hint(), "Microsoft has retired it")
	assert.Contains(t, te.Hint(), "--legacy-exchange")
}
