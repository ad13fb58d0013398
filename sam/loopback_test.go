package sam

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// startLoopback starts a listener for state and closes it with the test.
func startLoopback(t *testing.T, state string) *loopback {
	t.Helper()
	l, err := listenLoopback(state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	return l
}

// get requests path?query from the listener and returns the status and
// the page.
func get(t *testing.T, l *loopback, query string) (int, string) {
	t.Helper()
	resp, err := http.Get(l.redirectURI() + "/?" + query)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoopbackCode(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "s1")
	status, page := get(t, l, "code=abc&state=s1")
	if status != http.StatusOK || !strings.Contains(page, "You can close this window") {
		t.Errorf("callback answered %d %q", status, page)
	}
	code, err := l.wait(t.Context())
	if err != nil || code != "abc" {
		t.Errorf("wait = %q, %v; want abc", code, err)
	}
}

func TestLoopbackWrongState(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "right")
	status, page := get(t, l, "code=abc&state=wrong")
	if status != http.StatusBadRequest || !strings.Contains(page, "does not match") {
		t.Errorf("callback with a wrong state answered %d %q, want 400 saying so", status, page)
	}
	if _, err := l.wait(t.Context()); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("wait = %v, want ErrStateMismatch", err)
	}
}

func TestLoopbackServesOneRequest(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "s")
	if status, _ := get(t, l, "code=first&state=s"); status != http.StatusOK {
		t.Fatalf("first callback answered %d", status)
	}
	status, page := get(t, l, "code=second&state=s")
	if status != http.StatusBadRequest || !strings.Contains(page, "refused") {
		t.Errorf("second callback answered %d %q, want 400", status, page)
	}
	if code, err := l.wait(t.Context()); code != "first" || err != nil {
		t.Errorf("wait = %q, %v; want the first code", code, err)
	}
	// Once closed, nothing listens any more.
	l.close()
	if resp, err := http.Get(l.redirectURI() + "/?code=third&state=s"); err == nil {
		resp.Body.Close()
		t.Error("a request after close reached a listener")
	}
}

func TestLoopbackIgnoresOtherPaths(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "s")
	resp, err := http.Get(l.redirectURI() + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/favicon.ico answered %d, want 404", resp.StatusCode)
	}
	if status, _ := get(t, l, "code=abc&state=s"); status != http.StatusOK {
		t.Errorf("the callback after another path answered %d, want 200", status)
	}
}

func TestLoopbackErrorRedirect(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "s")
	q := url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app. Trace ID: x"}, "state": {"s"}}
	_, page := get(t, l, q.Encode())
	if !strings.Contains(page, "access_denied") || strings.Contains(page, "Trace ID") {
		t.Errorf("page = %q, want the error without the trace trailer", page)
	}
	_, err := l.wait(t.Context())
	var ae *AuthorizeError
	if !errors.Is(err, ErrSignInDeclined) || !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("wait = %v, want an access_denied *AuthorizeError", err)
	}
}

// TestLoopbackTimeout: a wait whose deadline has passed ends at once with
// ErrSignInTimeout; one that ignored its context would hang the test.
func TestLoopbackTimeout(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "s")
	ctx, cancel := context.WithDeadline(t.Context(), time.Now())
	defer cancel()
	_, err := l.wait(ctx)
	if !errors.Is(err, ErrSignInTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait = %v, want ErrSignInTimeout", err)
	}
}

func TestLoopbackBindsLoopbackOnly(t *testing.T) {
	t.Parallel()
	l := startLoopback(t, "s")
	addr, ok := l.ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("listening on %v, want 127.0.0.1", l.ln.Addr())
	}
	if !strings.HasPrefix(l.redirectURI(), "http://127.0.0.1:") {
		t.Errorf("redirect URI = %s", l.redirectURI())
	}
	// A request naming another host (DNS rebinding) is refused.
	req, _ := http.NewRequest(http.MethodGet, l.redirectURI()+"/?code=abc&state=s", nil)
	req.Host = "evil.example:" + l.port
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("foreign Host answered %d, want 400", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.wait(ctx); !errors.Is(err, ErrSignInTimeout) {
		t.Errorf("a foreign Host counted as the callback: %v", err)
	}
}

func TestParseRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw string
		code      string
		is        error
	}{
		{"full URL", "http://localhost/?code=abc&state=s&session_state=x", "abc", nil},
		{"with spaces and quotes", "  \"http://localhost/?code=abc&state=s\"\n", "abc", nil},
		{"query only", "code=abc&state=s", "abc", nil},
		{"question mark", "?code=abc&state=s", "abc", nil},
		{"fragment ignored", "http://localhost/?code=abc&state=s#x", "abc", nil},
		{"wrong state", "http://localhost/?code=abc&state=t", "", ErrStateMismatch},
		{"no state", "http://localhost/?code=abc", "", ErrStateMismatch},
		{"declined", "http://localhost/?error=access_denied&error_description=no&state=s", "", ErrSignInDeclined},
		{"error with foreign state", "http://localhost/?error=access_denied&state=t", "", ErrStateMismatch},
	}
	for _, tt := range tests {
		code, err := ParseRedirect(tt.raw, "s")
		if tt.is != nil {
			if !errors.Is(err, tt.is) {
				t.Errorf("%s: error = %v, want %v", tt.name, err, tt.is)
			}
			continue
		}
		if err != nil || code != tt.code {
			t.Errorf("%s: ParseRedirect = %q, %v; want %q", tt.name, code, err, tt.code)
		}
	}
	for _, raw := range []string{"", "http://localhost/", "code=abc&state=s&state=%zz", "http://localhost/?state=s", strings.Repeat("a", maxPastedURL+1)} {
		if _, err := ParseRedirect(raw, "s"); err == nil {
			t.Errorf("ParseRedirect(%.40q) accepted it", raw)
		}
	}
	var ae *AuthorizeError
	if _, err := ParseRedirect("?error=invalid_request&error_description=AADSTS900144%3A+bad&state=s", "s"); !errors.As(err, &ae) ||
		ae.Code != "invalid_request" || errors.Is(err, ErrSignInDeclined) {
		t.Errorf("invalid_request gave %v", err)
	}
}

func FuzzParseRedirect(f *testing.F) {
	for _, s := range []string{
		"http://localhost/?code=abc&state=s",
		"http://127.0.0.1:1234/?error=access_denied&error_description=x&state=s",
		"code=abc&state=s",
		"?state=s&code=",
		"http://localhost/#code=abc&state=s",
		"\"<http://localhost/?code=%41&state=s>\"",
	} {
		f.Add(s, "s")
	}
	f.Fuzz(func(t *testing.T, raw, state string) {
		code, err := ParseRedirect(raw, state)
		if err != nil {
			if code != "" {
				t.Errorf("ParseRedirect(%q) = %q with error %v", raw, code, err)
			}
			return
		}
		if code == "" {
			t.Errorf("ParseRedirect(%q) = empty code, no error", raw)
		}
		if state == "" {
			t.Errorf("ParseRedirect(%q, \"\") accepted an empty state", raw)
		}
	})
}
