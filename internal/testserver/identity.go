package testserver

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// The identity platform (login.microsoftonline.com), served at the root:
// discovery, /authorize, /token, /devicecode and the pages a browser sees.
//
// Sources, one per concept, cited again where a rule is implemented:
//   - OpenID Connect discovery and instance discovery:
//     https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
//   - authorization code flow, PKCE and refresh:
//     https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
//   - client credentials:
//     https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//   - certificate credentials (client assertions):
//     https://learn.microsoft.com/entra/identity-platform/certificate-credentials
//   - device authorization grant:
//     https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
//   - redirect URI matching: https://learn.microsoft.com/entra/identity-platform/reply-url
//   - scopes, .default and consent: https://learn.microsoft.com/entra/identity-platform/scopes-oidc
//   - the AADSTS codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
func (s *Server) routeLogin(mux *http.ServeMux) {
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", s.openIDConfigurationV1)
	mux.HandleFunc("GET /common/discovery/instance", s.instanceDiscovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.keys)
	mux.HandleFunc("GET /{tenant}/discovery/keys", s.keys)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.authorize)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.adminConsent)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/logout", s.logout)
	// The token and device code endpoints answer other methods with
	// AADSTS900561 in the identity platform's JSON shape, not a bare 405.
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/devicecode", s.deviceCode)
	mux.HandleFunc("GET /devicelogin", s.deviceLoginPage)
	mux.HandleFunc("POST /devicelogin", s.deviceLoginSubmit)
	mux.HandleFunc("GET /error", s.errorLookupPage)
}

// tenantAliases are the {tenant} values that name no tenant: a user signs
// in to their home tenant through them.
var tenantAliases = map[string]bool{"common": true, "organizations": true, "consumers": true}

// loginTenant is the {tenant} segment of an identity platform URL, resolved.
type loginTenant struct {
	raw    string  // as the URL spells it
	alias  string  // common, organizations or consumers; "" for a tenant
	tenant *Tenant // nil for an alias
}

// resolveTenantLocked resolves a {tenant} segment: a tenant id, a verified
// domain or an alias. Deleted tenants are not found (AADSTS90002).
func (s *Server) resolveTenantLocked(raw string) (loginTenant, bool) {
	if low := strings.ToLower(raw); tenantAliases[low] {
		return loginTenant{raw: raw, alias: low}, true
	}
	t := s.world.TenantByIDOrDomain(raw)
	return loginTenant{raw: raw, tenant: t}, t != nil
}

// forUser returns the tenant a user signs in to through lt: the tenant it
// names, or the user's home tenant for an alias.
func (lt loginTenant) forUser(w *World, u *User) *Tenant {
	if lt.tenant != nil {
		return lt.tenant
	}
	return w.Tenants[u.HomeTenant]
}

// discoveryTenant resolves the {tenant} of a discovery request: the path
// segment the metadata's endpoints keep (the alias, or the tenant id for a
// tenant named by domain) and the tenant its issuer names ({tenantid} for
// an alias). An unknown tenant is answered with 400 invalid_tenant,
// AADSTS90002, and ok false.
func (s *Server) discoveryTenant(w http.ResponseWriter, r *http.Request) (seg, issuerTenant string, ok bool) {
	s.mu.Lock()
	lt, ok := s.resolveTenantLocked(r.PathValue("tenant"))
	s.mu.Unlock()
	if !ok {
		e := tenantNotFound(lt.raw)
		e.Code = "invalid_tenant"
		s.writeAADError(w, r, *e)
		return "", "", false
	}
	if lt.tenant != nil {
		return lt.tenant.ID, lt.tenant.ID, true
	}
	return lt.alias, "{tenantid}", true
}

// openIDConfiguration serves the OpenID Provider metadata. For an alias
// the endpoints keep the alias and the issuer holds the {tenantid}
// placeholder, as Microsoft's do; for a domain everything names the tenant
// id. An unknown tenant answers 400 invalid_tenant with AADSTS90002.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	seg, issuerTenant, ok := s.discoveryTenant(w, r)
	if !ok {
		return
	}
	// The metadata names the host it was asked on, as each cloud's does.
	origin := "https://" + r.Host
	base := origin + "/" + seg
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                origin + "/" + issuerTenant + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     origin + "/graph/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"tenant_region_scope":   "NA",
		"cloud_instance_name":   r.Host,
		"cloud_graph_host_name": r.Host,
		"msgraph_host":          r.Host + "/graph",
		"kerberos_endpoint":     base + "/kerberos",
	})
}

