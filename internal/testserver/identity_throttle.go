package testserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Throttling at the token endpoint. The identity platform answers a client
// that asks for app tokens too fast with 429, a Retry-After header and a
// body that is plain text, not its JSON; and a client that redeems refresh
// tokens in a loop, as one that caches nothing does, with invalid_grant
// AADSTS50196 (LoopDetected). Both are counted per client and tenant over
// a sliding window.
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS50196)
// https://learn.microsoft.com/entra/identity/users/directory-service-limits-restrictions (throttling)

// TokenThrottle says when the token endpoint throttles a client in a
// tenant. The zero value throttles nothing; NewSandbox sets
// SandboxTokenThrottle.
type TokenThrottle struct {
	// AppRequests is how many client credentials requests one client may
	// make in one tenant within Window; the next ones answer 429 with a
	// Retry-After and a plain-text body. 0: no limit.
	AppRequests int
	// RefreshRequests is how many refresh token redemptions one client
	// may make in one tenant within Window; the next ones answer
	// invalid_grant AADSTS50196. 0: no limit.
	RefreshRequests int
	// Window is the sliding window both limits count over.
	Window time.Duration
}

// SandboxTokenThrottle is the sandbox's token throttling: generous for a
// client that caches its tokens, fatal to one that loops.
var SandboxTokenThrottle = TokenThrottle{AppRequests: 100, RefreshRequests: 60, Window: time.Minute}

// tokenLimits keeps, per grant, client and tenant, the times of the
// requests within the window.
type tokenLimits map[string][]time.Time

// throttleLocked counts a token request of grant by tr's client and
// answers the throttling error if it is one too many.
func (s *Server) throttleLocked(grant string, tr *tokenRequest) *aadError {
	pol := s.world.TokenThrottle
	limit := pol.RefreshRequests
	if grant == "client_credentials" {
		limit = pol.AppRequests
	}
	if limit <= 0 || pol.Window <= 0 {
		return nil
	}
	tenant := strings.ToLower(tr.lt.raw)
	if tr.lt.tenant != nil {
		tenant = tr.lt.tenant.ID
	}
	if s.limits == nil {
		s.limits = tokenLimits{}
	}
	key := grant + "|" + tr.client.AppID + "|" + tenant
	now := s.clock.Now()
	times := s.limits[key]
	for len(times) > 0 && !now.Before(times[0].Add(pol.Window)) {
		times = times[1:]
	}
	if len(times) >= limit {
		s.limits[key] = times
		if grant == "client_credentials" {
			wait := times[0].Add(pol.Window).Sub(now)
			return &aadError{Status: http.StatusTooManyRequests, RetryAfter: max(1, int((wait+time.Second-1)/time.Second))}
		}
		return loopDetected()
	}
	s.limits[key] = append(times, now)
	return nil
}

// loopDetected is AADSTS50196, with the text the service sends.
func loopDetected() *aadError {
	return &aadError{Code: "invalid_grant", AADSTS: 50196, Message: "The server terminated an operation because it " +
		"encountered a client request loop. Please contact your app vendor."}
}

// writeThrottled answers 429 as the token endpoint does: Retry-After and
// a short plain-text body.
func writeThrottled(w http.ResponseWriter, retryAfter int) {
	noStore(w)
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = fmt.Fprintf(w, "Too many requests. Retry after %d seconds.", retryAfter)
}
