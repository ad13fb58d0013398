package testserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The /token endpoint: authorization_code, refresh_token,
// client_credentials and device_code grants, answered in the identity
// platform's JSON shape.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow

const (
	grantDeviceCode  = "urn:ietf:params:oauth:grant-type:device_code"
	authCodeLifetime = 10 * time.Minute
	idTokenLifetime  = time.Hour
)

// tokenRequest is a /token request whose tenant and client are resolved.
type tokenRequest struct {
	r      *http.Request
	lt     loginTenant
	client *App
	creds  clientCreds
}

func (tr *tokenRequest) get(name string) string { return tr.r.PostForm.Get(name) }

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeTokenError(w, r, &aadError{Code: "invalid_request", AADSTS: 900561, Message: fmt.Sprintf(
			"The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method)})
		return
	}
	if r.PostForm == nil {
		_ = r.ParseForm()
	}
	s.mu.Lock()
	is, e := s.grantLocked(r)
	s.mu.Unlock()
	if e != nil {
		s.writeTokenError(w, r, e)
		return
	}
	s.writeTokenResponse(w, is)
}

func (s *Server) grantLocked(r *http.Request) (*issuance, *aadError) {
	grant := r.PostForm.Get("grant_type")
	if grant == "" {
		return nil, missingParam("grant_type")
	}
	tr, e := s.tokenRequestLocked(r)
	if e != nil {
		return nil, e
	}
	if grant == "refresh_token" || grant == "client_credentials" {
		if e := s.throttleLocked(grant, tr); e != nil {
			return nil, e
		}
	}
	switch grant {
	case "authorization_code":
		return s.authCodeGrantLocked(tr)
	case "refresh_token":
		return s.refreshGrantLocked(tr)
	case "client_credentials":
		return s.clientCredentialsGrantLocked(tr)
	case grantDeviceCode, "device_code":
		// The documented grant type is the RFC 8628 URN; Microsoft's own
		// libraries (MSAL Go among them) send the short form, which the
		// identity platform accepts too.
		return s.deviceCodeGrantLocked(tr)
	}
	return nil, &aadError{Code: "unsupported_grant_type", AADSTS: 70003,
		Message: fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant)}
}

// tokenRequestLocked resolves the tenant (AADSTS90002) and the client
// (AADSTS700016) every grant starts from.
func (s *Server) tokenRequestLocked(r *http.Request) (*tokenRequest, *aadError) {
	lt, ok := s.resolveTenantLocked(r.PathValue("tenant"))
	if !ok {
		return nil, tenantNotFound(lt.raw)
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		if u, _, ok := r.BasicAuth(); ok {
			id, _ = url.QueryUnescape(u)
		}
	}
	if id == "" {
		return nil, missingParam("client_id")
	}
	client := s.world.Apps[strings.ToLower(id)]
	if client == nil {
		return nil, appNotFound(id, lt)
	}
	if client.AppID == ExchangePowerShellID && s.rehearsingLocked(RehearseExchangePowerShellRetired) {
		return nil, applicationDisabled(client)
	}
	return &tokenRequest{r: r, lt: lt, client: client, creds: presentedCreds(r)}, nil
}

