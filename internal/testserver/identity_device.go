package testserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

// The device authorization grant: /devicecode hands out a device code and
// a user code; the simulated admin enters the code and approves (or
// declines) as World.DeviceCode says, or a test does it with
// ApproveDeviceCode; the client polls /token meanwhile.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code

const (
	defaultDeviceLifetime = 15 * time.Minute
	userCodeAlphabet      = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)

// deviceCode answers /devicecode with device_code, user_code,
// verification_uri, expires_in, interval and message; the identity
// platform sends no verification_uri_complete.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeTokenError(w, r, &aadError{Code: "invalid_request", AADSTS: 900561, Message: fmt.Sprintf(
			"The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method)})
		return
	}
	if r.PostForm == nil {
		_ = r.ParseForm()
	}
	s.mu.Lock()
	tr, e := s.tokenRequestLocked(r)
	var scope string
	if e == nil {
		if scope = tr.get("scope"); scope == "" {
			e = missingParam("scope")
		}
	}
	if e == nil {
		for _, rr := range parseScopes(s.world, scope).resources {
			if rr.app == nil || len(rr.unknown) > 0 {
				e = invalidScope(scope)
				break
			}
		}
	}
	if e != nil {
		s.mu.Unlock()
		s.writeTokenError(w, r, e)
		return
	}
	pol := s.world.DeviceCode
	lifetime, interval := pol.Lifetime, pol.Interval
	if lifetime <= 0 {
		lifetime = defaultDeviceLifetime
	}
	if interval <= 0 {
		interval = 5
	}
	dc := &DeviceCode{ClientID: tr.client.AppID, UserCode: userCode(), Scope: scope, Tenant: strings.ToLower(tr.lt.raw),
		IssuedAt: s.clock.Now()}
	device := opaqueToken("DAQABIQEAAAD", 96)
	s.world.DeviceCodes[device] = dc
	s.mu.Unlock()

	uri := s.URL() + "/devicelogin"
	noStore(w)
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code": dc.UserCode, "device_code": device, "verification_uri": uri,
		"expires_in": int(lifetime / time.Second), "interval": interval,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", uri, dc.UserCode),
	})
}

// deviceCodeGrantLocked answers a poll with the errors the identity
// platform's device code page lists, and no other: authorization_pending
// (AADSTS70016) until the code is approved, authorization_declined,
// expired_token (AADSTS70019) after its lifetime, bad_verification_code
// for a device code never issued; then the tokens, once. The page lists no
// slow_down (RFC 8628 §3.5), so the fake never sends it.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code#expected-errors
func (s *Server) deviceCodeGrantLocked(tr *tokenRequest) (*issuance, *aadError) {
	v := tr.get("device_code")
	if v == "" {
		return nil, missingParam("device_code")
	}
	dc := s.world.DeviceCodes[v]
	if dc == nil || dc.ClientID != tr.client.AppID {
		return nil, &aadError{Code: "bad_verification_code", AADSTS: 70018, Message: "Invalid verification code due to User " +
			"typing in wrong user code for device code flow. Authorization isn't approved."}
	}
	confidential := !tr.client.PublicClient && !tr.client.IsFallbackPublicClient
	appidacr, e := s.clientAuthLocked(tr, confidential)
	if e != nil {
		return nil, e
	}
	now, pol := s.clock.Now(), s.world.DeviceCode
	dc.Polls++
	dc.LastPoll = now
	switch {
	case dc.Redeemed:
		return nil, invalidGrant()
	case s.deviceExpired(dc, now):
		return nil, &aadError{Code: "expired_token", AADSTS: 70019, Message: "Verification code expired."}
	case dc.Declined:
		return nil, deviceDeclined()
	case !dc.Approved:
		if pol.Manual || dc.Polls <= pol.PendingPolls {
			return nil, authorizationPending()
		}
		if s.rehearsingLocked(RehearseDeviceCodeBlocked) {
			return nil, deviceCodeBlocked()
		}
		if pol.Decline {
			dc.Declined = true
			return nil, deviceDeclined()
		}
		if err := s.approveDeviceLocked(dc); err != nil {
			// The admin could not finish signing in; the device waits on.
			return nil, authorizationPending()
		}
	}
	// The code is redeemed at the tenant (or alias) it was requested for.
	u := s.userLocked("", dc.UserID)
	lt, ok := s.resolveTenantLocked(dc.Tenant)
	if u == nil || !ok || !(strings.EqualFold(dc.Tenant, tr.lt.raw) || lt.tenant != nil && tr.lt.tenant == lt.tenant) {
		return nil, invalidGrant()
	}
	t := lt.forUser(s.world, u)
	scope := tr.get("scope")
	if scope == "" {
		scope = dc.Scope
	}
	q := parseScopes(s.world, scope)
	is, e := s.delegatedLocked(tr, u, t, q, dc.MFA, true)
	if e != nil {
		return nil, e
	}
	dc.Redeemed = true
	is.appidacr = appidacr
	if q.oidc["offline_access"] {
		is.refresh = s.newRefreshTokenLocked(tr.client.AppID, u, confidential, dc.MFA, scope)
	}
	return is, nil
}

