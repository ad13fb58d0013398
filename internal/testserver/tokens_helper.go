package testserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"time"
)

// TokenSpec describes an access token for IssueAccessToken.
type TokenSpec struct {
	// Tenant is the tid (and issuer) of the token; the partner tenant when
	// empty.
	Tenant string
	// Resource is the audience: GraphResource, PartnerCenterResource or
	// ExchangeResource.
	Resource string
	// AppID is the client the token was issued to (appid); a random id when
	// empty.
	AppID string
	// UserID and UPN identify the signed-in user of a delegated token;
	// UserID defaults to a random id when UPN is set.
	UserID, UPN string
	// Scopes are delegated permissions (scp). A token with neither Scopes
	// nor UPN is app-only.
	Scopes []string
	// Roles are application permissions (roles) of an app-only token.
	Roles []string
	// MFA puts "mfa" in a delegated token's amr claim.
	MFA bool
	// Lifetime is how long the token lives; when 0, as World.AccessTokenLifetime says.
	// A negative lifetime gives an already expired token.
	Lifetime time.Duration
}

// IssueAccessToken signs an access token as the identity platform issues
// them (v1 format, MICROSOFT-APIS.md §1), without any sign-in. Tests of API
// clients use it to hold a token of exactly the shape they need — no MFA,
// app-only, another tenant, expired — that the resource servers of this
// fake verify like any other.
func (s *Server) IssueAccessToken(spec TokenSpec) string {
	s.mu.Lock()
	tenant, lifetime := spec.Tenant, spec.Lifetime
	if tenant == "" {
		tenant = s.world.Partner.ID
	}
	if lifetime == 0 {
		lifetime = s.accessLifetimeLocked()
	}
	s.mu.Unlock()

	now := s.clock.Now()
	appID := spec.AppID
	if appID == "" {
		appID = newID()
	}
	c := Claims{
		"aud":   spec.Resource,
		"iss":   "https://sts.windows.net/" + tenant + "/",
		"tid":   tenant,
		"appid": appID,
		"iat":   float64(now.Unix()),
		"nbf":   float64(now.Unix()),
		"exp":   float64(now.Add(lifetime).Unix()),
		"ver":   "1.0",
	}
	if spec.UPN != "" || len(spec.Scopes) > 0 {
		uid := spec.UserID
		if uid == "" {
			uid = newID()
		}
		c["oid"], c["upn"], c["scp"] = uid, spec.UPN, strings.Join(spec.Scopes, " ")
		amr := []any{"pwd"}
		if spec.MFA {
			amr = append(amr, "mfa")
		}
		c["amr"] = amr
	} else {
		roles := make([]any, 0, len(spec.Roles))
		for _, r := range spec.Roles {
			roles = append(roles, r)
		}
		c["oid"], c["roles"], c["idtyp"] = newID(), roles, "app"
	}
	return s.sign(c)
}

// sealCursor makes an opaque paging cursor (a Partner Center continuation
// token, an Exchange $skiptoken) that carries fields and that openCursor
// accepts back only unaltered: a client has to return the service's token
// verbatim, as it has to with the real services.
func (s *Server) sealCursor(fields ...string) string {
	payload := strings.Join(fields, "\x00")
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(s.cursorMAC(payload))
}

// openCursor returns the fields of a cursor sealCursor made, or false for a
// cursor it did not make or that was changed.
func (s *Server) openCursor(cursor string) ([]string, bool) {
	p, mac, ok := strings.Cut(cursor, ".")
	if !ok {
		return nil, false
	}
	payload, err1 := b64.DecodeString(p)
	sum, err2 := b64.DecodeString(mac)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, s.cursorMAC(string(payload))) {
		return nil, false
	}
	return strings.Split(string(payload), "\x00"), true
}

func (s *Server) cursorMAC(payload string) []byte {
	key := sha256.Sum256(append([]byte("samkit cursor "), s.key.D.Bytes()...))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}
