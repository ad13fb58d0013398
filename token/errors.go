package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/samkit/samkit/internal/httpx"
)

// Sentinels for the conditions callers branch on. A *Error matches them
// with errors.Is, by AADSTS code, OAuth error or HTTP status; see Error.Is.
var (
	ErrConsentRequired     = errors.New("token: the app is not consented in the tenant")
	ErrConsentDeclined     = errors.New("token: the admin declined consent")
	ErrMFARequired         = errors.New("token: multi-factor authentication is required")
	ErrConditionalAccess   = errors.New("token: blocked by Conditional Access")
	ErrSignInFrequency     = errors.New("token: the refresh token expired under a sign-in frequency policy")
	ErrRevoked             = errors.New("token: the refresh token was revoked or has expired")
	ErrRefreshTokenInvalid = errors.New("token: the refresh token is not valid for this app")
	ErrRefreshTokenExpired = errors.New("token: the refresh token expired after 90 days unused")
	ErrInvalidClient       = errors.New("token: the client credentials were rejected")
	ErrSecretExpired       = errors.New("token: the client secret has expired")
	ErrAppNotFound         = errors.New("token: the application was not found in the tenant")
	ErrTenantNotFound      = errors.New("token: the tenant was not found")
	ErrNotInGDAPGroups     = errors.New("token: the user has no access to the customer tenant")
	ErrThrottled           = errors.New("token: throttled by the identity platform")
	ErrInteractionRequired = errors.New("token: an interactive sign-in is required")
)

// Error is a failed token request, with the fields of Microsoft's error
// body (https://learn.microsoft.com/entra/identity-platform/reference-error-codes)
// and where the request went. It is returned for every answer of the token
// endpoint that is not a token: an OAuth error, a 200 that carries an
// error member or no access token, an HTML page from a proxy, an empty body.
type Error struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the OAuth error ("invalid_grant", "invalid_client"…); empty
	// when the body was not Microsoft's JSON.
	Code string
	// Codes are the AADSTS error codes, most specific first.
	Codes []int
	// SubError refines Code ("consent_required", "bad_token"…).
	SubError string
	// Description is Microsoft's error_description; for a body that was
	// not JSON, a short, sanitised excerpt of it.
	Description string
	// TraceID, CorrelationID and Timestamp identify the failure to
	// Microsoft support.
	TraceID, CorrelationID, Timestamp string
	// Claims is the claims challenge a Conditional Access or MFA failure
	// carries, to be passed to an interactive sign-in.
	Claims string
	// Tenant and Scope are what the token was requested for; Endpoint is
	// the token endpoint, without query.
	Tenant, Scope, Endpoint string
}

// Error returns one line: the AADSTS code, the error, the tenant and the
// first sentence of the description, e.g.
//
//	token: AADSTS65001 consent_required for tenant contoso.com: The user or administrator has not consented to use the application.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("token: ")
	if len(e.Codes) > 0 {
		b.WriteString("AADSTS")
		b.WriteString(strconv.Itoa(e.Codes[0]))
		b.WriteByte(' ')
	}
	switch {
	case e.SubError != "":
		b.WriteString(e.SubError)
	case e.Code != "":
		b.WriteString(e.Code)
	default:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Tenant != "" {
		b.WriteString(" for tenant ")
		b.WriteString(e.Tenant)
	}
	if s := firstSentence(e.Description); s != "" {
		b.WriteString(": ")
		b.WriteString(s)
	}
	// Any field may hold the service's text; none may print a credential.
	return httpx.RedactText(b.String())
}

// Is reports whether e is an instance of one of the package's sentinels:
//
//	ErrConsentRequired     AADSTS65001, 90099, suberror or error consent_required
//	ErrConsentDeclined     AADSTS65004
//	ErrMFARequired         AADSTS50076, 50078, 50079
//	ErrConditionalAccess   AADSTS53003, 53000, 53001, 530032
//	ErrSignInFrequency     AADSTS70043
//	ErrRevoked             AADSTS50173, 70008
//	ErrRefreshTokenInvalid AADSTS70000, 700007, 9002313
//	ErrRefreshTokenExpired AADSTS700082
//	ErrInvalidClient       error invalid_client, AADSTS7000215, 700025, 7000222, 7000218, 700027, 700024
//	ErrSecretExpired       AADSTS7000222
//	ErrAppNotFound         AADSTS700016
//	ErrTenantNotFound      AADSTS90002
//	ErrNotInGDAPGroups     AADSTS50020, 50177
//	ErrThrottled           HTTP 429, AADSTS50196 (a request loop), 90055
//	ErrInteractionRequired error interaction_required
//
// ErrRevoked is what Microsoft's reference says of 50173 and 70008; 70000
// is a refresh token that is not valid (malformed, or bound elsewhere),
// not one that was revoked. ErrThrottled is a condition to wait out:
// AADSTS50196 is an invalid_grant, but the refresh token is fine.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrConsentRequired:
		return e.has(65001, 90099) || e.SubError == "consent_required" || e.Code == "consent_required"
	case ErrConsentDeclined:
		return e.has(65004)
	case ErrMFARequired:
		return e.has(50076, 50078, 50079)
	case ErrConditionalAccess:
		return e.has(53003, 53000, 53001, 530032)
	case ErrSignInFrequency:
		return e.has(70043)
	case ErrRevoked:
		return e.has(50173, 70008)
	case ErrRefreshTokenInvalid:
		return e.has(70000, 700007, 9002313)
	case ErrRefreshTokenExpired:
		return e.has(700082)
	case ErrInvalidClient:
		return e.Code == "invalid_client" || e.has(7000215, 700025, 7000222, 7000218, 700027, 700024)
	case ErrSecretExpired:
		return e.has(7000222)
	case ErrAppNotFound:
		return e.has(700016)
	case ErrTenantNotFound:
		return e.has(90002)
	case ErrNotInGDAPGroups:
		return e.has(50020, 50177)
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests || e.has(50196, 90055)
	case ErrInteractionRequired:
		return e.Code == "interaction_required"
	}
	return false
}

