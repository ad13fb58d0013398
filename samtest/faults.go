package samtest

import (
	"fmt"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

// FaultKind is what an injected fault does.
type FaultKind int

// The kinds of fault, each a way Microsoft's services (or the proxies in
// front of them) fail.
const (
	// Latency delays the request by Fault.Latency, then serves it.
	Latency FaultKind = iota
	// Throttle answers 429, with Fault.RetryAfter as the Retry-After
	// header (none when empty), in the service's own error shape.
	Throttle
	// Status answers Fault.Status (500, 502, 503, 504…) in the service's
	// own error shape.
	Status
	// Reset drops the connection with no answer: a transport error.
	Reset
	// Hang never answers: the request waits until its context ends.
	Hang
	// Truncated answers 200 with a JSON body cut off in the middle.
	Truncated
	// HTML answers Fault.Status (502 when 0) with a gateway's HTML page.
	HTML
	// Empty answers Fault.Status (200 when 0) with no body.
	Empty
	// Huge answers 200 with a JSON body of Fault.Size bytes (20 MiB when 0).
	Huge
)

func (k FaultKind) String() string {
	if k < Latency || k > Huge {
		return fmt.Sprintf("FaultKind(%d)", int(k))
	}
	return testserver.FaultKind(k).String()
}

// Fault is a misbehaviour injected into the requests it matches. Empty
// fields match everything.
type Fault struct {
	Kind FaultKind
	// Service limits the fault to "login" (the identity platform),
	// "graph", "partner" or "exchange".
	Service string
	// Path limits the fault to requests whose path, under URL, contains
	// it: "/graph/v1.0/users", "/oauth2/v2.0/token".
	Path string
	// Method limits the fault to one HTTP method.
	Method string
	// Tenant limits the fault to requests for one tenant id: named in the
	// path (identity platform, Exchange) or by the bearer token.
	Tenant string
	// Count is how many matching requests the fault answers; 0 means
	// every one until ClearFaults.
	Count int
	// Status, RetryAfter, Latency and Size parameterise the kinds.
	Status     int
	RetryAfter string
	Latency    time.Duration
	Size       int
}

// Inject adds a fault. Faults are matched in the order they were added and
// the first match answers, so a Latency fault that matches every request
// hides the faults added after it; World.Latency hides nothing. Latency,
// Throttle and Status faults also match the requests inside a Graph
// $batch, by the item's path: the item, not the batch, then fails, as
// Graph throttles batch items one by one.
func (s *Server) Inject(f Fault) error {
	switch {
	case f.Kind < Latency || f.Kind > Huge:
		return fmt.Errorf("samtest: unknown fault kind %d: use one of the FaultKind constants", int(f.Kind))
	case f.Count < 0:
		return fmt.Errorf("samtest: Fault.Count is %d: 0 means every matching request, more limits it", f.Count)
	case f.Kind == Status && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("samtest: a Status fault needs Fault.Status between 400 and 599, not %d", f.Status)
	}
	s.fake.Inject(testserver.Fault{Kind: testserver.FaultKind(f.Kind), Service: f.Service, Path: f.Path,
		Method: f.Method, Tenant: f.Tenant, Count: f.Count, Status: f.Status, RetryAfter: f.RetryAfter,
		Latency: f.Latency, Size: f.Size})
	return nil
}

// ClearFaults removes every injected fault, the Throttled customers' too.
func (s *Server) ClearFaults() { s.fake.ClearFaults() }

// Advance moves the fake's clock forward by d: the access tokens it issued
// expire (60 to 90 minutes after issue), and so do secrets and refresh
// tokens left unused past their lifetimes; GDAP's pending work completes
// once World.GDAPDelay has passed, and a new secret or certificate works
// once World.CredentialDelay has. Callers that cache tokens need
// their own clock moved too (token.WithClock), or a testing/synctest bubble.
func (s *Server) Advance(d time.Duration) { s.fake.Clock().Advance(d) }

// ExpireSecret ends the SAM app's client secret now, as if it had
// reached its end date: redeeming the refresh token, and every app-only
// request, then answers AADSTS7000222.
func (s *Server) ExpireSecret() error { return s.fake.ExpireSecrets(s.app.AppID) }

// RevokeSessions revokes every refresh token of the partner's admin, as
// "Revoke sessions" in the portal or a password reset does: redeeming
// one answers AADSTS50173 until the admin signs in again.
func (s *Server) RevokeSessions() error { return s.fake.RevokeSessions(s.fake.Partner().AdminID) }

// Request is one request the fake received.
type Request struct {
	Time   time.Time
	Method string
	// Service is "login" (the identity platform), "graph", "partner" or
	// "exchange".
	Service string
	// Path is the request's path under URL ("/graph/v1.0/users").
	Path string
	// Tenant is the tenant the request addressed: named in the path
	// (identity platform, Exchange) or by its bearer token.
	Tenant string
	// Grant is a token request's grant_type ("refresh_token",
	// "client_credentials"…), empty for other requests.
	Grant string
	// Status is the answer's status, 0 for a dropped connection.
	Status int
	// Fault names the injected fault that answered ("throttle"…), if any.
	Fault string
	// UserAgent is the request's User-Agent: "acme-msp/2.1 samkit/v1.4.0"
	// for samkit's requests when token.WithUserAgent named acme-msp/2.1.
	UserAgent string
}

// Requests returns the requests the fake has received, oldest first,
// without their credentials.
func (s *Server) Requests() []Request {
	recs := s.fake.Requests()
	out := make([]Request, len(recs))
	for i, r := range recs {
		out[i] = Request{Time: r.Time, Method: r.Method, Service: r.Service, Path: r.Path, Tenant: r.Tenant,
			Grant: r.Grant(), Status: r.Status, Fault: r.Fault, UserAgent: r.UserAgent}
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() { s.fake.ResetRequests() }
