package testserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Issuing tokens: v1-format access tokens (what Graph, Exchange and
// Partner Center accept), v2 ID tokens, client_info, and the token
// response around them.
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
// https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference

// issuance is everything a token response needs, copied out of the world
// so that signing happens without the lock.
type issuance struct {
	clientID, tenant  string
	resource          string
	appidacr          string
	scp, roles        []string
	appOnly           bool
	spID              string // an app token's subject: the client's service principal
	userID, upn, name string
	homeTenant        string
	wids              []string
	mfa               bool
	scope             string // the response's scope member
	refresh           string
	idToken           bool
	nonce             string
	clientInfo        bool
	lifetime          time.Duration
}

// tokenResponse is the success body, its members in the order the
// identity platform writes them.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// writeTokenResponse signs the tokens is describes and writes the success
// body, uncacheable as RFC 6749 §5.1 requires.
func (s *Server) writeTokenResponse(w http.ResponseWriter, is *issuance) {
	now := s.clock.Now()
	exp := now.Add(is.lifetime)
	c := Claims{
		"aud": is.resource, "iss": "https://sts.windows.net/" + is.tenant + "/",
		"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(exp.Unix()),
		"appid": is.clientID, "appidacr": is.appidacr, "tid": is.tenant, "uti": opaqueToken("", 16), "ver": "1.0",
	}
	if is.appOnly {
		c["idp"], c["idtyp"], c["oid"], c["sub"] = "https://sts.windows.net/"+is.tenant+"/", "app", is.spID, is.spID
		if len(is.roles) > 0 {
			c["roles"] = is.roles
		}
	} else {
		amr := []string{"pwd"}
		if is.mfa {
			amr = append(amr, "mfa")
		}
		c["acr"], c["amr"], c["name"], c["oid"] = "1", amr, is.name, is.userID
		c["scp"], c["sub"], c["unique_name"], c["upn"] = strings.Join(is.scp, " "), pairwise(is.userID, is.clientID), is.upn, is.upn
		if is.homeTenant != is.tenant {
			c["idp"] = "https://sts.windows.net/" + is.homeTenant + "/"
		}
		if len(is.wids) > 0 {
			c["wids"] = is.wids
		}
	}
	resp := tokenResponse{TokenType: "Bearer", Scope: is.scope, ExpiresIn: int(is.lifetime / time.Second),
		ExtExpiresIn: int(is.lifetime / time.Second), AccessToken: s.sign(c), RefreshToken: is.refresh}
	if is.idToken && !is.appOnly {
		id := Claims{"aud": is.clientID, "iss": s.URL() + "/" + is.tenant + "/v2.0", "iat": float64(now.Unix()),
			"nbf": float64(now.Unix()), "exp": float64(now.Add(idTokenLifetime).Unix()), "name": is.name, "oid": is.userID,
			"preferred_username": is.upn, "sub": pairwise(is.userID, is.clientID), "tid": is.tenant,
			"uti": opaqueToken("", 16), "ver": "2.0"}
		if is.nonce != "" {
			id["nonce"] = is.nonce
		}
		resp.IDToken = s.sign(id)
	}
	if is.clientInfo && !is.appOnly {
		ci, _ := json.Marshal(map[string]string{"uid": is.userID, "utid": is.homeTenant})
		resp.ClientInfo = b64.EncodeToString(ci)
	}
	noStore(w)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) writeTokenError(w http.ResponseWriter, r *http.Request, e *aadError) {
	if e.Status == http.StatusTooManyRequests && e.RetryAfter > 0 {
		writeThrottled(w, e.RetryAfter)
		return
	}
	noStore(w)
	s.writeAADError(w, r, *e)
}

// noStore marks a token response uncacheable (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
}

// pairwise is the sub claim: stable per user and client, as the identity
// platform's pairwise subject is.
func pairwise(userID, clientID string) string {
	sum := sha256.Sum256([]byte(userID + "|" + clientID))
	return b64.EncodeToString(sum[:])
}

// opaqueToken is a random token with a recognisable prefix.
func opaqueToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + b64.EncodeToString(b)
}
