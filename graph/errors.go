package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// Error is a failure reported by Microsoft Graph: an HTTP status of 400 or
// more, or a response whose body could not be used. Graph's own body,
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}},
// fills Code, Message and the ids; a body that is not JSON (a proxy's HTML
// page, an empty reply) leaves Code empty and says so in Message.
//
// See https://learn.microsoft.com/graph/errors.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Graph's error code: Request_ResourceNotFound,
	// Authorization_RequestDenied, InvalidAuthenticationToken,
	// TooManyRequests…
	Code string
	// Message is Graph's message, or what was wrong with the response.
	Message string
	// Details holds Graph's details, when it gives any.
	Details []ErrorDetail
	// RequestID identifies the call in Microsoft's logs; quote it (with
	// Date) when asking Microsoft support.
	RequestID string
	// ClientRequestID is the id samkit sent in the client-request-id
	// header.
	ClientRequestID string
	// Date is when Graph answered, from innerError.date (zero if absent).
	Date time.Time
	// RetryAfter is the wait the Retry-After header asked for (0 if none):
	// when it is set, throttling outlasted the client's retries.
	RetryAfter time.Duration
	// Method and Path name the call; Path is relative to the version root
	// and has no query.
	Method, Path string
}

// ErrorDetail is one entry of a Graph error's details.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id " + e.RequestID + ")")
	}
	// Any field may hold the service's text; none may print a credential.
	return httpx.RedactText(b.String())
}

// Is matches the sentinel errors by status, so that
// errors.Is(err, graph.ErrNotFound) works through any wrapping.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode >= 500
	}
	return false
}

// Conditions callers branch on. A *Error matches the one of its status;
// ErrNotFound also comes from lookups by appId that find nothing, and
// ErrInvalidArgument from arguments refused before any request is sent.
var (
	ErrBadRequest      = errors.New("graph: bad request")                    // 400
	ErrUnauthorized    = errors.New("graph: token refused")                  // 401
	ErrForbidden       = errors.New("graph: insufficient privileges")        // 403
	ErrNotFound        = errors.New("graph: not found")                      // 404
	ErrConflict        = errors.New("graph: conflict")                       // 409
	ErrThrottled       = errors.New("graph: throttled")                      // 429
	ErrUnavailable     = errors.New("graph: service unavailable")            // 5xx
	ErrInvalidArgument = errors.New("graph: invalid argument, nothing sent") // refused locally
)

// ErrPreconditionFailed (412): the object changed since its ETag was read;
// nothing was changed. Read it again and retry.
var ErrPreconditionFailed = errors.New("graph: changed since read (ETag mismatch)")

const codeInvalidToken = "InvalidAuthenticationToken"

// errorEnvelope is Graph's error body.
type errorEnvelope struct {
	Error *struct {
		Code       string        `json:"code"`
		Message    string        `json:"message"`
		Details    []ErrorDetail `json:"details"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newError builds the *Error of a response whose body is raw. crid is the
// client-request-id that was sent.
func newError(status int, h http.Header, raw []byte, method, path, crid string) *Error {
	e := &Error{
		StatusCode:      status,
		Method:          method,
		Path:            path,
		RequestID:       h.Get("request-id"),
		ClientRequestID: h.Get("client-request-id"),
	}
	if d, ok := httpx.ParseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	if !e.fill(raw) {
		e.Message = describeBody(h.Get("Content-Type"), raw, nil)
	}
	if e.ClientRequestID == "" {
		e.ClientRequestID = crid
	}
	if e.Date.IsZero() {
		e.Date, _ = http.ParseTime(h.Get("Date"))
	}
	return e
}

// fill decodes Graph's error body into e and reports whether raw was one.
func (e *Error) fill(raw []byte) bool {
	var env errorEnvelope
	if json.Unmarshal(raw, &env) != nil || env.Error == nil || env.Error.Code == "" && env.Error.Message == "" {
		return false
	}
	ge := env.Error
	// Graph's text is printed as is, but for credentials: a message that
	// echoes a request must not echo its token.
	e.Code, e.Message, e.Details = ge.Code, httpx.RedactText(ge.Message), ge.Details
	if e.RequestID == "" {
		e.RequestID = ge.InnerError.RequestID
	}
	if e.ClientRequestID == "" {
		e.ClientRequestID = ge.InnerError.ClientRequestID
	}
	e.Date = parseGraphDate(ge.InnerError.Date)
	return true
}

// parseGraphDate reads innerError.date, which Graph writes without a zone
// ("2024-05-01T10:00:00") and means UTC; RFC 3339 is accepted too.
func parseGraphDate(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// invalidArg reports an argument refused before any request was sent.
func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
