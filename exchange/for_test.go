package exchange_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/testserver"
)

// TestForRunsInAnotherTenant makes a view of a client for a second
// customer: it calls that tenant's endpoint with that tenant's token and
// system mailbox, through the client's transport, and leaves the client
// as it was.
func TestForRunsInAnotherTenant(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{})
	second := f.srv.AddCustomer(testserver.CustomerSpec{})
	v, err := f.exo.For(&source{mint: func() string { return f.srv.IssueAccessToken(adminSpec(second)) }}, second)
	require.NoError(t, err)
	assert.Equal(t, second, v.Tenant())
	_, err = first(t, v, "Get-OrganizationConfig")
	require.NoError(t, err)
	_, err = first(t, f.exo, "Get-OrganizationConfig")
	require.NoError(t, err)

	reqs := f.cap.Requests()
	require.Len(t, reqs, 2, "both through the client's transport")
	assert.Contains(t, reqs[0].URL.Path, "/"+second+"/")
	assert.Equal(t, "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+second, reqs[0].Header.Get("X-AnchorMailbox"))
	assert.Contains(t, reqs[1].URL.Path, "/"+f.tenant+"/")
	assert.Equal(t, "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+f.tenant, reqs[1].Header.Get("X-AnchorMailbox"))

	_, err = f.exo.For(f.src, "common")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exchange: For")
	_, err = f.exo.For(nil, second)
	require.Error(t, err)
}

func TestForKeepsAChosenAnchor(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{}, exchange.WithAnchorMailbox("UPN:admin@fabrikam.example"))
	v, err := f.exo.For(f.src, strings.ToUpper(f.tenant))
	require.NoError(t, err)
	_, err = first(t, v, "Get-OrganizationConfig")
	require.NoError(t, err)
	reqs := f.cap.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "UPN:admin@fabrikam.example", reqs[0].Header.Get("X-AnchorMailbox"))
}
