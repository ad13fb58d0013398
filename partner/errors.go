package partner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// Error is a Partner Center error answer (HTTP 4xx or 5xx), or a success
// answer whose body could not be used, with the fields of the service's
// error body (https://learn.microsoft.com/partner-center/developer/error-codes)
// and the request's tracking ids, which Microsoft support asks for.
type Error struct {
	// Operation names the call that failed: "list customers",
	// "create application consent"…
	Operation  string
	StatusCode int
	// Code is the service's error code ("900421", "900308"…), empty when
	// the body was not Partner Center's error JSON.
	Code string
	// Description is the service's description, or a description of the
	// body when it was empty or not JSON (a gateway's HTML page, say).
	Description string
	// Source is where the service says the error arose ("PartnerFD").
	Source string
	// CorrelationID and RequestID are the MS-CorrelationId and
	// MS-RequestId of the failed request.
	CorrelationID, RequestID string
}

// Conditions callers branch on, matched by errors.Is against an *Error.
var (
	// ErrUnauthorized: the token was refused (401), MFA refusals included.
	ErrUnauthorized = errors.New("partner: unauthorized")
	// ErrMFARequired: the token carries no MFA claim (401, code 900421).
	ErrMFARequired = errors.New("partner: multifactor authentication required")
	// ErrForbidden: the caller may not do this (403).
	ErrForbidden = errors.New("partner: forbidden")
	// ErrNotFound: no such customer or consent (404).
	ErrNotFound = errors.New("partner: not found")
	// ErrThrottled: too many requests (429), after the client's retries.
	ErrThrottled = errors.New("partner: throttled")
)

// Error codes with a meaning of their own.
const (
	codeMFARequired      = "900421"
	codeAppOnlyRefused   = "900329"
	codeInsufficientPriv = "900308"
)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("partner: ")
	if e.Operation != "" {
		b.WriteString(e.Operation + ": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" (code " + e.Code + ")")
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.CorrelationID != "" || e.RequestID != "" {
		fmt.Fprintf(&b, " [MS-CorrelationId %s, MS-RequestId %s]", e.CorrelationID, e.RequestID)
	}
	// Any field may hold the service's text; none may print a credential.
	return httpx.RedactText(b.String())
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrMFARequired:
		return e.Code == codeMFARequired
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// Hint says, in a sentence or two, what a person can do about the error;
// "" when there is nothing more to say than the error itself.
func (e *Error) Hint() string {
	switch {
	case e.Code == codeMFARequired:
		return "Partner Center refuses App+User calls whose token carries no MFA claim (amr lacks \"mfa\"), enforced since April 2026. " +
			"Sign in again with multifactor authentication and store the new refresh token (re-run the SAM consent); " +
			"a trusted-IP or other MFA bypass yields a token without the claim and no longer works."
	case e.Code == codeAppOnlyRefused:
		return "This Partner Center operation needs an App+User token; app-only (client credentials) tokens are refused. " +
			"Use the delegated source of the SAM refresh token (token.Provider.Source), not AppSource."
	case e.StatusCode == http.StatusUnauthorized:
		return "Partner Center refused the token. It must be a delegated token for https://api.partnercenter.microsoft.com, " +
			"issued in the partner tenant, not expired; get a new one from the SAM refresh token."
	case e.StatusCode == http.StatusForbidden && e.Code == codeInsufficientPriv:
		return "The signed-in user lacks the rights for this: it needs the Admin agent role in the partner tenant, and for consents " +
			"an active GDAP relationship with the customer that grants the roles the consent needs."
	case e.StatusCode == http.StatusForbidden:
		return "Partner Center refused the operation for this partner or user; check the partner's relationship with the customer and the user's Partner Center roles."
	case e.StatusCode == http.StatusNotFound:
		return "Partner Center does not know this resource for this partner: check the customer tenant id (a GUID) and that the customer appears in the partner's customer list."
	case e.StatusCode == http.StatusTooManyRequests:
		return "Partner Center is throttling this partner (application consents allow 50 requests per second per application); retry later or lower the concurrency."
	case e.StatusCode >= 500:
		return "Partner Center or one of its dependencies failed; the request may be retried later. Quote the MS-CorrelationId and MS-RequestId to Microsoft support if it persists."
	}
	return ""
}

// errorBody is Partner Center's error JSON. Its code is a string in the
// documentation's schema and a number in some of its samples.
type errorBody struct {
	Code        json.RawMessage `json:"code"`
	Description string          `json:"description"`
	Source      string          `json:"source"`
}

// newError builds the *Error of a 4xx/5xx answer to op's request requestID.
func newError(op *operation, status int, h http.Header, body []byte, requestID string) *Error {
	e := &Error{
		Operation:     op.name,
		StatusCode:    status,
		CorrelationID: op.correlationID,
		RequestID:     requestID,
	}
	// The service echoes the ids; prefer what it says it saw.
	if v := h.Get("MS-CorrelationId"); v != "" {
		e.CorrelationID = v
	}
	if v := h.Get("MS-RequestId"); v != "" {
		e.RequestID = v
	}
	var b errorBody
	if err := json.Unmarshal(body, &b); err == nil && (len(b.Code) > 0 || b.Description != "") {
		e.Code = strings.Trim(string(b.Code), `"`)
		if e.Code == "null" {
			e.Code = ""
		}
		// The service's text is printed as is, but for credentials: a
		// description that echoes a request must not echo its token.
		e.Description, e.Source = httpx.RedactText(b.Description), b.Source
		return e
	}
	e.Description = describeBody(h.Get("Content-Type"), body)
	return e
}

// describeBody describes a body that is not Partner Center's error JSON.
func describeBody(contentType string, body []byte) string {
	return httpx.DescribeBody(contentType, body, "Partner Center's error JSON")
}