// instanceDiscovery answers {login}/common/discovery/instance as the
// identity platform does for a known host: where the tenant's OpenID
// configuration lives and which hosts are aliases of this one (none here).
// Another host is an unknown instance (AADSTS50049).
func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	ae := r.URL.Query().Get("authorization_endpoint")
	if ae == "" {
		s.writeAADError(w, r, aadError{Code: "invalid_request", AADSTS: 50050, Message: "The request is malformed."})
		return
	}
	u, err := url.Parse(ae)
	self := &url.URL{Scheme: "https", Host: r.Host} // the host asked, as on each cloud's login host
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if err != nil || !strings.EqualFold(u.Host, self.Host) || len(segs) == 0 || segs[0] == "" {
		s.writeAADError(w, r, aadError{Code: "invalid_instance", AADSTS: 50049, Message: "Unknown or invalid instance."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": self.String() + "/" + segs[0] + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": self.Host, "preferred_cache": self.Host, "aliases": []string{self.Host},
		}},
	})
}

// keys serves the JWKS at /{tenant}/discovery/keys and
// /{tenant}/discovery/v2.0/keys.
func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	if _, issuerTenant, ok := s.discoveryTenant(w, r); ok {
		writeJSON(w, http.StatusOK, s.jwks(issuerTenant))
	}
}

// openIDConfigurationV1 serves the v1.0 metadata,
// {tenant}/.well-known/openid-configuration: the issuer of the v1 access
// tokens every resource here receives (https://sts.windows.net/{tid}/),
// the v1 endpoints, and the same keys.
// https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
// (v1.0 tokens: https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration)
func (s *Server) openIDConfigurationV1(w http.ResponseWriter, r *http.Request) {
	seg, issuerTenant, ok := s.discoveryTenant(w, r)
	if !ok {
		return
	}
	base := s.URL() + "/" + seg
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              s.URL() + "/common/discovery/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"scopes_supported":                      []string{"openid"},
		"issuer":                                "https://sts.windows.net/" + issuerTenant + "/",
		"microsoft_multi_refresh_token":         true,
		"authorization_endpoint":                base + "/oauth2/authorize",
		"device_authorization_endpoint":         base + "/oauth2/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"},
		"check_session_iframe":  base + "/oauth2/checksession",
		"userinfo_endpoint":     s.URL() + "/" + seg + "/openid/userinfo",
		"tenant_region_scope":   "NA",
		"cloud_instance_name":   r.Host,
		"cloud_graph_host_name": r.Host,
		"msgraph_host":          r.Host + "/graph",
		"rbac_url":              "https://pas.windows.net",
	})
}

// logout is the end_session_endpoint: it forgets nothing (the fake keeps
// no browser session) and returns to post_logout_redirect_uri if given.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if u := r.URL.Query().Get("post_logout_redirect_uri"); u != "" {
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	writeLoginPage(w, http.StatusOK, "Sign out", "<p>You signed out of your account.</p>")
}

// writeLoginErrorPage answers a browser request that must not be
// redirected (an unregistered redirect_uri, an unknown app or tenant) with
// the sign-in error page, which shows the AADSTS code and the ids a support
// engineer asks for.
func (s *Server) writeLoginErrorPage(w http.ResponseWriter, r *http.Request, e *aadError) {
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	body := fmt.Sprintf("<h1>Sign in</h1><p>Sorry, but we’re having trouble signing you in.</p>"+
		"<p id=\"error\">AADSTS%d: %s</p><p>Request Id: %s<br>Correlation Id: %s<br>Timestamp: %s</p>",
		e.AADSTS, html.EscapeString(e.Message), newID(), html.EscapeString(corr), s.clock.Now().Format("2006-01-02T15:04:05.000Z"))
	writeLoginPage(w, http.StatusBadRequest, "Sign in to your account", body)
}

// errorLookupPage is the error_uri every error body links to.
func (s *Server) errorLookupPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	writeLoginPage(w, http.StatusOK, "Error lookup", "<p>Error code: AADSTS"+html.EscapeString(code)+
		"</p><p>See https://learn.microsoft.com/entra/identity-platform/reference-error-codes.</p>")
}

func writeLoginPage(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body>%s</body></html>",
		html.EscapeString(title), body)
}
