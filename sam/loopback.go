package sam

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The consent sign-in returns to samkit through the browser: the identity
// platform redirects to the app's redirect URI with ?code=…&state=… (or
// ?error=…). On a desktop, a listener on the loopback interface receives
// that redirect (RFC 8252 §7.3); on a headless box, the person pastes the
// address the browser ended at. Both paths check state and read the code
// the same way, in parseCallback.

// Errors of the browser half of a sign-in.
var (
	// ErrStateMismatch means a redirect carried another state than the one
	// sent: it belongs to another sign-in, or was forged. It is refused.
	ErrStateMismatch = errors.New("sam: the sign-in response does not belong to this sign-in (state mismatch)")
	// ErrSignInDeclined means the person cancelled the sign-in or declined
	// the consent prompt (error=access_denied).
	ErrSignInDeclined = errors.New("sam: the sign-in was declined")
	// ErrSignInTimeout means no sign-in came back before the deadline.
	ErrSignInTimeout = errors.New("sam: the sign-in did not complete in time")
)

// AuthorizeError is an error the identity platform sent to the redirect URI
// instead of a code (error and error_description of RFC 6749 §4.1.2.1).
type AuthorizeError struct {
	// Code is the OAuth error: access_denied, invalid_request,
	// consent_required, …
	Code string
	// Description is the identity platform's error_description, which
	// starts with the AADSTS code.
	Description string
}

func (e *AuthorizeError) Error() string {
	if e.Description == "" {
		return "sam: the sign-in failed: " + e.Code
	}
	return fmt.Sprintf("sam: the sign-in failed: %s: %s", e.Code, firstLine(e.Description))
}

// Is makes an access_denied error match ErrSignInDeclined.
func (e *AuthorizeError) Is(target error) bool {
	return target == ErrSignInDeclined && e.Code == "access_denied"
}

// firstLine keeps a description to the part a person reads: the identity
// platform appends trace and correlation ids after the message.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, " Trace ID:"); i >= 0 {
		s = s[:i]
	}
	const max = 300
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.TrimSpace(s)
}

// maxPastedURL bounds what ParseRedirect accepts: a redirect with a code is
// about 1–2 KiB; anything far longer was not copied from an address bar.
const maxPastedURL = 16 << 10

// ParseRedirect reads the address a browser was redirected to at the end
// of a sign-in, as a person pastes it on a headless box: the full URL
// (http://localhost/?code=…&state=…) or just its query. It checks that
// the state is wantState and returns the authorization code. An error
// redirect gives an *AuthorizeError; a foreign state, ErrStateMismatch.
func ParseRedirect(raw, wantState string) (code string, err error) {
	raw = strings.TrimSpace(raw)
	raw = strings.Trim(raw, "\"'<>")
	if raw == "" {
		return "", errors.New("sam: the pasted address is empty: paste the whole address the browser shows after the sign-in")
	}
	if len(raw) > maxPastedURL {
		return "", fmt.Errorf("sam: the pasted address is longer than %d bytes: paste only the address the browser shows after the sign-in", maxPastedURL)
	}
	query := raw
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		query = raw[i+1:]
	} else if strings.Contains(raw, "://") {
		return "", errors.New("sam: the pasted address has no query: paste the whole address, including the part after '?'")
	}
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", errors.New("sam: the pasted address is not a redirect URL: its query cannot be read")
	}
	return parseCallback(q, wantState)
}

// parseCallback checks a redirect's state before anything else, so that a
// response meant for another sign-in is refused whatever it says, and then
// returns its code or its error.
func parseCallback(q url.Values, wantState string) (string, error) {
	got := q.Get("state")
	if wantState == "" || subtle.ConstantTimeCompare([]byte(got), []byte(wantState)) != 1 {
		return "", ErrStateMismatch
	}
	if e := q.Get("error"); e != "" {
		return "", &AuthorizeError{Code: e, Description: q.Get("error_description")}
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("sam: the sign-in response has neither a code nor an error")
	}
	return code, nil
}

// loopback receives one sign-in redirect on 127.0.0.1. It binds the IPv4
// loopback literal, never a wildcard or "localhost" (which may resolve to
// another interface), on a port the system picks, as RFC 8252 §8.3
// recommends. It serves exactly one callback: the first request to "/"
// decides the outcome and every later one is refused.
type loopback struct {
	ln     net.Listener
	srv    *http.Server
	state  string
	port   string
	result chan loopbackResult

	mu     sync.Mutex
	served bool
}

type loopbackResult struct {
	code string
	err  error
}

// listenLoopback starts a listener for a sign-in whose state is state.
// Close it when done.
func listenLoopback(state string) (*loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sam: listening on the loopback interface for the sign-in: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	l := &loopback{ln: ln, state: state, port: port, result: make(chan loopbackResult, 1)}
	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// redirectURI is the address the identity platform sends the browser to.
// Entra ignores the port of a loopback redirect URI when matching it
// against the registered one (http://127.0.0.1), so any port works.
// https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions
func (l *loopback) redirectURI() string { return "http://127.0.0.1:" + l.port }

// wait returns the code of the callback, or why there is none. A context
// deadline gives an error matching ErrSignInTimeout.
func (l *loopback) wait(ctx context.Context) (string, error) {
	select {
	case r := <-l.result:
		return r.code, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("%w: no sign-in reached the listener at %s before the deadline: %w", ErrSignInTimeout, l.redirectURI(), ctx.Err())
		}
		return "", ctx.Err()
	}
}

// close stops the listener, giving the page being written a moment to
// reach the browser.
func (l *loopback) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		_ = l.srv.Close()
	}
}

func (l *loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	// A page elsewhere may make the browser send requests here, with its
	// own Host (DNS rebinding); the identity platform sends the browser
	// to exactly this host and port.
	if r.Host != "127.0.0.1:"+l.port {
		http.Error(w, "wrong host", http.StatusBadRequest)
		return
	}
	// A browser also asks for /favicon.ico and the like: not the callback.
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	l.mu.Lock()
	first := !l.served
	l.served = true
	l.mu.Unlock()
	if !first {
		w.Header().Set("Connection", "close")
		writeSignInPage(w, http.StatusBadRequest, "Sign-in already completed",
			"This sign-in has already been answered; this request was refused. You can close this window.")
		return
	}
	code, err := parseCallback(r.URL.Query(), l.state)
	var ae *AuthorizeError
	switch {
	case err == nil:
		writeSignInPage(w, http.StatusOK, "Signed in", "samkit received the sign-in. You can close this window.")
	case errors.Is(err, ErrStateMismatch):
		writeSignInPage(w, http.StatusBadRequest, "Sign-in refused",
			"This response does not belong to the sign-in samkit started (its state does not match), so it was refused. You can close this window and start again.")
	case errors.As(err, &ae):
		writeSignInPage(w, http.StatusOK, "Sign-in failed",
			"The sign-in failed: "+ae.Code+" — "+firstLine(ae.Description)+". You can close this window.")
	default:
		writeSignInPage(w, http.StatusBadRequest, "Sign-in failed", err.Error()+". You can close this window.")
	}
	l.result <- loopbackResult{code: code, err: err}
}

func writeSignInPage(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title></head>"+
		"<body style=\"font-family:sans-serif;margin:3em\"><h1>%s</h1><p>%s</p></body></html>",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(message))
}
