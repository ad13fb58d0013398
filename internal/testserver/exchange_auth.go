package testserver

import (
	"fmt"
	"net/http"
	"strings"
)

// exoAuth authenticates an admin API request and returns the tenant it
// addresses; when the request may not proceed it has written the refusal.
//
// The token must be for https://outlook.office365.com and issued in the
// tenant of the path; a delegated token needs the scope perms.scope
// (Exchange.Manage for InvokeCommand), an app-only token the role
// perms.role (Exchange.ManageAsApp). (In Exchange Online the app
// also needs an Exchange administrator role in the tenant; the fake takes
// the role as enough.) Tenant.ExchangeDeny stands for the signed-in user or
// app lacking any Exchange management role: 403.
func (s *Server) exoAuth(w http.ResponseWriter, r *http.Request, perms exoPerms) (*Tenant, bool) {
	c, fail := s.authenticate(r, ExchangeResource)
	if fail != nil {
		switch {
		case bearer(r) == "":
			s.exoUnauthorized(w, "")
		case fail.Message == "Invalid audience.":
			s.exoUnauthorized(w, `2000003;reason="The audience claim value is invalid 'aud'.";error_category="invalid_resource"`)
		case strings.Contains(fail.Message, "tenant"):
			s.exoUnauthorized(w, fmt.Sprintf(`2000004;reason="The tenant for tenant guid '%s' does not exist.";error_category="invalid_tenant"`, tokenTenant(r)))
		default:
			s.exoUnauthorized(w, fmt.Sprintf(`2000001;reason="%s";error_category="invalid_token"`, strings.TrimSuffix(fail.Message, ".")))
		}
		return nil, false
	}
	pathTenant := r.PathValue("tenant")
	s.mu.Lock()
	t := s.world.TenantByIDOrDomain(pathTenant)
	s.mu.Unlock()
	if t == nil {
		s.exoUnauthorized(w, fmt.Sprintf(`2000004;reason="The tenant for tenant guid '%s' does not exist.";error_category="invalid_tenant"`, pathTenant))
		return nil, false
	}
	if !strings.EqualFold(c.String("tid"), t.ID) {
		s.exoUnauthorized(w, fmt.Sprintf(`2000004;reason="The token was issued for tenant '%s', not for tenant '%s' of the request.";error_category="invalid_tenant"`, c.String("tid"), t.ID))
		return nil, false
	}
	if (c.AppOnly() && !c.Has(perms.role)) || (!c.AppOnly() && !c.Has(perms.scope)) {
		s.exoUnauthorized(w, `2000008;reason="The token contains no permissions, or permissions can not be understood.";error_category="invalid_grant"`)
		return nil, false
	}
	if t.ExchangeDeny {
		who := "The user \"" + c.String("upn") + "\" isn't assigned to any management roles."
		if c.AppOnly() {
			who = "The application " + c.String("appid") + " isn't assigned to any management roles."
		}
		s.exoCmdletError(w, http.StatusForbidden, "Forbidden", "System.UnauthorizedAccessException",
			who+" Assign an Exchange administrator role in tenant "+t.DefaultDomain+" and try again.")
		return nil, false
	}
	return t, true
}

// exoPerms names the permissions an admin API needs: a delegated scope and
// an application role.
type exoPerms struct{ scope, role string }

// exoBetaPerms are InvokeCommand's permissions, those of Exchange Online
// PowerShell (https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2).
var exoBetaPerms = exoPerms{scope: "Exchange.Manage", role: "Exchange.ManageAsApp"}

// tokenTenant returns the tid of the request's bearer token, unverified.
func tokenTenant(r *http.Request) string {
	if _, c, _, _, err := parseJWT(bearer(r)); err == nil {
		return c.String("tid")
	}
	return ""
}

// exoUnauthorized answers 401 as Exchange Online does: no body, a Bearer
// challenge naming the Exchange resource, and the reason in
// x-ms-diagnostics when there is one.
func (s *Server) exoUnauthorized(w http.ResponseWriter, diagnostics string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(
		`Bearer client_id="%s", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="%s/common/oauth2/authorize", error="invalid_token"`,
		ExchangeAppID, s.ts.URL))
	if diagnostics != "" {
		w.Header().Set("x-ms-diagnostics", diagnostics)
	}
	w.Header().Set("request-id", newID())
	w.WriteHeader(http.StatusUnauthorized)
}

// exoCmdletError renders the admin API's error envelope as the service
// fills it for a failed cmdlet: a generic message, the exception in
// details[].message prefixed with its type ("|Type|text"), and again in
// innererror.internalexception.
func (s *Server) exoCmdletError(w http.ResponseWriter, status int, code, excType, message string) {
	generic := "Invalid Operation"
	if status == http.StatusNotFound {
		generic = message
	}
	e := map[string]any{"code": code, "message": generic}
	if excType != "" {
		e["details"] = []map[string]any{{"code": "Client", "target": "", "message": "|" + excType + "|" + message}}
		e["innererror"] = map[string]any{
			"message": generic, "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "stacktrace": "",
			"internalexception": map[string]any{"message": message, "type": excType, "stacktrace": ""},
		}
	}
	w.Header().Set("request-id", newID())
	writeJSON(w, status, map[string]any{"error": e})
}
