package testserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// /authorize and /adminconsent: a simulated admin (the partner tenant's
// Global Administrator) signs in, meets the consent prompt and is sent back
// to the app, as World.Authorize says. A request that cannot be trusted
// with a redirect (unknown tenant or app, unregistered redirect_uri) gets
// the sign-in error page instead, as a browser would.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, state := q.Get("redirect_uri"), q.Get("state")
	mode := q.Get("response_mode")
	if mode != "form_post" && mode != "fragment" {
		mode = "query"
	}
	s.mu.Lock()
	lt, client, page := s.authorizeClientLocked(r.PathValue("tenant"), q.Get("client_id"), redirect)
	if page != nil {
		s.mu.Unlock()
		s.writeLoginErrorPage(w, r, page)
		return
	}
	back := func(e *aadError) {
		s.mu.Unlock()
		s.authorizeRespond(w, r, redirect, mode, s.redirectError(r, e, state))
	}
	method, challenge := q.Get("code_challenge_method"), q.Get("code_challenge")
	if method == "" && challenge != "" {
		method = "plain"
	}
	switch {
	case q.Get("response_type") != "code":
		back(&aadError{Code: "unsupported_response_type", AADSTS: 70005,
			Message: "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: code."})
		return
	case q.Get("scope") == "":
		back(missingParam("scope"))
		return
	case challenge != "" && method != "S256" && method != "plain":
		back(&aadError{Code: "invalid_request", AADSTS: 90100, Message: "code_challenge_method parameter is empty or not valid."})
		return
	}
	admin := s.world.Partner.Admin()
	t := lt.forUser(s.world, admin)
	if e := s.signInLocked(admin, t, client); e != nil {
		// The user meets this on the sign-in page; the app hears nothing.
		s.mu.Unlock()
		s.writeLoginErrorPage(w, r, e)
		return
	}
	if s.world.Authorize.Deny {
		back(&aadError{Code: "access_denied", AADSTS: 65004, Message: "User declined to consent to access the app."})
		return
	}
	if e := s.consentLocked(t, client, admin, parseScopes(s.world, q.Get("scope"))); e != nil {
		back(e)
		return
	}
	code := opaqueToken("1.AR", 96)
	s.world.AuthCodes[code] = &AuthCode{ClientID: client.AppID, UserID: admin.ID, RedirectURI: redirect, Challenge: challenge,
		Method: method, Scope: q.Get("scope"), Tenant: t.ID, MFA: admin.MFA && !s.world.Authorize.NoMFA,
		IssuedAt: s.clock.Now(), Nonce: q.Get("nonce")}
	s.mu.Unlock()
	v := url.Values{"code": {code}, "session_state": {newID()}}
	if state != "" {
		v.Set("state", state)
	}
	s.authorizeRespond(w, r, redirect, mode, v)
}

// adminConsent is the admin consent endpoint: the admin grants every
// permission in the app's registration in their tenant, or cancels.
// https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, state := q.Get("redirect_uri"), q.Get("state")
	s.mu.Lock()
	lt, client, page := s.authorizeClientLocked(r.PathValue("tenant"), q.Get("client_id"), redirect)
	if page != nil {
		s.mu.Unlock()
		s.writeLoginErrorPage(w, r, page)
		return
	}
	admin := s.world.Partner.Admin()
	t := lt.forUser(s.world, admin)
	if e := s.signInLocked(admin, t, client); e != nil {
		s.mu.Unlock()
		s.writeLoginErrorPage(w, r, e)
		return
	}
	v := url.Values{}
	switch {
	case s.world.Authorize.Deny:
		v.Set("error", "permission_denied")
		v.Set("error_description", "The admin canceled the request")
	case !s.isAdminIn(admin, t):
		v.Set("error", "access_denied")
		v.Set("error_description", s.describe(r, &aadError{AADSTS: 90094, Message: "Administrator consent is required."}))
	default:
		_ = s.grantConsentLocked(client.AppID, t.ID)
		v.Set("admin_consent", "True")
		v.Set("tenant", t.ID)
		if sc := q.Get("scope"); sc != "" {
			v.Set("scope", sc)
		}
	}
	s.mu.Unlock()
	if state != "" {
		v.Set("state", state)
	}
	s.authorizeRespond(w, r, redirect, "query", v)
}

