package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Kind says how a token was obtained.
type Kind uint8

const (
	// Delegated tokens act as the admin who consented the SAM app: the
	// refresh_token grant with the SAM refresh token.
	Delegated Kind = iota + 1
	// AppOnly tokens act as the SAM app itself: the client_credentials
	// grant with its secret or certificate.
	AppOnly
	// LegacyExchange tokens come from the Exchange refresh token of the
	// Exchange Online PowerShell public client.
	LegacyExchange
)

func (k Kind) String() string {
	switch k {
	case Delegated:
		return "delegated"
	case AppOnly:
		return "app-only"
	case LegacyExchange:
		return "legacy-exchange"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Token is an access token for one tenant and one resource. It is a small
// value, safe to copy; its AccessToken never prints.
type Token struct {
	AccessToken Secret
	// Expiry is when the identity platform said the token expires,
	// measured on the Provider's clock.
	Expiry time.Time
	// TenantID is the tenant the token was requested for, as given
	// (lower-cased): a GUID or a domain. The token's own tid claim is in
	// Claims.
	TenantID string
	// Scope is the scope the token was requested with.
	Scope string
	Kind  Kind
	// bearer is "Bearer " and the access token, sharing its bytes, when
	// the Provider issued the token: the Authorization header's value,
	// built once with the token rather than on every request.
	bearer Secret
}

const bearerPrefix = "Bearer "

// SetAuthHeader sets r's Authorization header to the bearer token.
func (t Token) SetAuthHeader(r *http.Request) {
	r.Header.Set("Authorization", t.authorization())
}

// authorization returns the Authorization header's value: the one built
// with the token when it still holds t's access token, else a new one.
func (t Token) authorization() string {
	at, b := t.AccessToken.Reveal(), t.bearer.Reveal()
	// The comparison of a string with itself returns at once.
	if len(b) == len(bearerPrefix)+len(at) && b[len(bearerPrefix):] == at {
		return b
	}
	return bearerPrefix + at
}

// Claims are the claims of an access token that samkit reads. Microsoft
// asks clients to treat access tokens as opaque except for exactly these;
// they are read without verifying the signature, which is the resource's
// job, so never use them to make a security decision about someone else's
// token.
type Claims struct {
	TenantID string    // tid
	Audience string    // aud: the resource
	AppID    string    // appid (v1 tokens) or azp (v2)
	ObjectID string    // oid: the user, or the app's service principal
	UPN      string    // upn (delegated tokens)
	Scopes   []string  // scp, split: delegated permissions
	Roles    []string  // roles: application permissions
	AMR      []string  // amr: how the user authenticated ("pwd", "mfa"…)
	Expiry   time.Time // exp
}

// MFA reports whether the user completed multi-factor authentication, the
// condition Partner Center enforces on app+user calls.
func (c Claims) MFA() bool { return slices.Contains(c.AMR, "mfa") }

// Claims decodes the token's payload, without verifying it.
func (t Token) Claims() (Claims, error) {
	parts := strings.Split(t.AccessToken.Reveal(), ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("token: access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("token: access token payload is not base64url")
	}
	var raw struct {
		TID   string          `json:"tid"`
		Aud   json.RawMessage `json:"aud"`
		AppID string          `json:"appid"`
		AZP   string          `json:"azp"`
		OID   string          `json:"oid"`
		UPN   string          `json:"upn"`
		SCP   string          `json:"scp"`
		Roles []string        `json:"roles"`
		AMR   []string        `json:"amr"`
		Exp   json.Number     `json:"exp"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Claims{}, errors.New("token: access token payload is not a JSON object")
	}
	c := Claims{TenantID: raw.TID, AppID: raw.AppID, ObjectID: raw.OID, UPN: raw.UPN, Roles: raw.Roles, AMR: raw.AMR, Scopes: strings.Fields(raw.SCP)}
	if c.AppID == "" {
		c.AppID = raw.AZP
	}
	// aud is a string in Microsoft's tokens, an array in some others.
	var auds []string
	if json.Unmarshal(raw.Aud, &c.Audience) != nil && json.Unmarshal(raw.Aud, &auds) == nil && len(auds) > 0 {
		c.Audience = auds[0]
	}
	if raw.Exp != "" {
		secs, err := raw.Exp.Float64()
		if err != nil {
			return Claims{}, errors.New("token: access token exp is not a number")
		}
		c.Expiry = time.Unix(int64(secs), 0)
	}
	return c, nil
}
