package testserver

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Rehearsals stage, in a running fake, a change Microsoft has announced or
// a failure users must be ready for, so that a tool can be tried against
// it before it happens for real. Each is made of the world's state where
// the world can hold it (sessions revoked, secrets expired, tokens minted
// without MFA); the others are switches the handlers read. A sandbox
// starts them from samctl's --rehearse flag or its loopback admin
// endpoint, /_sandbox/rehearsals.

// Rehearsal names a rehearsal.
type Rehearsal string

// The rehearsals.
const (
	// RehearsePartnerCenterMFA: the SAM refresh token is redeemed for
	// tokens without an MFA claim, as after a sign-in that a trusted-IP
	// rule let through without MFA; Partner Center, which enforces MFA
	// for app+user calls, answers 401 with code 900421.
	RehearsePartnerCenterMFA Rehearsal = "partner-center-mfa"
	// RehearseDeviceCodeBlocked: a Conditional Access policy blocks the
	// device code flow (authentication flows condition): the admin's
	// sign-in fails and the polling client gets AADSTS53003.
	RehearseDeviceCodeBlocked Rehearsal = "device-code-blocked"
	// RehearseExchangePowerShellRetired: Microsoft retired the Exchange
	// Online PowerShell client (a0c73c16-…): its refresh tokens are
	// refused with AADSTS7000112 (application disabled).
	RehearseExchangePowerShellRetired Rehearsal = "exchange-powershell-retired"
	// RehearseInvokeCommandOff: the Exchange admin API's InvokeCommand
	// beta endpoint is switched off: it answers 410 Gone.
	RehearseInvokeCommandOff Rehearsal = "invokecommand-off"
	// RehearseRefreshTokenIdle: every refresh token issued so far has been
	// idle past its lifetime: AADSTS700082. Undone only by a new sign-in.
	RehearseRefreshTokenIdle Rehearsal = "refresh-token-idle"
	// RehearseRefreshTokenRevoked: the partner admin's sessions are
	// revoked (a password reset): AADSTS50173. Undone only by a new
	// sign-in.
	RehearseRefreshTokenRevoked Rehearsal = "refresh-token-revoked"
	// RehearseSecretExpired: every client secret of the apps registered
	// in the partner tenant expires now: AADSTS7000222. Undone by a new
	// secret (samctl rotate-secret cannot help: it signs in with the
	// secret).
	RehearseSecretExpired Rehearsal = "secret-expired"
	// RehearseMFARequired: Conditional Access in the partner tenant
	// demands MFA at every token request, which a refresh token cannot
	// answer: AADSTS50076.
	RehearseMFARequired Rehearsal = "mfa-required"
	// RehearseThrottled: Graph, Partner Center and Exchange answer every
	// request with 429 and Retry-After: 1.
	RehearseThrottled Rehearsal = "throttled"
	// RehearseHung: Graph, Partner Center and Exchange accept requests
	// and never answer.
	RehearseHung Rehearsal = "hung"
)

// RehearsalInfo describes a rehearsal for people.
type RehearsalInfo struct {
	Name Rehearsal `json:"name"`
	// Change is what it stages and what a client meets.
	Change string `json:"change"`
	// OneWay says it cannot be stopped: it changed the world's state
	// (tokens, sessions, secrets), which only a new sign-in or secret
	// mends.
	OneWay bool `json:"oneWay"`
	// Active says it is staged now.
	Active bool `json:"active"`
}

var rehearsals = []RehearsalInfo{
	{Name: RehearsePartnerCenterMFA, Change: "tokens come without an MFA claim; Partner Center enforces MFA for app+user calls: 401, code 900421"},
	{Name: RehearseDeviceCodeBlocked, Change: "Conditional Access blocks the device code flow: the sign-in fails with AADSTS53003"},
	{Name: RehearseExchangePowerShellRetired, Change: "the Exchange Online PowerShell client a0c73c16 is retired: its refresh tokens get AADSTS7000112"},
	{Name: RehearseInvokeCommandOff, Change: "the Exchange admin API's InvokeCommand beta endpoint is switched off: 410 Gone"},
	{Name: RehearseRefreshTokenIdle, Change: "every refresh token so far idled out: AADSTS700082 (one way: sign in again)", OneWay: true},
	{Name: RehearseRefreshTokenRevoked, Change: "the admin's sessions are revoked: AADSTS50173 (one way: sign in again)", OneWay: true},
	{Name: RehearseSecretExpired, Change: "every client secret in the partner tenant expires: AADSTS7000222 (one way: add a secret)", OneWay: true},
	{Name: RehearseMFARequired, Change: "Conditional Access in the partner tenant demands MFA a refresh token cannot give: AADSTS50076"},
	{Name: RehearseThrottled, Change: "Graph, Partner Center and Exchange answer 429 with Retry-After: 1"},
	{Name: RehearseHung, Change: "Graph, Partner Center and Exchange never answer"},
}

// Rehearsals lists the rehearsals, with the ones staged now marked active.
func (s *Server) Rehearsals() []RehearsalInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(rehearsals)
	for i := range out {
		out[i].Active = s.rehearsing[out[i].Name]
	}
	return out
}

// RehearsalCatalog lists every rehearsal, none active: what a server can
// stage, for help texts.
func RehearsalCatalog() []RehearsalInfo { return slices.Clone(rehearsals) }

// RehearsalNames lists the rehearsals' names, for help texts.
func RehearsalNames() []string {
	names := make([]string, len(rehearsals))
	for i, r := range rehearsals {
		names[i] = string(r.Name)
	}
	return names
}

