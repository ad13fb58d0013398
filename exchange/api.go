package exchange

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// API chooses which of Exchange Online's admin APIs a Client calls.
//
// APIBeta is the InvokeCommand endpoint of the admin API's beta, which
// Exchange Online PowerShell v3 uses: any cmdlet the caller's role holds,
// undocumented by Microsoft. APIV2 is the Exchange Online Admin API v2.0,
// documented and in preview since November 2025: a few cmdlets, each on
// its endpoint
// (https://learn.microsoft.com/exchange/reference/admin-api-overview).
type API string

// The admin APIs.
const (
	// APIBeta: POST {host}/adminapi/beta/{tenant}/InvokeCommand, with the
	// permissions Exchange.Manage (delegated) and Exchange.ManageAsApp
	// (application). The default.
	APIBeta API = "beta"
	// APIV2: POST {host}/adminapi/v2.0/{tenant}/{endpoint}, with the
	// permissions Exchange.ManageV2 (delegated) and Exchange.ManageAsAppV2
	// (application), as "Authentication and authorization for the Exchange
	// Online Admin API" lists them
	// (https://learn.microsoft.com/exchange/reference/admin-api-authentication).
	APIV2 API = "v2.0"
)

// ErrNotInV2 is returned, before any request, for a cmdlet that no
// endpoint of the Admin API v2.0 runs.
var ErrNotInV2 = errors.New("exchange: cmdlet not available in the Exchange Online Admin API v2.0")

// ParseAPI reads an API's name as a user types it: "beta" (or
// "invokecommand"), "v2" or "v2.0".
func ParseAPI(s string) (API, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "beta", "invokecommand":
		return APIBeta, nil
	case "v2", "v2.0":
		return APIV2, nil
	}
	return "", fmt.Errorf("exchange: unknown admin API %q: use v2 (the Exchange Online Admin API v2.0) or beta (InvokeCommand)", shorten(s))
}

// String returns the API's name: "beta" or "v2.0".
func (a API) String() string { return string(a) }

// WithAPI chooses the admin API the client calls (see API). The default is
// APIBeta. With APIV2, Invoke runs only the cmdlets that an endpoint of
// the v2.0 API serves (V2Endpoint) and refuses others with ErrNotInV2;
// the token must hold Exchange.ManageV2 or Exchange.ManageAsAppV2.
func WithAPI(a API) Option {
	return func(cfg *config) error {
		switch a {
		case "":
			cfg.api = APIBeta
		case APIBeta, APIV2:
			cfg.api = a
		default:
			return fmt.Errorf("exchange: WithAPI: unknown API %q: use exchange.APIBeta or exchange.APIV2", shorten(string(a)))
		}
		return nil
	}
}

// v2Endpoints maps each cmdlet of the Admin API v2.0, in lower case, to
// the endpoint that runs it, as the endpoint reference pages list them
// (https://learn.microsoft.com/exchange/reference/admin-api-endpoints-reference):
// OrganizationConfig and AcceptedDomain are reads of organization
// settings; Mailbox reads mailboxes and sets Send on Behalf delegates
// (https://learn.microsoft.com/exchange/reference/admin-api-endpoints-mailbox);
// MailboxFolderPermission reads and changes folder permissions;
// DistributionGroupMember and DynamicDistributionGroupMember read group
// membership.
var v2Endpoints = map[string]string{
	"get-organizationconfig":             "OrganizationConfig",
	"get-accepteddomain":                 "AcceptedDomain",
	"get-mailbox":                        "Mailbox",
	"set-mailbox":                        "Mailbox",
	"get-mailboxfolderpermission":        "MailboxFolderPermission",
	"add-mailboxfolderpermission":        "MailboxFolderPermission",
	"set-mailboxfolderpermission":        "MailboxFolderPermission",
	"remove-mailboxfolderpermission":     "MailboxFolderPermission",
	"get-distributiongroupmember":        "DistributionGroupMember",
	"get-dynamicdistributiongroupmember": "DynamicDistributionGroupMember",
}

// V2Endpoint returns the Admin API v2.0 endpoint that runs cmdlet
// ("Get-OrganizationConfig" → "OrganizationConfig"), and false when no
// endpoint does.
func V2Endpoint(cmdlet string) (string, bool) {
	e, ok := v2Endpoints[strings.ToLower(cmdlet)]
	return e, ok
}

// endpoint returns the URL the client POSTs cmdlet to.
func (c *Client) endpoint(cmdlet string) (*url.URL, error) {
	if c.api == APIV2 {
		e, ok := V2Endpoint(cmdlet)
		if !ok {
			return nil, fmt.Errorf("%w: %s (the v2.0 endpoints run Get-OrganizationConfig, Get-AcceptedDomain, Get-Mailbox, Set-Mailbox, "+
				"the *-MailboxFolderPermission cmdlets, Get-DistributionGroupMember and Get-DynamicDistributionGroupMember); "+
				"run it through the InvokeCommand beta API (exchange.WithAPI(exchange.APIBeta))", ErrNotInV2, cmdlet)
		}
		return c.root.JoinPath("adminapi", "v2.0", url.PathEscape(c.tenant), e), nil
	}
	return c.root.JoinPath("adminapi", "beta", url.PathEscape(c.tenant), "InvokeCommand"), nil
}

// v2RoleGroup returns the built-in Exchange role group that the endpoint
// of cmdlet requires, from the table of "Authentication and authorization
// for the Exchange Online Admin API"
// (https://learn.microsoft.com/exchange/reference/admin-api-authentication);
// "" for a cmdlet of no v2.0 endpoint.
func v2RoleGroup(cmdlet string) string {
	switch e, _ := V2Endpoint(cmdlet); e {
	case "OrganizationConfig", "AcceptedDomain":
		return "View-Only Organization Management"
	case "":
		return ""
	}
	return "Recipient Management"
}
