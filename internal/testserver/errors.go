package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
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
}

func (s *Server) writeAADError(w http.ResponseWriter, r *http.Request, e aadError) {
	now := s.clock.Now()
	trace, corr := newID(), r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	desc := fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
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
	reqID := newID()
	w.Header().Set("request-id", reqID)
	if id := r.Header.Get("client-request-id"); id != "" {
		w.Header().Set("client-request-id", id)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]any{
			"date": s.clock.Now().Format(time.RFC3339), "request-id": reqID, "client-request-id": r.Header.Get("client-request-id"),
		},
	}})
}

// writePartnerError renders Partner Center's error shape:
// {"code","description","data":[],"source":"PartnerFD"}, echoing the
// MS-CorrelationId and MS-RequestId headers as the service does.
func (s *Server) writePartnerError(w http.ResponseWriter, r *http.Request, status int, code, description string) {
	echoPartnerHeaders(w, r)
	writeJSON(w, status, map[string]any{"code": code, "description": description, "data": []any{}, "source": "PartnerFD"})
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