func (s *Server) deviceExpired(dc *DeviceCode, now time.Time) bool {
	lifetime := s.world.DeviceCode.Lifetime
	if lifetime <= 0 {
		lifetime = defaultDeviceLifetime
	}
	return !now.Before(dc.IssuedAt.Add(lifetime))
}

// approveDeviceLocked is the simulated admin entering the user code,
// signing in to the tenant the code was requested for and consenting.
func (s *Server) approveDeviceLocked(dc *DeviceCode) error {
	admin := s.world.Partner.Admin()
	client := s.world.Apps[dc.ClientID]
	lt, ok := s.resolveTenantLocked(dc.Tenant)
	if admin == nil || client == nil || !ok {
		return errors.New("testserver: the device code's app or tenant is gone")
	}
	t := lt.forUser(s.world, admin)
	if e := s.signInLocked(admin, t, client); e != nil {
		return fmt.Errorf("testserver: AADSTS%d: %s", e.AADSTS, e.Message)
	}
	if e := s.consentLocked(t, client, admin, parseScopes(s.world, dc.Scope)); e != nil {
		return fmt.Errorf("testserver: AADSTS%d: %s", e.AADSTS, e.Message)
	}
	dc.Approved, dc.UserID, dc.MFA = true, admin.ID, admin.MFA
	return nil
}

// ApproveDeviceCode has the partner admin enter userCode at the
// verification page, sign in and consent, as a person would. Tests that
// set World.DeviceCode.Manual call it to decide when a polling client
// gets its tokens. It fails for an unknown, expired, declined or already
// approved code, or when the admin may not sign in to the code's tenant.
func (s *Server) ApproveDeviceCode(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, dc := range s.world.DeviceCodes {
		if !strings.EqualFold(dc.UserCode, strings.TrimSpace(userCode)) {
			continue
		}
		switch {
		case s.deviceExpired(dc, s.clock.Now()):
			return errors.New("testserver: the code has expired")
		case dc.Declined:
			return errors.New("testserver: the code was declined")
		case dc.Approved:
			return errors.New("testserver: the code was already used")
		}
		return s.approveDeviceLocked(dc)
	}
	return fmt.Errorf("testserver: no device code with user code %q", userCode)
}

// deviceLoginPage is the verification_uri: a form for the user code.
func (s *Server) deviceLoginPage(w http.ResponseWriter, r *http.Request) {
	writeLoginPage(w, http.StatusOK, "Enter code", `<h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>`+
		`<form method="POST" action="/devicelogin"><input type="text" name="otc" placeholder="Code" /><input type="submit" value="Next" /></form>`)
}

// deviceLoginSubmit signs the partner admin in for the code entered.
func (s *Server) deviceLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := s.ApproveDeviceCode(r.PostFormValue("otc")); err != nil {
		writeLoginPage(w, http.StatusBadRequest, "Enter code", "<h1>Enter code</h1><p>That code didn't work. Check the code and try again.</p><p>"+
			html.EscapeString(err.Error())+"</p>")
		return
	}
	writeLoginPage(w, http.StatusOK, "Signed in", "<p>You have signed in on your device. You may now close this window.</p>")
}

func authorizationPending() *aadError {
	return &aadError{Code: "authorization_pending", AADSTS: 70016, Message: "OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
}

// deviceDeclined is the user declining at the verification page; the
// identity platform documents authorization_declined, and AADSTS65004 is
// its code for a user declining consent.
func deviceDeclined() *aadError {
	return &aadError{Code: "authorization_declined", AADSTS: 65004, Message: "User declined to consent to access the app."}
}

func userCode() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b)
}
