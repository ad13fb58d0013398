package testserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Request is one recorded request. Credentials in it are replaced by
// fingerprints ("fp:" and 12 hex digits of their SHA-256), so tests can see
// that the same code was sent twice, or that a new refresh token was used,
// without the recording holding a secret.
type Request struct {
	Time    time.Time
	Method  string
	Service string // login, graph, partner or exchange
	Path    string
	Query   url.Values
	// Tenant is the tenant the request addressed: from the path for the
	// identity platform and Exchange, from the bearer token otherwise.
	Tenant string
	// Form holds a token request's form fields, credentials fingerprinted.
	Form url.Values
	// UserAgent is the request's User-Agent header, empty when it had
	// none: who a sign-in log would say made the request.
	UserAgent string
	// Status is the response status (0 for a reset connection).
	Status int
	// Fault names the injected fault that answered, if any.
	Fault string
}

// Grant returns a token request's grant_type.
func (r Request) Grant() string { return r.Form.Get("grant_type") }

// IsToken reports whether r is a request to a /token endpoint.
func (r Request) IsToken() bool {
	return r.Service == "login" && strings.HasSuffix(r.Path, "/oauth2/v2.0/token")
}

// Fingerprint returns how a credential appears in recorded requests.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "fp:" + hex.EncodeToString(sum[:6])
}

var secretFields = map[string]bool{
	"client_secret": true, "client_assertion": true, "refresh_token": true, "code": true,
	"code_verifier": true, "device_code": true, "password": true, "assertion": true,
}

type recorder struct {
	mu       sync.Mutex
	limit    int
	requests []Request
	total    int
}

func (rc *recorder) begin(s *Server, r *http.Request, service string) *Request {
	rec := &Request{Time: s.clock.Now(), Method: r.Method, Service: service, Path: r.URL.Path, Query: r.URL.Query(), UserAgent: r.UserAgent()}
	if service == "login" && r.Method == http.MethodPost {
		// ParseForm consumes the body; handlers read r.PostForm afterwards.
		if err := r.ParseForm(); err == nil {
			rec.Form = url.Values{}
			for k, vs := range r.PostForm {
				for _, v := range vs {
					if secretFields[k] {
						v = Fingerprint(v)
					}
					rec.Form.Add(k, v)
				}
			}
		}
	}
	rec.Tenant = s.requestTenant(r, service)
	return rec
}

func (rc *recorder) finish(rec *Request, status int) {
	rec.Status = status
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.total++
	if len(rc.requests) < rc.limit {
		rc.requests = append(rc.requests, *rec)
	}
}

// requestTenant finds the tenant a request addresses.
func (s *Server) requestTenant(r *http.Request, service string) string {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch service {
	case "login":
		if len(segs) > 0 {
			return strings.ToLower(segs[0])
		}
	case "exchange":
		// /exchange/adminapi/beta/{tenant}/InvokeCommand
		if len(segs) > 3 {
			return strings.ToLower(segs[3])
		}
	}
	if tok := bearer(r); tok != "" {
		if _, c, _, _, err := parseJWT(tok); err == nil {
			return c.String("tid")
		}
	}
	return ""
}

// Requests returns the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.recorder.mu.Lock()
	defer s.recorder.mu.Unlock()
	return append([]Request(nil), s.recorder.requests...)
}

// Count returns how many recorded requests match.
func (s *Server) Count(match func(Request) bool) int {
	n := 0
	for _, r := range s.Requests() {
		if match(r) {
			n++
		}
	}
	return n
}

// TotalRequests returns how many requests the server has received, recorded
// or not.
func (s *Server) TotalRequests() int {
	s.recorder.mu.Lock()
	defer s.recorder.mu.Unlock()
	return s.recorder.total
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.recorder.mu.Lock()
	defer s.recorder.mu.Unlock()
	s.recorder.requests, s.recorder.total = nil, 0
}