// authCodeGrantLocked redeems an authorization code: once (AADSTS54005),
// within ten minutes (AADSTS70008), with the redirect_uri it was issued
// to (AADSTS500112) and the PKCE verifier of its challenge
// (AADSTS501481). A code sent to a web redirect URI belongs to a
// confidential client, which must authenticate; one sent to a public
// client redirect URI must come without credentials.
func (s *Server) authCodeGrantLocked(tr *tokenRequest) (*issuance, *aadError) {
	code := tr.get("code")
	if code == "" {
		return nil, missingParam("code")
	}
	ac := s.world.AuthCodes[code]
	if ac == nil {
		return nil, malformedGrant()
	}
	ac.RedeemedCount++
	if ac.ClientID != tr.client.AppID {
		return nil, invalidGrant()
	}
	confidential := redirectKind(tr.client, ac.RedirectURI) == "web"
	appidacr, e := s.clientAuthLocked(tr, confidential)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	switch {
	case ac.Redeemed:
		return nil, &aadError{Code: "invalid_grant", AADSTS: 54005, Message: "OAuth2 Authorization code was already redeemed, " +
			"please retry with a new valid code or use an existing refresh token."}
	case !now.Before(ac.IssuedAt.Add(authCodeLifetime)):
		return nil, &aadError{Code: "invalid_grant", AADSTS: 70008, Message: "The provided authorization code or refresh token " +
			"has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
	case tr.get("redirect_uri") == "":
		return nil, missingParam("redirect_uri")
	case tr.get("redirect_uri") != ac.RedirectURI:
		return nil, invalidClient(500112, fmt.Sprintf("The reply address '%s' does not match the reply address '%s' provided "+
			"when requesting Authorization code.", tr.get("redirect_uri"), ac.RedirectURI))
	case ac.Challenge != "" && !pkceMatches(ac.Challenge, ac.Method, tr.get("code_verifier")):
		return nil, &aadError{Code: "invalid_grant", AADSTS: 501481,
			Message: "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
	}
	u := s.userLocked("", ac.UserID)
	if u == nil {
		return nil, invalidGrant()
	}
	t := tr.lt.forUser(s.world, u)
	if t == nil || t.ID != ac.Tenant {
		return nil, &aadError{Code: "invalid_grant", AADSTS: 700005, Message: "Provided Authorization Code is intended to " +
			"use against other tenant, thus rejected."}
	}
	issued := parseScopes(s.world, ac.Scope)
	q := parseScopes(s.world, tr.get("scope"))
	if len(q.resources) == 0 {
		q.resources = issued.resources
	}
	is, e := s.delegatedLocked(tr, u, t, q, ac.MFA, true)
	if e != nil {
		return nil, e
	}
	ac.Redeemed = true
	is.appidacr, is.nonce = appidacr, ac.Nonce
	is.idToken = is.idToken || issued.oidc["openid"]
	if q.oidc["offline_access"] || issued.oidc["offline_access"] {
		is.refresh = s.newRefreshTokenLocked(tr.client.AppID, u, confidential, ac.MFA, ac.Scope)
	}
	return is, nil
}

// refreshGrantLocked redeems a refresh token. Every redemption returns a
// new refresh token and leaves the old one valid; each token dies
// RefreshIdleLifetime after its own issue (AADSTS700082) or when the
// user's sessions are revoked after it (AADSTS50173). The scope picks the
// resource; without one, the token is for the scope it was minted with.
func (s *Server) refreshGrantLocked(tr *tokenRequest) (*issuance, *aadError) {
	v := tr.get("refresh_token")
	if v == "" {
		return nil, missingParam("refresh_token")
	}
	rt := s.world.RefreshTokens[v]
	if rt == nil {
		return nil, malformedGrant()
	}
	if rt.ClientID != tr.client.AppID {
		return nil, grantOtherClient()
	}
	appidacr, e := s.clientAuthLocked(tr, rt.Confidential)
	if e != nil {
		return nil, e
	}
	now := s.clock.Now()
	if idle := now.Sub(rt.IssuedAt); idle >= s.world.RefreshIdleLifetime {
		return nil, &aadError{Code: "invalid_grant", AADSTS: 700082, Message: fmt.Sprintf("The refresh token has expired due "+
			"to inactivity. The token was issued on %s and was inactive for %s.", roundTrip(rt.IssuedAt), timeSpan(idle))}
	}
	u := s.userLocked(rt.HomeTenant, rt.UserID)
	if u == nil {
		return nil, invalidGrant()
	}
	if u.RevokedBefore.After(rt.IssuedAt) {
		return nil, &aadError{Code: "invalid_grant", AADSTS: 50173, Message: fmt.Sprintf("The provided grant has expired due to "+
			"it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was "+
			"issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.",
			roundTrip(rt.IssuedAt), roundTrip(u.RevokedBefore))}
	}
	t := tr.lt.forUser(s.world, u)
	if t == nil {
		return nil, tenantNotFound(tr.lt.raw)
	}
	scope := tr.get("scope")
	if scope == "" {
		scope = rt.Scope
	}
	// Rehearsing Partner Center's MFA enforcement, the token was minted at
	// a sign-in without MFA: its access tokens carry none.
	mfa := rt.MFA && !s.rehearsingLocked(RehearsePartnerCenterMFA)
	is, e := s.delegatedLocked(tr, u, t, parseScopes(s.world, scope), mfa, false)
	if e != nil {
		return nil, e
	}
	is.appidacr = appidacr
	is.refresh = s.newRefreshTokenLocked(rt.ClientID, u, rt.Confidential, rt.MFA, scope)
	return is, nil
}

// clientCredentialsGrantLocked issues an app-only token: the client must
// be present in the tenant (AADSTS700016), authenticate, and ask for one
// resource's /.default (AADSTS1002012; several resources, AADSTS70011).
// The token carries the application permissions assigned in that tenant,
// and no refresh token comes with it.
func (s *Server) clientCredentialsGrantLocked(tr *tokenRequest) (*issuance, *aadError) {
	t := tr.lt.tenant
	if t == nil {
		// Documented for /common and /consumers; /organizations names no
		// tenant for an app acting as itself either.
		return nil, &aadError{Code: "invalid_request", AADSTS: 9001023, Message: "The grant type isn't supported over the " +
			"/common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."}
	}
	clientSP := t.ServicePrincipalByAppID(tr.client.AppID)
	if clientSP == nil {
		return nil, appNotFound(tr.client.AppID, tr.lt)
	}
	appidacr, e := s.clientAuthLocked(tr, true)
	if e != nil {
		return nil, e
	}
	raw := tr.get("scope")
	if raw == "" {
		return nil, missingParam("scope")
	}
	q := parseScopes(s.world, raw)
	if len(q.resources) > 1 {
		return nil, invalidScope(raw)
	}
	if len(q.resources) == 0 || !q.resources[0].dflt || len(q.resources[0].names)+len(q.resources[0].unknown) > 0 {
		return nil, &aadError{Code: "invalid_scope", AADSTS: 1002012, Message: fmt.Sprintf("The provided value for scope %s is "+
			"not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier "+
			"(application ID URI).", raw)}
	}
	rr := q.resources[0]
	if rr.app == nil {
		return nil, resourceNotFound(rr.ident, t)
	}
	resSP := t.ServicePrincipalByAppID(rr.app.AppID)
	if resSP == nil {
		return nil, resourceNotFound(rr.app.Resource, t)
	}
	return &issuance{clientID: tr.client.AppID, tenant: t.ID, resource: rr.app.Resource, appidacr: appidacr, appOnly: true,
		spID: clientSP.ID, roles: t.AppRoles(clientSP.ID, rr.app, resSP.ID), lifetime: s.accessLifetimeLocked()}, nil
}

// clientAuthLocked authenticates a confidential client or refuses
// credentials from a public one, and returns the token's appidacr.
func (s *Server) clientAuthLocked(tr *tokenRequest, confidential bool) (string, *aadError) {
	if !confidential {
		return "0", publicClient(tr.creds)
	}
	return s.authenticateClientLocked(tr.client, tr.creds, tr.lt)
}

// delegatedLocked decides a delegated token for u in t: one resource
// (several: AADSTS28000; none, as for "openid profile": Microsoft Graph),
// a user allowed in the tenant (AADSTS50020), Conditional Access satisfied
// (AADSTS50076: a tenant demanding MFA refuses refresh tokens outright and
// needs an interactive sign-in with MFA), and consent (AADSTS65001).
func (s *Server) delegatedLocked(tr *tokenRequest, u *User, t *Tenant, q scopeRequest, mfa, interactive bool) (*issuance, *aadError) {
	if len(q.resources) > 1 {
		return nil, &aadError{Code: "invalid_scope", AADSTS: 28000, Message: fmt.Sprintf("Provided value for the input "+
			"parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", q.raw)}
	}
	rr := &resourceRequest{app: s.world.Apps[GraphAppID]}
	if len(q.resources) == 1 {
		rr = q.resources[0]
	}
	if e := s.signInLocked(u, t, tr.client); e != nil {
		return nil, e
	}
	if t.DemandMFA && (!interactive || !mfa) {
		return nil, mfaRequired(t, rr)
	}
	scp, e := s.delegatedScopesLocked(t, tr.client, u, rr)
	if e != nil {
		return nil, e
	}
	is := &issuance{clientID: tr.client.AppID, tenant: t.ID, resource: rr.app.Resource, scp: scp, userID: u.ID, upn: u.UPN,
		name: u.DisplayName, homeTenant: u.HomeTenant, mfa: mfa, scope: responseScope(rr, scp, q),
		idToken: q.oidc["openid"], clientInfo: tr.get("client_info") == "1", lifetime: s.accessLifetimeLocked()}
	if u.HomeTenant == t.ID {
		is.wids = slices.Clone(u.Roles)
	}
	return is, nil
}

// responseScope is the scope member of a delegated token response: every
// permission the token carries, spelled as the request named the resource,
// the OpenID Connect scopes asked for and consented (Graph permissions),
// and the {resource}/.default asked for.
func responseScope(rr *resourceRequest, scp []string, q scopeRequest) string {
	var out []string
	for _, sc := range scp {
		if !oidcScopes[sc] {
			out = append(out, rr.format(sc))
		}
	}
	if rr.app.AppID == GraphAppID {
		for _, sc := range []string{"openid", "profile", "email"} {
			if q.oidc[sc] && slices.Contains(scp, sc) {
				out = append(out, sc)
			}
		}
	}
	if rr.dflt {
		out = append(out, rr.defaultScope())
	}
	return strings.Join(out, " ")
}

// newRefreshTokenLocked mints and stores a refresh token.
func (s *Server) newRefreshTokenLocked(clientID string, u *User, confidential, mfa bool, scope string) string {
	v := opaqueToken("1.AQ", 96)
	s.world.RefreshTokens[v] = &RefreshToken{ClientID: clientID, UserID: u.ID, HomeTenant: u.HomeTenant,
		Confidential: confidential, MFA: mfa, IssuedAt: s.clock.Now(), Scope: scope}
	return v
}

// userLocked finds a user, in its home tenant when that is known (a
// refresh token records it: the lookup on every refresh stays O(1) with
// thousands of tenants), else in any tenant.
func (s *Server) userLocked(home, id string) *User {
	if t := s.world.Tenants[home]; t != nil {
		if u := t.Users[id]; u != nil {
			return u
		}
	}
	for _, t := range s.world.Tenants {
		if u := t.Users[id]; u != nil {
			return u
		}
	}
	return nil
}
