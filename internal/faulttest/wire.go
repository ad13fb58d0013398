package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// Wire is the transport under a client: it counts the attempts that reach
// each service of the fake (below the retrying layer, so every retry
// counts) and, when Watch is set, keeps every credential that crosses it —
// secrets and assertions in token requests, bearer tokens, and the tokens
// and secrets in JSON answers — for AssertNoSecrets.
type Wire struct {
	Next http.RoundTripper
	// Watch makes the Wire keep credentials; it reads each answer of up
	// to a megabyte to find them.
	Watch bool

	mu      sync.Mutex
	sent    map[string]int
	secrets map[string]bool
}

// NewWire returns a Wire over the fake, served in process (see Bubble).
func NewWire(srv *testserver.Server) *Wire {
	return &Wire{Next: inproc.Transport{Handler: srv.Handler()}}
}

// Client returns an *http.Client over w, for WithHTTPClient options.
func (w *Wire) Client() *http.Client { return &http.Client{Transport: w} }

// serviceOf names the fake's service a request addresses.
func serviceOf(u *url.URL) string {
	for _, s := range []string{"graph", "partner", "exchange"} {
		if strings.HasPrefix(u.Path, "/"+s+"/") {
			return s
		}
	}
	return "login"
}

// formSecrets and jsonSecrets are the form fields and JSON members that
// carry credentials; in JSON, "code" is an error's code.
var (
	formSecrets = []string{"client_secret", "client_assertion", "refresh_token", "code", "code_verifier", "device_code"}
	jsonSecrets = []string{"access_token", "refresh_token", "id_token", "secretText"}
)

func (w *Wire) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	if w.sent == nil {
		w.sent = map[string]int{}
	}
	w.sent[serviceOf(r.URL)]++
	watch := w.Watch
	w.mu.Unlock()
	if watch {
		w.watchRequest(r)
	}
	resp, err := w.Next.RoundTrip(r)
	if err == nil && watch {
		w.watchResponse(resp)
	}
	return resp, err
}

func (w *Wire) watchRequest(r *http.Request) {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		w.Keep(v)
	}
	if r.GetBody == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return
	}
	body, err := r.GetBody()
	if err != nil {
		return
	}
	defer body.Close()
	b, _ := io.ReadAll(body)
	form, _ := url.ParseQuery(string(b))
	for _, f := range formSecrets {
		for _, v := range form[f] {
			w.Keep(v)
		}
	}
}

func (w *Wire) watchResponse(resp *http.Response) {
	const limit = 1 << 20
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	if err != nil {
		return
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return
	}
	for _, f := range jsonSecrets {
		if v, ok := m[f].(string); ok {
			w.Keep(v)
		}
	}
}

// Keep adds a credential to those no log or error may hold.
func (w *Wire) Keep(secret string) {
	if secret == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.secrets == nil {
		w.secrets = map[string]bool{}
	}
	w.secrets[secret] = true
}

// Secrets returns the credentials kept.
func (w *Wire) Secrets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.secrets))
	for s := range w.secrets {
		out = append(out, s)
	}
	return out
}

// Count returns how many requests reached service since the last Reset.
func (w *Wire) Count(service string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent[service]
}

// Reset zeroes the counts.
func (w *Wire) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = nil
}

// StaticSource is a token.Source of one access token, for sweeping an API
// client without its token requests.
type StaticSource string

// Token returns the token, valid for an hour.
func (s StaticSource) Token(context.Context) (token.Token, error) {
	return token.Token{AccessToken: token.NewSecret(string(s)), Expiry: time.Now().Add(time.Hour), Kind: token.Delegated}, nil
}
