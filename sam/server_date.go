package sam

import (
	"net/http"
	"sync"
	"time"
)

// The doctor judges what has expired by the service's clock, not the
// machine's: it takes its now from the Date header of Graph's answers to
// its reads in the partner tenant. Microsoft Graph sends Date, as every
// origin server with a clock must (RFC 9110, section 6.6.1,
// https://www.rfc-editor.org/rfc/rfc9110#section-6.6.1), and Entra ID
// refuses an expired secret or an idle refresh token by that clock.
// So a machine whose clock is off still gets the right "days until", and
// against samkit's sandbox, whose clock can be moved forward to rehearse
// expiries (POST /_sandbox/clock), the doctor follows the sandbox with no
// sandbox-only code: the sandbox's Date moves with its clock. Asking the
// sandbox's admin endpoint instead would work only there, and would leave
// a real deployment on the machine's clock. Date has a resolution of one
// second, far below the days the doctor counts.

// serverDate is an http.RoundTripper that remembers the Date of the last
// answer that carried one.
type serverDate struct {
	next http.RoundTripper
	mu   sync.Mutex
	date time.Time
}

func (s *serverDate) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			s.mu.Lock()
			s.date = t
			s.mu.Unlock()
		}
	}
	return resp, err
}

// client returns base with its transport wrapped so that s sees every
// answer.
func (s *serverDate) client(base *http.Client) *http.Client {
	s.next = base.Transport
	if s.next == nil {
		s.next = http.DefaultTransport
	}
	return &http.Client{Transport: s, Timeout: base.Timeout, Jar: base.Jar, CheckRedirect: base.CheckRedirect}
}

// now returns the last Date seen, or fallback when none was.
func (s *serverDate) now(fallback func() time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.date.IsZero() {
		return fallback()
	}
	return s.date
}
