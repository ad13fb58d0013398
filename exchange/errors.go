package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// Error is an error answer (HTTP 4xx or 5xx) of the Exchange Online admin
// API, or a success answer whose body could not be used (empty, cut off,
// not JSON, oversized), with its 2xx status.
//
// The service's error.message is a generic "Invalid Operation" whatever
// went wrong; the cmdlet's own error is in error.details[].message, as
// "|ExceptionType|text", and again in error.innererror.internalexception.
// Message takes the first of those that is present. Token refusals (401)
// come with an empty body and their reason in the x-ms-diagnostics header,
// which Message then holds.
type Error struct {
	StatusCode int
	// Code is the service's error.code ("BadRequest", "Forbidden"…), or
	// the numeric code of x-ms-diagnostics ("2000008") for a 401.
	Code string
	// Message is the most specific text the answer holds.
	Message string
	// ExceptionType is the .NET exception behind a cmdlet error
	// ("System.Management.Automation.CommandNotFoundException"), when given.
	ExceptionType string
	// Cmdlet and Tenant say what was run where.
	Cmdlet, Tenant string
	// API is the admin API the client called (APIBeta or APIV2).
	API API
	// RequestID is the service's request-id, or the client-request-id the
	// client sent when the service gave none.
	RequestID string
	// Diagnostics is the raw x-ms-diagnostics header, when present.
	Diagnostics string
}

// Conditions callers branch on, matched by errors.Is against an *Error.
var (
	// ErrUnauthorized: the token was refused (401).
	ErrUnauthorized = errors.New("exchange: unauthorized")
	// ErrForbidden: the caller has no Exchange role for this (403).
	ErrForbidden = errors.New("exchange: forbidden")
	// ErrCmdletNotFound: no such cmdlet, or not one the caller's role holds.
	ErrCmdletNotFound = errors.New("exchange: cmdlet not found")
	// ErrThrottled: too many requests (429), after the client's retries.
	ErrThrottled = errors.New("exchange: throttled")
	// ErrMissingPermission: the token holds none of the Exchange
	// permissions the API needs (401 with x-ms-diagnostics 2000008):
	// Exchange.Manage or Exchange.ManageAsApp for the beta,
	// Exchange.ManageV2 or Exchange.ManageAsAppV2 for v2.0.
	ErrMissingPermission = errors.New("exchange: the token lacks the Exchange permission")
	// ErrEndpointGone: the endpoint is switched off (410 Gone). For
	// InvokeCommand, Error.Hint points to the Admin API v2.0.
	ErrEndpointGone = errors.New("exchange: endpoint switched off")
)

const cmdletNotFoundType = "System.Management.Automation.CommandNotFoundException"

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("exchange: ")
	if e.Cmdlet != "" {
		b.WriteString(e.Cmdlet + " ")
	}
	if e.Tenant != "" {
		b.WriteString("in " + e.Tenant + " ")
	}
	fmt.Fprintf(&b, "failed: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request-id " + e.RequestID + "]")
	}
	// Any field may hold the service's text; none may print a credential.
	return httpx.RedactText(b.String())
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrCmdletNotFound:
		return e.ExceptionType == cmdletNotFoundType
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrMissingPermission:
		return e.StatusCode == http.StatusUnauthorized && e.Code == "2000008"
	case ErrEndpointGone:
		return e.StatusCode == http.StatusGone
	}
	return false
}

