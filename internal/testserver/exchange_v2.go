package testserver

import (
	"net/http"
	"strings"
)

// The Exchange Online Admin API v2.0, in preview since November 2025,
// beside InvokeCommand under {URL}/exchange:
//
//	POST /adminapi/v2.0/{tenant}/{endpoint}
//	Authorization: Bearer …, Content-Type: application/json, X-AnchorMailbox: …
//	{"CmdletInput":{"CmdletName":"Get-OrganizationConfig","Parameters":{…}}}
//
// What the fake follows, page by page:
//   - The URL, the CmdletInput body and the headers, and the base URL of
//     each cloud (outlook.office365.com, .us for GCC High,
//     outlook-dod.office365.us, outlook.office365.cn):
//     https://learn.microsoft.com/exchange/reference/admin-api-get-started
//   - The six endpoints: https://learn.microsoft.com/exchange/reference/admin-api-endpoints-reference,
//     and the cmdlets of one, Mailbox (Get-Mailbox with Identity and
//     ResultSize, Set-Mailbox): https://learn.microsoft.com/exchange/reference/admin-api-endpoints-mailbox
//   - The permissions: a delegated token needs Exchange.ManageV2, an
//     app-only token Exchange.ManageAsAppV2; the audience is
//     https://outlook.office365.com; without an Exchange RBAC role "even
//     valid tokens fail with the error: 403 Forbidden":
//     https://learn.microsoft.com/exchange/reference/admin-api-authentication
//
// What those pages, as stored here, do not spell out, and the fake takes
// from InvokeCommand: the answer's envelope ("value", an absolute
// "@odata.nextLink" that the same body is POSTed to), the error body
// ({"error":{"code","message","details","innererror"}}), the 401 without a
// body whose x-ms-diagnostics gives the reason (2000008 for a token
// without the API's permission), and the answer to a cmdlet that the
// endpoint does not run (CommandNotFoundException, as for an unknown
// cmdlet). The get-started page's sections on pagination and property
// selection ($select) were not available to check; the fake implements no
// $select.
//
// The invokecommand-off rehearsal switches off InvokeCommand only: v2.0
// is what it points callers to.

// exoV2Perms are the Admin API v2.0's permissions.
var exoV2Perms = exoPerms{scope: "Exchange.ManageV2", role: "Exchange.ManageAsAppV2"}

// exoV2Endpoints are the v2.0 endpoints and the cmdlets each runs, in
// lower case. The fake implements the reads samkit uses
// (Get-OrganizationConfig, Get-AcceptedDomain, Get-Mailbox); the others
// are routed, and answer as an unknown cmdlet does.
var exoV2Endpoints = map[string]map[string]bool{
	"organizationconfig":             {"get-organizationconfig": true},
	"accepteddomain":                 {"get-accepteddomain": true},
	"mailbox":                        {"get-mailbox": true, "set-mailbox": true},
	"mailboxfolderpermission":        {"get-mailboxfolderpermission": true, "add-mailboxfolderpermission": true, "set-mailboxfolderpermission": true, "remove-mailboxfolderpermission": true},
	"distributiongroupmember":        {"get-distributiongroupmember": true},
	"dynamicdistributiongroupmember": {"get-dynamicdistributiongroupmember": true},
}

// exoV2 serves POST /adminapi/v2.0/{tenant}/{endpoint}.
func (s *Server) exoV2(w http.ResponseWriter, r *http.Request) {
	endpoint := r.PathValue("endpoint")
	allowed, ok := exoV2Endpoints[strings.ToLower(endpoint)]
	if !ok {
		s.exoCmdletError(w, http.StatusNotFound, "NotFound", "", "The resource "+r.URL.Path+" was not found.")
		return
	}
	t, ok := s.exoAuth(w, r, exoV2Perms)
	if !ok {
		return
	}
	s.exoRun(w, r, t, "v2.0", endpoint, allowed)
}