// Rehearse stages r. A one-way rehearsal changes the world at once;
// staging it again changes it again (tokens minted since then idle out
// too).
func (s *Server) Rehearse(r Rehearsal) error {
	info, ok := rehearsalInfo(r)
	if !ok {
		return fmt.Errorf("testserver: no rehearsal %q; the rehearsals are %s", r, strings.Join(RehearsalNames(), ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rehearsing == nil {
		s.rehearsing = map[Rehearsal]bool{}
	}
	now := s.clock.Now()
	w := s.world
	switch r {
	case RehearseRefreshTokenIdle:
		for _, rt := range w.RefreshTokens {
			rt.IssuedAt = now.Add(-w.RefreshIdleLifetime - time.Second)
		}
	case RehearseRefreshTokenRevoked:
		if a := w.Partner.Admin(); a != nil {
			a.RevokedBefore = now.Add(time.Second)
		}
	case RehearseSecretExpired:
		for _, app := range w.Apps {
			if app.HomeTenant != w.Partner.ID {
				continue
			}
			for _, p := range app.Passwords {
				if p.End.IsZero() || p.End.After(now) {
					p.End = now
				}
			}
		}
	case RehearseMFARequired:
		w.Partner.DemandMFA = true
	}
	s.rehearsing[r] = !info.OneWay
	return nil
}

// StopRehearsal stops r. A one-way rehearsal cannot be stopped.
func (s *Server) StopRehearsal(r Rehearsal) error {
	info, ok := rehearsalInfo(r)
	switch {
	case !ok:
		return fmt.Errorf("testserver: no rehearsal %q; the rehearsals are %s", r, strings.Join(RehearsalNames(), ", "))
	case info.OneWay:
		return fmt.Errorf("testserver: %s changed the world's tokens, sessions or secrets and cannot be undone: sign in again (samctl setup) or add a secret", r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rehearsing, r)
	if r == RehearseMFARequired {
		s.world.Partner.DemandMFA = false
	}
	return nil
}

func rehearsalInfo(r Rehearsal) (RehearsalInfo, bool) {
	i := slices.IndexFunc(rehearsals, func(x RehearsalInfo) bool { return x.Name == r })
	if i < 0 {
		return RehearsalInfo{}, false
	}
	return rehearsals[i], true
}

// rehearsingLocked reports whether r is staged.
func (s *Server) rehearsingLocked(r Rehearsal) bool { return s.rehearsing[r] }

// rehearsedServiceFault answers a Graph, Partner Center or Exchange
// request as the throttled or hung rehearsal says, and reports whether it
// did.
func (s *Server) rehearsedServiceFault(w http.ResponseWriter, r *http.Request, rec *Request) bool {
	if rec.Service == "login" {
		return false
	}
	s.mu.Lock()
	throttled, hung := s.rehearsingLocked(RehearseThrottled), s.rehearsingLocked(RehearseHung)
	s.mu.Unlock()
	switch {
	case hung:
		rec.Fault = Hang.String()
		<-r.Context().Done()
		return true
	case throttled:
		rec.Fault = Throttle.String()
		w.Header().Set("Retry-After", "1")
		serviceError(w, r, rec.Service, http.StatusTooManyRequests)
		return true
	}
	return false
}

// deviceCodeBlocked is the Conditional Access refusal of a device code
// sign-in.
// https://learn.microsoft.com/entra/identity/conditional-access/concept-authentication-flows
func deviceCodeBlocked() *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 53003, Message: "Access has been blocked by Conditional Access policies. " +
		"The access policy does not allow token issuance. A policy of the tenant blocks the device code flow."}
}

// applicationDisabled is AADSTS7000112 for a retired or disabled client.
func applicationDisabled(app *App) *aadError {
	return &aadError{Code: "unauthorized_client", AADSTS: 7000112, Message: fmt.Sprintf("Application '%s'(%s) is disabled.",
		app.AppID, app.DisplayName)}
}

// The loopback admin endpoint of a sandbox:
//
//	GET    /_sandbox/rehearsals         the rehearsals, as JSON
//	POST   /_sandbox/rehearsals/{name}  stage one
//	DELETE /_sandbox/rehearsals/{name}  stop one
//	POST   /_sandbox/gdap/relationships/{id}/approve[?customer=…]
//	                                    the customer's admin approves;
//	                                    customer=new[&name=…] makes the
//	                                    new customer's tenant first
//
// It answers only requests from a loopback address.
const adminPrefix = "/_sandbox/"

func (s *Server) routeAdmin(mux *http.ServeMux) {
	s.routeClock(mux)
	mux.HandleFunc("GET /_sandbox/rehearsals", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"rehearsals": s.Rehearsals()})
	})
	mux.HandleFunc("POST /_sandbox/rehearsals/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.adminAnswer(w, s.Rehearse(Rehearsal(r.PathValue("name"))))
	})
	mux.HandleFunc("DELETE /_sandbox/rehearsals/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.adminAnswer(w, s.StopRehearsal(Rehearsal(r.PathValue("name"))))
	})
	s.routeAdminGDAP(mux)
}

func (s *Server) adminAnswer(w http.ResponseWriter, err error) {
	if err != nil {
		status := http.StatusNotFound
		if strings.Contains(err.Error(), "cannot be undone") {
			status = http.StatusConflict
		}
		writeJSON(w, status, map[string]any{"error": strings.TrimPrefix(err.Error(), "testserver: ")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rehearsals": s.Rehearsals()})
}

// fromLoopbackAddr reports whether a request came from a loopback address.
func fromLoopbackAddr(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// adminHandler serves the admin endpoint to loopback callers only.
func adminHandler(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopbackAddr(r) {
			http.Error(w, "the sandbox's admin endpoint answers loopback callers only", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
