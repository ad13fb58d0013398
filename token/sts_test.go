package token

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/faulttest/inproc"
)

// Identities of the test partner.
const (
	testAppID   = "11111111-2222-3333-4444-555555555555"
	testSecret  = "Q~test.secret-VALUE-0123456789abcdefghij"
	testRT      = "1.AQ-initial-refresh-token"
	testExRT    = "1.AQ-exchange-refresh-token"
	partnerTID  = "aaaaaaaa-0000-0000-0000-000000000001"
	customerA   = "bbbbbbbb-0000-0000-0000-000000000002"
	customerB   = "cccccccc-0000-0000-0000-000000000003"
	graphScope  = "https://graph.microsoft.com/.default"
	pcScope     = "https://api.partnercenter.microsoft.com/.default"
	exoResource = "https://outlook.office365.com"
)

// fakeSTS is a small stateful token endpoint: it knows tenants, the app's
// secret and certificate, which refresh tokens it issued, and answers with
// Microsoft's success and error bodies. Tests change its state (consent,
// revocation) or inject a fault, rather than scripting replies.
//
// It is served in process (inproc), with no socket, so that a test can run
// it in a testing/synctest bubble.
type fakeSTS struct {
	t *testing.T

	mu        sync.Mutex
	tenants   map[string]string // id or domain → tenant id
	consented map[string]bool   // tenant id → SAM app consented
	certKey   *rsa.PublicKey
	rts       map[string]string // refresh tokens issued → client id
	seq       int               // refresh tokens issued
	issued    int               // access tokens issued
	calls     []stsCall
	expiresIn int
	// fault, when set, may answer a request instead of the normal logic.
	fault func(w http.ResponseWriter, c stsCall) bool
	// gate, when set, holds every request until it is closed.
	gate chan struct{}
}

type stsCall struct {
	tenant string
	form   url.Values
	header http.Header
}

func newSTS(t *testing.T) *fakeSTS {
	t.Helper()
	s := &fakeSTS{
		t:         t,
		tenants:   map[string]string{partnerTID: partnerTID, "partner.onmicrosoft.com": partnerTID, customerA: customerA, "contoso.com": customerA, customerB: customerB},
		consented: map[string]bool{partnerTID: true, customerA: true, customerB: true},
		rts:       map[string]string{testRT: testAppID, testExRT: ExchangePowerShellClientID},
		expiresIn: 3599,
	}
	return s
}

// stsURL is where the fake answers; nothing listens there.
const stsURL = "https://login.inproc.test"

// cloud is the public cloud with its login endpoint at the fake.
func (s *fakeSTS) cloud() cloud.Configuration {
	c := cloud.Public
	c.LoginEndpoint = stsURL
	return c
}

func (s *fakeSTS) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *fakeSTS) lastCall() stsCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[len(s.calls)-1]
}

func (s *fakeSTS) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[1] != "oauth2" || parts[3] != "token" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	c := stsCall{tenant: parts[0], form: r.PostForm, header: r.Header.Clone()}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	gate, fault := s.gate, s.fault
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if fault != nil && fault(w, c) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token(w, r, c)
}

