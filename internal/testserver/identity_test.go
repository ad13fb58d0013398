package testserver

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// tokenReply is a decoded /token answer.
type tokenReply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r tokenReply) str(name string) string { s, _ := r.Body[name].(string); return s }

// codes returns error_codes.
func (r tokenReply) codes() []int {
	var out []int
	l, _ := r.Body["error_codes"].([]any)
	for _, v := range l {
		if f, ok := v.(float64); ok {
			out = append(out, int(f))
		}
	}
	return out
}

func postForm(t *testing.T, s *Server, path string, form url.Values) tokenReply {
	t.Helper()
	return postFormWith(t, s, path, form, nil)
}

// postFormWith posts form to path, letting edit change the request first.
func postFormWith(t *testing.T, s *Server, path string, form url.Values, edit func(*http.Request)) tokenReply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("client-request-id", "11111111-2222-3333-4444-555555555555")
	if edit != nil {
		edit(req)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("POST %s: status %d, body %q is not JSON", path, resp.StatusCode, b)
	}
	return tokenReply{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func postToken(t *testing.T, s *Server, tenant string, form url.Values) tokenReply {
	t.Helper()
	return postForm(t, s, "/"+tenant+"/oauth2/v2.0/token", form)
}

// wantError checks an error answer in the identity platform's shape.
func wantError(t *testing.T, r tokenReply, status int, code string, aadsts int) {
	t.Helper()
	if r.Status != status || r.str("error") != code || !slices.Equal(r.codes(), []int{aadsts}) {
		t.Fatalf("got %d %s %v (%s), want %d %s [%d]", r.Status, r.str("error"), r.codes(), r.str("error_description"), status, code, aadsts)
	}
	desc := r.str("error_description")
	for _, field := range []string{"trace_id", "correlation_id", "timestamp"} {
		if r.str(field) == "" {
			t.Errorf("error body lacks %s: %v", field, r.Body)
		}
	}
	if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "Trace ID: "+r.str("trace_id")) ||
		!strings.Contains(desc, "Correlation ID: 11111111-2222-3333-4444-555555555555") {
		t.Errorf("error_description = %q, want AADSTS text with the trace and correlation ids", desc)
	}
	if r.str("correlation_id") != "11111111-2222-3333-4444-555555555555" {
		t.Errorf("correlation_id = %q, want the client-request-id sent", r.str("correlation_id"))
	}
}

// claimsOf decodes a JWT this server signed, checking the signature.
func claimsOf(t *testing.T, s *Server, tok string) Claims {
	t.Helper()
	c, err := s.verify(tok)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return c
}

// registerSAM registers a SAM app and consents it in customers.
func registerSAM(t *testing.T, s *Server, spec AppSpec, customers ...string) AppInfo {
	t.Helper()
	app, err := s.RegisterApp(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range customers {
		if err := s.GrantConsent(app.AppID, c); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

func mint(t *testing.T, s *Server, appID string, opts ...MintOption) string {
	t.Helper()
	rt, err := s.MintRefreshToken(appID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// assertion signs a client assertion with app's certificate; edit may
// change its header and claims first.
func assertion(t *testing.T, app AppInfo, aud string, edit func(h, c map[string]any)) string {
	t.Helper()
	now := time.Now()
	sum := sha256.Sum256(app.Certificate.Raw)
	h := map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}
	c := map[string]any{"aud": aud, "iss": app.AppID, "sub": app.AppID, "jti": newID(),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if edit != nil {
		edit(h, c)
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	if h["alg"] == "RS256" {
		sig, err = rsa.SignPKCS1v15(rand.Reader, app.Key, crypto.SHA256, digest[:])
	} else {
		sig, err = rsa.SignPSS(rand.Reader, app.Key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

func sha1Thumbprint(app AppInfo) string {
	sum := sha1.Sum(app.Certificate.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browse GETs an identity platform URL as a browser would, without
// following redirects.
func browse(t *testing.T, s *Server, rawURL string) (*http.Response, string) {
	t.Helper()
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}
