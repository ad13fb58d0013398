package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// aadError is an identity platform error, rendered in Microsoft's shape
// (MICROSOFT-APIS.md §1):
// {"error","error_description","error_codes","timestamp","trace_id","correlation_id","suberror","claims"}.
type aadError struct {
	Status   int
	Code     string // the OAuth error: invalid_grant, invalid_client…
	AADSTS   int
	Message  string // the description's text after "AADSTSnnnn: "
	SubError string
	Claims   string
	// RetryAfter, for a 429, makes the answer the token endpoint's
	// throttling: a Retry-After of this many seconds and a plain-text body.
	RetryAfter int
}

func (s *Server) writeAADError(w http.ResponseWriter, r *http.Request, e aadError) {
	now := s.clock.Now()
	trace, corr := newID(), r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	// The trailer is separated by CRLF, as in the error response of
	// https://learn.microsoft.com/entra/identity-platform/reference-error-codes#handling-error-codes-in-your-application
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		e.AADSTS, e.Message, trace, corr, now.Format("2006-01-02 15:04:05Z"))
	body := map[string]any{
		"error":             e.Code,
		"error_description": desc,
		"error_codes":       []int{e.AADSTS},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         s.ts.URL + "/error?code=" + fmt.Sprint(e.AADSTS),
	}
	if e.SubError != "" {
		body["suberror"] = e.SubError
	}
	if e.Claims != "" {
		body["claims"] = e.Claims
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, body)
}

// writeGraphError renders Graph's error shape:
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
func (s *Server) writeGraphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeGraphErrorAt(w, r, s.clock.Now(), status, code, message)
}

// writeGraphErrorAt writes Graph's error shape dated now. innerError
// echoes the client-request-id the client sent; without one, Graph uses
// the request-id it made up, in the header and the body alike.
// https://learn.microsoft.com/graph/errors#json-representation
func writeGraphErrorAt(w http.ResponseWriter, r *http.Request, now time.Time, status int, code, message string) {
	reqID := newID()
	clientID := r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = reqID
	}
	w.Header().Set("request-id", reqID)
	w.Header().Set("client-request-id", clientID)
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]any{
			"date": now.UTC().Format(time.RFC3339), "request-id": reqID, "client-request-id": clientID,
		},
	}})
}

// writePartnerError renders Partner Center's error shape:
// {"code","description","data":[],"source":"PartnerFD"}, echoing the
// MS-CorrelationId and MS-RequestId headers as the service does.
func (s *Server) writePartnerError(w http.ResponseWriter, r *http.Request, status int, code, description string) {
	writePartnerErrorBody(w, r, status, code, description)
}

// writePartnerErrorBody writes Partner Center's error. Its code is a JSON
// number, as the service sends it (the reference's samples show
// "code": 600008 and "code": 900421, though its schema says string); a
// code that is not a number stays a string.
// https://learn.microsoft.com/partner-center/developer/error-codes
func writePartnerErrorBody(w http.ResponseWriter, r *http.Request, status int, code, description string) {
	echoPartnerHeaders(w, r)
	var c any = code
	if n, err := strconv.Atoi(code); err == nil {
		c = n
	}
	writeJSON(w, status, map[string]any{"code": c, "description": description, "data": []any{}, "source": "PartnerFD"})
}

func echoPartnerHeaders(w http.ResponseWriter, r *http.Request) {
	for _, h := range []string{"MS-CorrelationId", "MS-RequestId"} {
		v := r.Header.Get(h)
		if v == "" {
			v = newID()
		}
		w.Header().Set(h, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
