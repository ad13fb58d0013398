package testserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// Latency delays the request by Fault.Latency, then serves it normally.
	Latency FaultKind = iota
	// Throttle answers 429 with Fault.RetryAfter as the Retry-After header
	// (omitted when empty) and the service's throttling error body.
	Throttle
	// Status answers Fault.Status (500, 502, 503, 504…) with the service's
	// error body.
	Status
	// Reset aborts the connection (or HTTP/2 stream) with no response.
	Reset
	// Hang never answers: the request waits until the client gives up.
	Hang
	// Truncated answers 200 with a JSON body cut off in the middle.
	Truncated
	// HTML answers Fault.Status (502 when 0) with an HTML error page, as a
	// proxy or gateway does.
	HTML
	// Empty answers Fault.Status (200 when 0) with an empty body.
	Empty
	// Huge answers 200 with a JSON body of Fault.Size bytes (20 MiB when 0).
	Huge
	// IdentityError answers as the identity platform does for the AADSTS
	// code Fault.AADSTS: its OAuth error, status and documented text
	// (IdentityErrorCodes lists the codes it knows). It is meant for the
	// login service, e.g. Path "/oauth2/v2.0/token".
	IdentityError
)

func (k FaultKind) String() string {
	return [...]string{"latency", "throttle", "status", "reset", "hang", "truncated", "html", "empty", "huge", "identity-error"}[k]
}

// Fault is a misbehaviour injected into matching requests.
type Fault struct {
	Kind FaultKind
	// Service limits the fault to "login", "graph", "partner", "exchange"
	// or "keyvault".
	Service string
	// Path limits the fault to requests whose path (with the service prefix,
	// e.g. "/graph/v1.0/users", "/keyvault/{vault}/secrets/{name}") contains
	// it.
	Path string
	// Method limits the fault to one HTTP method.
	Method string
	// Tenant limits the fault to requests addressing one tenant id.
	Tenant string
	// Count is how many matching requests the fault answers; 0 means all.
	Count int
	// Status, RetryAfter, Latency and Size parameterise the kinds above.
	Status     int
	RetryAfter string
	Latency    time.Duration
	Size       int
	// AADSTS is the code of an IdentityError fault.
	AADSTS int
}

type faultRule struct {
	Fault
	left int // remaining uses; -1 for unlimited
}

type faultQueue struct {
	mu    sync.Mutex
	rules []*faultRule
}

// Inject adds a fault. Faults are matched in the order they were added; the
// first match answers. Latency, Throttle and Status faults also match the
// requests inside a Graph $batch, by the item's path
// ("/graph/v1.0/users"): the item, not the batch, then answers 429 or the
// status, as Graph throttles batch items one by one.
func (s *Server) Inject(f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	left := f.Count
	if left == 0 {
		left = -1
	}
	s.faults.rules = append(s.faults.rules, &faultRule{Fault: f, left: left})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = nil
}

// take finds the first fault matching r and uses it up. kinds, when given,
// limits the search to those kinds (a Graph $batch item can be delayed,
// throttled or failed, not reset).
func (q *faultQueue) take(r *http.Request, rec *Request, kinds ...FaultKind) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.rules {
		if (len(kinds) > 0 && !slices.Contains(kinds, f.Kind)) ||
			(f.Service != "" && f.Service != rec.Service) ||
			(f.Path != "" && !strings.Contains(r.URL.Path, f.Path)) ||
			(f.Method != "" && !strings.EqualFold(f.Method, r.Method)) ||
			(f.Tenant != "" && !strings.EqualFold(f.Tenant, rec.Tenant)) {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				q.rules = append(q.rules[:i:i], q.rules[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// apply answers r with a matching fault and reports whether it did; a
// latency fault delays and then lets the request through.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, rec *Request) bool {
	q := &s.faults
	f, ok := q.take(r, rec)
	if !ok {
		return false
	}
	rec.Fault = f.Kind.String()
	switch f.Kind {
	case Latency:
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		rec.Fault = ""
		return false
	case Throttle:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		serviceError(w, r, rec.Service, http.StatusTooManyRequests)
	case Status:
		serviceError(w, r, rec.Service, f.Status)
	case Reset:
		// Aborting the handler resets the HTTP/1 connection or the HTTP/2
		// stream: the client sees a transport error, not a response.
		panic(http.ErrAbortHandler)
	case Hang:
		<-r.Context().Done()
	case Truncated:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"token_type":"Bearer","value":[{"id":"0000`))
	case HTML:
		status := f.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%s</h1><p>The gateway did not receive a timely response.</p></body></html>", status, http.StatusText(status), http.StatusText(status))
	case Empty:
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
	case IdentityError:
		e := identityError(f.AADSTS)
		s.writeTokenError(w, r, &e)
	case Huge:
		size := f.Size
		if size == 0 {
			size = 20 << 20
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(`{"id":"00000000-0000-0000-0000-000000000000"},`, 1000))
		_, _ = w.Write([]byte(`{"value":[`))
		for written := 0; written < size; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
	}
	return true
}

// serviceError writes a bare error in the shape of the service, for faults
// that answer before any handler runs.
func serviceError(w http.ResponseWriter, r *http.Request, service string, status int) {
	text := http.StatusText(status)
	switch service {
	case "graph":
		code := "generalException"
		switch status {
		case http.StatusTooManyRequests:
			code = "TooManyRequests"
		case http.StatusServiceUnavailable:
			code = "serviceNotAvailable"
		case http.StatusGatewayTimeout:
			code = "UnknownError"
		}
		writeGraphErrorAt(w, r, time.Now(), status, code, text)
	case "partner":
		writePartnerErrorBody(w, r, status, fmt.Sprint(status), text)
	case "exchange":
		writeJSON(w, status, map[string]any{"error": map[string]any{"code": fmt.Sprint(status), "message": text}})
	case "keyvault":
		// https://learn.microsoft.com/azure/key-vault/general/overview-throttling
		code := "InternalServerError"
		if status == http.StatusTooManyRequests {
			code, text = "Throttled", "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"
		}
		writeKVError(w, status, code, text)
	default:
		// The identity platform throttles with AADSTS90055 (TenantThrottlingError)
		// and reports server faults as temporarily_unavailable.
		code, aadsts, msg := "temporarily_unavailable", 90055, "TenantThrottlingError: There are too many incoming requests. This exception is thrown for blocked tenants."
		if status != http.StatusTooManyRequests {
			aadsts, msg = 90033, "A transient error has occurred. Please try again."
		}
		writeJSON(w, status, map[string]any{"error": code, "error_description": fmt.Sprintf("AADSTS%d: %s", aadsts, msg),
			"error_codes": []int{aadsts}, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"),
			"trace_id": newID(), "correlation_id": newID()})
	}
}