func (e *Error) has(codes ...int) bool {
	for _, c := range codes {
		if slices.Contains(e.Codes, c) {
			return true
		}
	}
	return false
}

// errorBody is the identity platform's error JSON; the success fields
// share the struct in tokenResponse.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	SubError         string `json:"suberror"`
	Claims           string `json:"claims"`
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// newError builds the *Error of an error body. AADSTS codes missing from
// error_codes are read from the description, where older endpoints and
// proxies leave them.
func newError(status int, b errorBody, tenant, scope, endpoint string) *Error {
	e := &Error{
		StatusCode: status, Code: b.Error, Codes: b.ErrorCodes, SubError: b.SubError,
		Description: httpx.RedactText(b.ErrorDescription), TraceID: b.TraceID, CorrelationID: b.CorrelationID,
		Timestamp: b.Timestamp, Claims: b.Claims, Tenant: tenant, Scope: scope, Endpoint: endpoint,
	}
	if len(e.Codes) == 0 {
		for _, m := range aadstsRE.FindAllStringSubmatch(b.ErrorDescription, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil {
				e.Codes = append(e.Codes, n)
			}
		}
	}
	return e
}

// ParseError decodes an identity platform answer that is not a token — an
// error body in Microsoft's JSON, a 200 whose body carries an error, an HTML
// page from a proxy, an empty body — into an *Error labelled with tenant,
// scope and endpoint (a URL without its query). Code that speaks to the
// token endpoint itself, such as an authorization code redemption or a
// device code flow, uses it so that its errors match the same sentinels and
// give the same hints as the Provider's.
func ParseError(status int, contentType string, body []byte, tenant, scope, endpoint string) *Error {
	var b errorBody
	if err := json.Unmarshal(body, &b); err != nil || b.Error == "" && !isJSON(contentType) {
		ct, _, _ := mime.ParseMediaType(contentType)
		return nonJSONError(status, ct, body, tenant, scope, endpoint)
	}
	if b.Error == "" {
		b.ErrorDescription = excerpt(body)
	}
	return newError(status, b, tenant, scope, endpoint)
}

// nonJSONError is the *Error of an answer that is not Microsoft's JSON: an
// HTML page from a proxy or load balancer, an empty body, a truncated one.
// Its description quotes a short, sanitised excerpt of the body, never the
// request.
func nonJSONError(status int, contentType string, body []byte, tenant, scope, endpoint string) *Error {
	desc := "empty response body"
	if len(body) > 0 {
		if contentType == "" {
			contentType = "no content type"
		}
		desc = fmt.Sprintf("unexpected response (%s): %s", contentType, excerpt(body))
	}
	return &Error{StatusCode: status, Description: desc, Tenant: tenant, Scope: scope, Endpoint: endpoint}
}

var (
	tagRE   = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>|<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// excerpt returns up to 200 characters of a body as one line of plain
// text: tags dropped, whitespace collapsed, control characters removed,
// anything secret-shaped redacted.
func excerpt(body []byte) string {
	const maxRunes = 200
	s := string(body[:min(len(body), 8<<10)])
	s = tagRE.ReplaceAllString(s, " ")
	// What cannot be printed becomes a space rather than nothing: gluing
	// its neighbours together could hide a credential from RedactText,
	// which looks for whole words ("Bearer x").
	s = strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
	s = httpx.RedactText(s)
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes]) + "…"
	}
	return s
}

// firstSentence returns the description's first sentence, without its
// "AADSTSnnnn: " prefix and the trace, correlation and timestamp trailer.
func firstSentence(desc string) string {
	s := strings.TrimSpace(desc)
	if m := aadstsRE.FindStringIndex(s); m != nil && m[0] == 0 {
		s = strings.TrimSpace(strings.TrimPrefix(s[m[1]:], ":"))
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, " Trace ID:"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return strings.TrimSpace(s)
}
