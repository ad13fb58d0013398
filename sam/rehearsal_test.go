package sam_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// Under each rehearsal of the fake, the check fails with the service's
// code and a fix that says what changed and what to do.
func TestCheckUnderRehearsals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r      testserver.Rehearsal
		checks sam.Checks
		code   string
		fix    []string
	}{
		{testserver.RehearsePartnerCenterMFA, sam.Checks{PartnerCenter: true}, "900421", []string{"MFA claim", "Sign in again with multifactor"}},
		{testserver.RehearseMFARequired, sam.Checks{PartnerCenter: true}, "AADSTS50076", []string{"requires MFA", "samctl setup"}},
		{testserver.RehearseRefreshTokenIdle, sam.Checks{DelegatedGraph: true}, "AADSTS700082", []string{"90 days", "samctl setup"}},
		{testserver.RehearseRefreshTokenRevoked, sam.Checks{DelegatedGraph: true}, "AADSTS50173", []string{"revoked", "samctl setup"}},
		{testserver.RehearseSecretExpired, sam.Checks{AppGraph: true}, "AADSTS7000222", []string{"expired", "samctl rotate-secret"}},
		{testserver.RehearseInvokeCommandOff, sam.Checks{DelegatedExchange: true}, "Gone", []string{"switched off", "v2.0"}},
		{testserver.RehearseThrottled, sam.Checks{DelegatedGraph: true}, "TooManyRequests", []string{"throttling", "later"}},
	} {
		t.Run(string(tc.r), func(t *testing.T) {
			t.Parallel()
			w := newAccessWorld(t)
			cust := w.customer(t, testserver.CustomerSpec{GDAP: true}, true)
			require.NoError(t, w.s.Rehearse(tc.r))
			rep, err := w.check(t.Context(), t, w.options([]sam.Tenant{cust}, tc.checks))
			require.NoError(t, err)
			res := rep.PartnerCenter
			if !tc.checks.PartnerCenter {
				require.Len(t, rep.Tenants, 1)
				require.Len(t, rep.Tenants[0].Checks, 1)
				res = &rep.Tenants[0].Checks[0]
			}
			require.NotNil(t, res)
			assert.Equal(t, sam.OutcomeFailed, res.Outcome)
			assert.Equal(t, tc.code, res.Code, "message %q", res.Message)
			for _, f := range tc.fix {
				assert.Contains(t, res.Hint, f)
			}
		})
	}
}

// A Conditional Access policy that blocks the device code flow fails the
// admin's sign-in with AADSTS53003, and the hint points to the browser
// sign-in.
func TestDeviceCodeSignInBlocked(t *testing.T) {
	t.Parallel()
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	require.NoError(t, s.Rehearse(testserver.RehearseDeviceCodeBlocked))
	_, err := sam.DeviceCodeSignIn{Prompt: func(string) {}}.SignIn(t.Context(), sam.SignInParams{
		Cloud: s.Cloud(), HTTPClient: s.Client(), ClientID: s.BootstrapClientID, Tenant: "organizations",
		Scopes: []string{"https://graph.microsoft.com/User.Read"},
	})
	require.ErrorIs(t, err, token.ErrConditionalAccess)
	var te *token.Error
	require.True(t, errors.As(err, &te))
	assert.Equal(t, []int{53003}, te.Codes)
	assert.Contains(t, te.Hint(), "samctl setup --browser")
}