// authorizeClientLocked checks what must hold before the endpoint may
// redirect anywhere: a known tenant (AADSTS90002), a known app
// (AADSTS700016) and a redirect_uri registered on it (AADSTS900971,
// AADSTS50011). Failures are for the error page.
func (s *Server) authorizeClientLocked(tenant, clientID, redirect string) (loginTenant, *App, *aadError) {
	lt, ok := s.resolveTenantLocked(tenant)
	if !ok {
		return lt, nil, tenantNotFound(tenant)
	}
	client := s.world.Apps[strings.ToLower(clientID)]
	if client == nil {
		return lt, nil, appNotFound(clientID, lt)
	}
	if redirect == "" {
		return lt, nil, &aadError{AADSTS: 900971, Message: "No reply address provided."}
	}
	if redirectKind(client, redirect) == "" {
		return lt, nil, &aadError{AADSTS: 50011, Message: fmt.Sprintf("The redirect URI '%s' specified in the request does not "+
			"match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request "+
			"matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError "+
			"to learn more about how to fix this.", redirect, client.AppID)}
	}
	return lt, client, nil
}

// redirectKind says which platform of app registers uri: "web"
// (confidential), "public" (mobile and desktop) or "" when none does.
func redirectKind(app *App, uri string) string {
	switch {
	case slices.ContainsFunc(app.WebRedirectURIs, func(reg string) bool { return redirectMatches(reg, uri) }):
		return "web"
	case slices.ContainsFunc(app.PublicRedirectURIs, func(reg string) bool { return redirectMatches(reg, uri) }):
		return "public"
	}
	return ""
}

// redirectMatches compares a requested redirect URI with a registered one:
// exactly, except that for loopback hosts (localhost, 127.0.0.1) the port
// is ignored, as RFC 8252 §7.3 asks. The IPv6 loopback is not supported.
// https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	ru, err1 := url.Parse(registered)
	qu, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil {
		return false
	}
	loopback := func(h string) bool { return strings.EqualFold(h, "localhost") || h == "127.0.0.1" }
	path := func(p string) string {
		if p == "" {
			return "/"
		}
		return p
	}
	return loopback(ru.Hostname()) && strings.EqualFold(ru.Scheme, qu.Scheme) && strings.EqualFold(ru.Hostname(), qu.Hostname()) &&
		path(ru.Path) == path(qu.Path) && ru.RawQuery == qu.RawQuery
}

// pkceMatches checks a code_verifier against its challenge (RFC 7636 §4.6).
func pkceMatches(challenge, method, verifier string) bool {
	if verifier == "" {
		return false
	}
	got := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		got = b64.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// redirectError is the error an app receives at its redirect URI.
func (s *Server) redirectError(r *http.Request, e *aadError, state string) url.Values {
	v := url.Values{"error": {e.Code}, "error_description": {s.describe(r, e)}}
	if state != "" {
		v.Set("state", state)
	}
	return v
}

// describe writes an error description as the identity platform does.
func (s *Server) describe(r *http.Request, e *aadError) string {
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	return fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		e.AADSTS, e.Message, newID(), corr, s.clock.Now().Format("2006-01-02 15:04:05Z"))
}

// authorizeRespond returns v to the app. For query and fragment responses
// a redirect URI without a path gets a trailing slash, as the identity
// platform does; form_post answers a page that posts v to the redirect
// URI as given.
func (s *Server) authorizeRespond(w http.ResponseWriter, r *http.Request, redirect, mode string, v url.Values) {
	if mode == "form_post" {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(v)) {
			fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s" />`, html.EscapeString(k), html.EscapeString(v.Get(k)))
		}
		writeLoginPage(w, http.StatusOK, "Working...", fmt.Sprintf(`<form method="POST" name="hiddenform" action="%s">%s`+
			`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form>`+
			`<script language="javascript">document.forms[0].submit();</script>`, html.EscapeString(redirect), b.String()))
		return
	}
	u, err := url.Parse(redirect)
	if err != nil {
		s.writeLoginErrorPage(w, r, &aadError{AADSTS: 50011, Message: "The redirect URI is not valid."})
		return
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if mode == "fragment" {
		w.Header().Set("Cache-Control", "no-store, no-cache")
		http.Redirect(w, r, u.String()+"#"+v.Encode(), http.StatusFound)
		return
	}
	if u.RawQuery == "" {
		u.RawQuery = v.Encode()
	} else {
		u.RawQuery += "&" + v.Encode()
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	http.Redirect(w, r, u.String(), http.StatusFound)
}
