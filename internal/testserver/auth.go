package testserver

import (
	"net/http"
	"slices"
	"strings"
)

// authFailure says why a service refused a bearer token; each service
// renders it in its own error shape.
type authFailure struct {
	Status  int
	Code    string
	Message string
}

// authenticate checks the request's bearer token as a resource server does:
// signed by this server, not expired on the fake clock, issued for resource
// (its public identifier) as the cloud the fake plays names it.
// It returns the token's claims.
func (s *Server) authenticate(r *http.Request, resource string) (Claims, *authFailure) {
	tok := bearer(r)
	if tok == "" {
		return nil, &authFailure{http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."}
	}
	c, err := s.verify(tok)
	if err != nil {
		return nil, &authFailure{http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed or its signature is invalid."}
	}
	if exp := c.Time("exp"); !exp.After(s.clock.Now()) {
		return nil, &authFailure{http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."}
	}
	if !strings.EqualFold(strings.TrimSuffix(c.String("aud"), "/"), s.resource(resource)) {
		return nil, &authFailure{http.StatusUnauthorized, "InvalidAuthenticationToken", "Invalid audience."}
	}
	s.mu.Lock()
	t := s.world.Tenants[c.String("tid")]
	live := t != nil && !t.Deleted
	s.mu.Unlock()
	if !live {
		return nil, &authFailure{http.StatusUnauthorized, "InvalidAuthenticationToken", "The tenant for this token does not exist."}
	}
	return c, nil
}

// Has reports whether the token carries any of perms, as a delegated scope
// (scp) or an application role (roles).
func (c Claims) Has(perms ...string) bool {
	held := append(c.Strings("scp"), c.Strings("roles")...)
	for _, p := range perms {
		if slices.ContainsFunc(held, func(h string) bool { return strings.EqualFold(h, p) }) {
			return true
		}
	}
	return false
}

// AppOnly reports whether the token is an application token (no user).
func (c Claims) AppOnly() bool { return c.String("scp") == "" && c.String("upn") == "" }