// token answers a token request; s.mu is held.
func (s *fakeSTS) token(w http.ResponseWriter, r *http.Request, c stsCall) {
	f := c.form
	tid, ok := s.tenants[strings.ToLower(c.tenant)]
	if !ok {
		aadError(w, 400, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", c.tenant), "")
		return
	}
	client := f.Get("client_id")
	public := client == ExchangePowerShellClientID
	switch {
	case client != testAppID && !public:
		aadError(w, 400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", client, tid), "")
		return
	case public && (f.Has("client_secret") || f.Has("client_assertion")):
		aadError(w, 401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.", "")
		return
	case !public && f.Has("client_assertion"):
		if err := s.checkAssertion(f, stsURL+r.URL.Path); err != nil {
			aadError(w, 401, "invalid_client", 700027, "Client assertion failed signature validation. "+err.Error(), "")
			return
		}
	case !public && f.Get("client_secret") != testSecret:
		aadError(w, 401, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", testAppID), "")
		return
	}
	scope := f.Get("scope")
	if scope == "" {
		aadError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.", "")
		return
	}
	resource := strings.TrimSuffix(strings.Fields(scope)[0], "/.default")
	if !public && !s.consented[tid] {
		aadError(w, 400, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named 'SAM'. Send an interactive authorization request for this user and resource.", testAppID), "consent_required")
		return
	}
	claims := map[string]any{"aud": resource, "tid": tid, "appid": client, "iss": "https://sts.windows.net/" + tid + "/", "ver": "1.0",
		"exp": time.Now().Add(time.Hour).Unix()}
	body := map[string]any{"token_type": "Bearer", "expires_in": s.expiresIn, "ext_expires_in": s.expiresIn, "scope": scope}
	switch f.Get("grant_type") {
	case "refresh_token":
		owner, ok := s.rts[f.Get("refresh_token")]
		if !ok || owner != client {
			aadError(w, 400, "invalid_grant", 70000, "Provided grant is invalid or malformed.", "")
			return
		}
		claims["scp"], claims["upn"], claims["amr"] = "User.Read Directory.Read.All", "admin@partner.onmicrosoft.com", []string{"pwd", "mfa"}
		s.seq++
		rt := fmt.Sprintf("1.AQ-rotated-%d", s.seq)
		s.rts[rt] = client
		body["refresh_token"] = rt
	case "client_credentials":
		claims["roles"] = []string{"Directory.Read.All"}
	default:
		aadError(w, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.", "")
		return
	}
	s.issued++
	claims["uti"] = fmt.Sprintf("uti-%d", s.issued)
	body["access_token"] = fakeJWT(claims)
	w.Header().Set("x-ms-request-id", "trace-ok-1")
	writeJSONBody(w, 200, body)
}

// checkAssertion verifies a client assertion as the identity platform
// does: RS256 with the registered certificate, aud the token endpoint,
// iss and sub the client, a lifetime of at most ten minutes.
func (s *fakeSTS) checkAssertion(f url.Values, endpoint string) error {
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return fmt.Errorf("wrong client_assertion_type")
	}
	parts := strings.Split(f.Get("client_assertion"), ".")
	if len(parts) != 3 || s.certKey == nil {
		return fmt.Errorf("malformed assertion or no certificate registered")
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.certKey, crypto.SHA256, digest[:], sig); err != nil {
		return err
	}
	var claims struct {
		Aud, Iss, Sub, Jti string
		Exp, Nbf           int64
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	if claims.Aud != endpoint || claims.Iss != testAppID || claims.Sub != testAppID || claims.Jti == "" || claims.Exp-claims.Nbf > 600 {
		return fmt.Errorf("bad claims %+v (endpoint %s)", claims, endpoint)
	}
	return nil
}

// aadError writes the identity platform's error body.
func aadError(w http.ResponseWriter, status int, code string, aadsts int, msg, suberror string, extra ...string) {
	ts := "2026-01-01 08:55:37Z"
	body := map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: 0f1e2d3c-trace Correlation ID: 9a8b7c6d-corr Timestamp: %s", aadsts, msg, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          "0f1e2d3c-trace",
		"correlation_id":    "9a8b7c6d-corr",
		"error_uri":         "https://login.microsoftonline.com/error?code=" + fmt.Sprint(aadsts),
	}
	if suberror != "" {
		body["suberror"] = suberror
	}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	writeJSONBody(w, status, body)
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fakeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
}

var (
	certOnce sync.Once
	certKey  *rsa.PrivateKey
	certDER  []byte
)

// testCertificate returns an RSA certificate valid from an hour ago for a
// year; the key is generated once per test binary.
func testCertificate(t *testing.T) *Certificate {
	t.Helper()
	certOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "SAM test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			panic(err)
		}
		certKey, certDER = k, der
	})
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	return &Certificate{Chain: []*x509.Certificate{cert}, Key: certKey}
}

func testCredentials() Credentials {
	return Credentials{
		TenantID: partnerTID, ApplicationID: testAppID, ClientSecret: NewSecret(testSecret),
		RefreshToken: NewSecret(testRT), ExchangeRefreshToken: NewSecret(testExRT),
	}
}

// fastRetryPolicy keeps retry waits in milliseconds.
func fastRetryPolicy() RetryPolicy {
	return RetryPolicy{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}
}

// newTestProvider returns a Provider wired to s.
func newTestProvider(t *testing.T, s *fakeSTS, c Credentials, opts ...Option) *Provider {
	t.Helper()
	hc := &http.Client{Transport: inproc.Transport{Handler: http.HandlerFunc(s.serve)}}
	p, err := NewProvider(c, append([]Option{WithCloud(s.cloud()), WithHTTPClient(hc), WithRetryPolicy(fastRetryPolicy())}, opts...)...)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	return p
}