// Hint says, in a sentence or two, what a person can do about the error;
// "" when there is nothing more to say than the error itself.
func (e *Error) Hint() string {
	switch {
	case e.StatusCode == http.StatusUnauthorized && e.Code == "2000008" && e.API == APIV2:
		return "The token holds no permission of the Exchange Online Admin API v2.0. Delegated tokens need Exchange.ManageV2, app-only tokens " +
			"Exchange.ManageAsAppV2 (Office 365 Exchange Online): add them to the SAM app's required permissions and consent again in tenant " +
			e.Tenant + ", or use the InvokeCommand beta API, which Exchange.Manage and Exchange.ManageAsApp open."
	case e.StatusCode == http.StatusUnauthorized && e.Code == "2000008":
		return "The token holds no Exchange permission. Delegated tokens need Exchange.Manage, app-only tokens Exchange.ManageAsApp " +
			"(Office 365 Exchange Online), consented in tenant " + e.Tenant + "; push the SAM app's consent to that tenant again."
	case e.StatusCode == http.StatusGone && e.API != APIV2:
		return "Microsoft has switched off the InvokeCommand (beta) endpoint of the Exchange admin API: use the Exchange Online Admin API v2.0 " +
			"(exchange.WithAPI(exchange.APIV2); samctl check --exchange-api v2), whose tokens need Exchange.ManageV2 or Exchange.ManageAsAppV2."
	case e.StatusCode == http.StatusUnauthorized:
		return "Exchange Online refused the token. It must be issued for https://outlook.office365.com in tenant " + e.Tenant +
			" (the tenant in the URL), unexpired, by an app consented there."
	case e.StatusCode == http.StatusForbidden && e.API == APIV2 && v2RoleGroup(e.Cmdlet) != "":
		return "The signed-in admin or the app has no Exchange role for " + e.Cmdlet + " in tenant " + e.Tenant + ": the Admin API v2.0 needs the " +
			v2RoleGroup(e.Cmdlet) + " role group (or Exchange Administrator). Delegated: grant it through the partner's GDAP relationship " +
			"and put the admin in its security groups. App-only: assign it to the SAM app's service principal in the tenant."
	case e.StatusCode == http.StatusForbidden:
		return "The signed-in admin or the app has no Exchange management role in tenant " + e.Tenant + ". Delegated: the partner's GDAP " +
			"relationship must grant Exchange Administrator (or Global Administrator) and the admin must be in its security groups. " +
			"App-only: assign the Exchange Administrator role to the SAM app's service principal in the tenant."
	case e.ExceptionType == cmdletNotFoundType:
		return "Exchange Online does not know this cmdlet, or the caller's Exchange role does not include it: check its name and the roles granted."
	case strings.HasSuffix(e.ExceptionType, "ParameterBindingException"):
		return "A parameter name or value was not accepted: check them against the cmdlet's documentation."
	case strings.HasSuffix(e.ExceptionType, "ManagementObjectNotFoundException"):
		return "The object named by Identity does not exist in this tenant."
	case e.StatusCode == http.StatusTooManyRequests:
		return "Exchange Online is throttling this tenant or app; retry later or run fewer cmdlets at once."
	case e.StatusCode >= 500:
		return "Exchange Online failed; the call may be retried later."
	}
	return ""
}

// errorBody is the admin API's error JSON. encoding/json matches names
// regardless of case, which matters: the service spells it
// "internalexception".
type errorBody struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code    string `json:"code"`
			Target  string `json:"target"`
			Message string `json:"message"`
		} `json:"details"`
		InnerError *struct {
			Message           string `json:"message"`
			Type              string `json:"type"`
			InternalException *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"internalException"`
		} `json:"innererror"`
	} `json:"error"`
}

// newError builds the *Error of a 4xx/5xx answer.
func newError(cmdlet, tenant string, status int, h http.Header, body []byte, requestID string) *Error {
	e := &Error{StatusCode: status, Cmdlet: cmdlet, Tenant: tenant, RequestID: responseRequestID(h, requestID)}
	if d := h.Get("x-ms-diagnostics"); d != "" {
		e.Diagnostics = d
		e.Code, e.Message = parseDiagnostics(d)
	}
	var b errorBody
	if json.Unmarshal(body, &b) == nil && b.Error != nil {
		if b.Error.Code != "" {
			e.Code = b.Error.Code
		}
		var msgs []string
		for _, d := range b.Error.Details {
			typ, text := splitTyped(d.Message)
			if text == "" {
				continue
			}
			if e.ExceptionType == "" {
				e.ExceptionType = typ
			}
			msgs = append(msgs, text)
		}
		ie := b.Error.InnerError
		switch {
		case len(msgs) > 0:
			e.Message = strings.Join(msgs, "; ")
		case ie != nil && ie.InternalException != nil && ie.InternalException.Message != "":
			e.Message = ie.InternalException.Message
		default:
			e.Message = b.Error.Message
		}
		if e.ExceptionType == "" && ie != nil && ie.InternalException != nil {
			e.ExceptionType = ie.InternalException.Type
		}
	} else if e.Message == "" {
		e.Message = describeBody(h.Get("Content-Type"), body)
	}
	// The service's texts are printed as they are, but for credentials:
	// one that echoes a request must not echo its token.
	e.Message = httpx.RedactText(e.Message)
	return e
}

// splitTyped splits a details message "|Type|text" into its parts; a
// message without the prefix is all text.
func splitTyped(m string) (typ, text string) {
	if rest, ok := strings.CutPrefix(m, "|"); ok {
		if t, txt, ok := strings.Cut(rest, "|"); ok {
			return t, strings.TrimSpace(txt)
		}
	}
	return "", strings.TrimSpace(m)
}

// parseDiagnostics reads x-ms-diagnostics: `2000008;reason="…";error_category="…"`.
func parseDiagnostics(d string) (code, reason string) {
	code, rest, _ := strings.Cut(d, ";")
	if _, after, ok := strings.Cut(rest, `reason="`); ok {
		reason, _, _ = strings.Cut(after, `"`)
	}
	return strings.TrimSpace(code), reason
}

// responseRequestID returns the service's request-id, or the id the client
// sent.
func responseRequestID(h http.Header, sent string) string {
	if v := h.Get("request-id"); v != "" {
		return v
	}
	return sent
}

// describeBody describes a body that is not the admin API's JSON.
func describeBody(contentType string, body []byte) string {
	return httpx.DescribeBody(contentType, body, "the admin API's JSON")
}
