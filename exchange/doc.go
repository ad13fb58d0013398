// Package exchange runs Exchange Online cmdlets in a customer's tenant
// through the admin API, the REST front of the cmdlets that Exchange
// Online PowerShell v3 uses:
//
//	POST https://outlook.office365.com/adminapi/beta/{tenant}/InvokeCommand
//	{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}
//
// Remote PowerShell with Basic-to-OAuth conversion, which older Secure
// Application Model scripts used, was switched off in October 2023; this
// API is what works now.
//
// # The Admin API v2.0
//
// WithAPI(APIV2) calls Microsoft's documented Exchange Online Admin API
// v2.0 instead (preview since November 2025,
// https://learn.microsoft.com/exchange/reference/admin-api-overview): the
// same CmdletInput body, POSTed to the endpoint that runs the cmdlet,
//
//	POST https://outlook.office365.com/adminapi/v2.0/{tenant}/OrganizationConfig
//	{"CmdletInput":{"CmdletName":"Get-OrganizationConfig"}}
//
// on the host of the cloud (WithCloud). It runs few cmdlets (V2Endpoint;
// others fail with ErrNotInV2 before any request) and needs other
// permissions: Exchange.ManageV2 (delegated) or Exchange.ManageAsAppV2
// (application). A token without them is refused with 401 2000008, which
// errors.Is finds as ErrMissingPermission; Error.Hint names the permission
// the client's API needs. When Microsoft switches InvokeCommand off (410,
// ErrEndpointGone), the hint points to v2.0.
//
//	p, _ := token.NewProvider(creds)
//	exo, err := exchange.New(p.Source(customerTenant, p.Cloud().Exchange.Scope()), customerTenant)
//	type mailbox struct{ UserPrincipalName, RecipientTypeDetails string }
//	for m, err := range exchange.InvokeInto[mailbox](ctx, exo, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(m.UserPrincipalName)
//	}
//
// # Authentication
//
// Tokens are for https://outlook.office365.com in the customer's tenant.
// A delegated token (the SAM refresh token redeemed at the customer's
// tenant) needs the Exchange.Manage permission and an admin with an
// Exchange role there through GDAP; an app-only token needs
// Exchange.ManageAsApp and an Exchange administrator role assigned to the
// app's service principal. Scripts written before the SAM app could reach
// Exchange kept a separate "Exchange refresh token" of the Exchange Online
// PowerShell public client (a0c73c16-a7e3-4564-9a95-2bdf47383716); it
// still works here, through token.Provider.LegacyExchangeSource:
//
//	exo, err := exchange.New(p.LegacyExchangeSource(customerTenant), customerTenant)
//
// # Requests
//
// Every request carries X-AnchorMailbox, by default the tenant's system
// mailbox (APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@{tenant})
// as Exchange Online PowerShell sends for organization-wide cmdlets
// (WithAnchorMailbox and AnchorMailbox change it), and
// Prefer: odata.maxpagesize=1000. Cmdlet names are checked (Verb-Noun) and
// travel in the body; the tenant, checked to be a GUID or a domain, is the
// only data in the URL. Get-* cmdlets are reads and are retried after
// throttling, server errors and broken connections; other cmdlets only
// after throttling (429), which the client waits out as Retry-After asks.
//
// # Paging and warnings
//
// Invoke and InvokeInto return iterators that fetch pages as they are
// consumed, POSTing the same request to each absolute @odata.nextLink,
// which must point at the same host. Warnings a cmdlet reports
// (@adminapi.warnings, such as "There are more results available than are
// currently displayed…") go to the OnWarning callback, or to the client's
// logger.
//
// # Errors
//
// Failures are *Error, found through wrapping with errors.As. The
// service's error.message is a generic "Invalid Operation"; Message holds
// the cmdlet's own error from error.details[].message (or
// innererror.internalexception.message), and ExceptionType its .NET type.
// Token refusals (401) have no body: their reason comes from the
// x-ms-diagnostics header. Hint says what to do about 401 and 403 answers,
// which usually mean a missing permission or Exchange role.
package exchange
