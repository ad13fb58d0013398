package testserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func exoV2URL(s *Server, tenant, endpoint string) string {
	return s.URL() + "/exchange/adminapi/v2.0/" + tenant + "/" + endpoint
}

// The v2.0 API's permissions, from "Authentication and authorization for
// the Exchange Online Admin API"
// (https://learn.microsoft.com/exchange/reference/admin-api-authentication):
// "Delegated flow: Exchange.ManageV2. App-only flow:
// Exchange.ManageAsAppV2." A token with only the InvokeCommand
// permissions is refused, and the other way round.
func TestExchangeV2Permissions(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{})
	delegated := func(scopes ...string) string {
		return s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource, UPN: "admin@partner", Scopes: scopes, MFA: true})
	}
	appOnly := func(roles ...string) string {
		return s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource, Roles: roles})
	}
	body := cmdlet("Get-OrganizationConfig", nil)
	for _, tc := range []struct {
		name, url, tok string
		status         int
	}{
		{"v2 delegated ManageV2", exoV2URL(s, cust, "OrganizationConfig"), delegated("Exchange.ManageV2"), http.StatusOK},
		{"v2 app-only ManageAsAppV2", exoV2URL(s, cust, "OrganizationConfig"), appOnly("Exchange.ManageAsAppV2"), http.StatusOK},
		{"v2 delegated Manage", exoV2URL(s, cust, "OrganizationConfig"), delegated("Exchange.Manage"), http.StatusUnauthorized},
		{"v2 app-only ManageAsApp", exoV2URL(s, cust, "OrganizationConfig"), appOnly("Exchange.ManageAsApp"), http.StatusUnauthorized},
		{"v2 delegated ManageAsAppV2 as a scope", exoV2URL(s, cust, "OrganizationConfig"), delegated("Exchange.ManageAsAppV2"), http.StatusUnauthorized},
		{"beta delegated ManageV2", exoURL(s, cust), delegated("Exchange.ManageV2"), http.StatusUnauthorized},
		{"beta delegated Manage", exoURL(s, cust), delegated("Exchange.Manage"), http.StatusOK},
	} {
		resp, page := exoPost(t, s, tc.url, tc.tok, body, nil)
		assert.Equal(t, tc.status, resp.StatusCode, tc.name)
		if tc.status == http.StatusUnauthorized {
			assert.True(t, strings.HasPrefix(resp.Header.Get("x-ms-diagnostics"), "2000008;"), "%s: %q", tc.name, resp.Header.Get("x-ms-diagnostics"))
		} else {
			assert.Len(t, page.Value, 1, tc.name)
		}
	}
}

// The endpoints of "Exchange Online Admin API endpoints reference"
// (https://learn.microsoft.com/exchange/reference/admin-api-endpoints-reference)
// run their own cmdlets only; other paths are not found.
func TestExchangeV2Endpoints(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{Name: "Fabrikam", Users: 2})
	tok := s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource, UPN: "admin@partner", Scopes: []string{"Exchange.ManageV2"}, MFA: true})
	for _, tc := range []struct {
		endpoint, cmdlet string
		status           int
		rows             int
		exception        string
	}{
		{"OrganizationConfig", "Get-OrganizationConfig", http.StatusOK, 1, ""},
		{"AcceptedDomain", "Get-AcceptedDomain", http.StatusOK, 1, ""},
		{"Mailbox", "Get-Mailbox", http.StatusOK, 3, ""},
		{"mailbox", "get-mailbox", http.StatusOK, 3, ""},
		// A cmdlet of another endpoint, or of none.
		{"OrganizationConfig", "Get-Mailbox", http.StatusBadRequest, 0, "CommandNotFoundException"},
		{"Mailbox", "Get-TransportRule", http.StatusBadRequest, 0, "CommandNotFoundException"},
		{"InvokeCommand", "Get-Mailbox", http.StatusNotFound, 0, ""},
		{"TransportRule", "Get-TransportRule", http.StatusNotFound, 0, ""},
	} {
		resp, page := exoPost(t, s, exoV2URL(s, cust, tc.endpoint), tok, cmdlet(tc.cmdlet, nil), nil)
		assert.Equal(t, tc.status, resp.StatusCode, "%s %s", tc.endpoint, tc.cmdlet)
		assert.Len(t, page.Value, tc.rows, "%s %s", tc.endpoint, tc.cmdlet)
		if tc.exception != "" {
			require.NotNil(t, page.Error)
			assert.Contains(t, page.Error.InnerError.InternalException.Type, tc.exception)
		}
	}
}

// Pages of v2.0 answers link to the same endpoint, absolute, and the
// invokecommand-off rehearsal leaves v2.0 on: it is where the rehearsal's
// 410 points.
func TestExchangeV2PagesAndRehearsal(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	s.Mutate(func(w *World) { w.MaxPageSize = 2 })
	cust := s.AddCustomer(CustomerSpec{Users: 4})
	tok := s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource, UPN: "admin@partner", Scopes: []string{"Exchange.ManageV2"}, MFA: true})
	require.NoError(t, s.Rehearse(RehearseInvokeCommandOff))

	resp, _ := exoPost(t, s, exoURL(s, cust), exoToken(s, cust), cmdlet("Get-Mailbox", nil), nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode)

	body := cmdlet("Get-Mailbox", map[string]any{"ResultSize": "Unlimited"})
	rows, url := 0, exoV2URL(s, cust, "Mailbox")
	for pages := 0; url != ""; pages++ {
		require.Less(t, pages, 5, "paging did not end")
		resp, page := exoPost(t, s, url, tok, body, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		rows += len(page.Value)
		url = page.NextLink
		if url != "" {
			assert.True(t, strings.HasPrefix(url, exoV2URL(s, cust, "Mailbox")+"?$skiptoken="), url)
		}
	}
	assert.Equal(t, 5, rows)

	// A beta cursor does not open a v2.0 page, nor the other way round.
	_, first := exoPost(t, s, exoV2URL(s, cust, "Mailbox"), tok, body, nil)
	require.NotEmpty(t, first.NextLink)
	_, skip, _ := strings.Cut(first.NextLink, "?")
	require.NoError(t, s.StopRehearsal(RehearseInvokeCommandOff))
	resp, page := exoPost(t, s, exoURL(s, cust)+"?"+skip, exoToken(s, cust), body, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.NotNil(t, page.Error)
	assert.Contains(t, page.Error.Details[0].Message, "$skiptoken")
}
