package token

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samkit/samkit/cloud"
)

// TestServiceErrors drives the Provider into the identity platform's
// failures through the fake's state and checks the sentinel and hint.
func TestServiceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*fakeSTS, *Credentials)
		call  func(*Provider) error
		is    error
		hint  string
	}{
		{"not consented", func(s *fakeSTS, _ *Credentials) { s.consented[customerB] = false },
			func(p *Provider) error { _, err := p.Token(t.Context(), customerB, graphScope); return err },
			ErrConsentRequired, "samctl consent push " + customerB},
		{"unknown tenant", nil,
			func(p *Provider) error { _, err := p.Token(t.Context(), "nowhere.example", graphScope); return err },
			ErrTenantNotFound, "Tenant nowhere.example was not found"},
		{"wrong secret", func(_ *fakeSTS, c *Credentials) { c.ClientSecret = NewSecret("d2a6e1f0-secret-id-instead") },
			func(p *Provider) error { _, err := p.AppToken(t.Context(), customerA, graphScope); return err },
			ErrInvalidClient, "paste the secret value"},
		// 70000 is a refresh token that is not valid, not a revoked one.
		{"unknown refresh token", func(s *fakeSTS, _ *Credentials) { delete(s.rts, testRT) },
			func(p *Provider) error { _, err := p.Token(t.Context(), customerA, graphScope); return err },
			ErrRefreshTokenInvalid, "samctl setup"},
		{"wrong app", func(_ *fakeSTS, c *Credentials) { c.ApplicationID = "99999999-2222-3333-4444-555555555555" },
			func(p *Provider) error { _, err := p.AppToken(t.Context(), customerA, graphScope); return err },
			ErrAppNotFound, "application (client) ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSTS(t)
			c := testCredentials()
			if tt.setup != nil {
				tt.setup(s, &c)
			}
			p := newTestProvider(t, s, c)
			err := tt.call(p)
			var e *Error
			if !errors.Is(err, tt.is) || !errors.As(err, &e) {
				t.Fatalf("err = %v, want %v as a *Error", err, tt.is)
			}
			if !strings.Contains(e.Hint(), tt.hint) {
				t.Errorf("Hint() = %q, want it to contain %q", e.Hint(), tt.hint)
			}
			if e.TraceID == "" || e.Endpoint == "" || strings.Contains(e.Endpoint, "?") {
				t.Errorf("trace %q endpoint %q; want both, the endpoint without query", e.TraceID, e.Endpoint)
			}
			if s.callCount() != 1 {
				t.Errorf("calls = %d, want 1: errors are not retried", s.callCount())
			}
		})
	}
}

func TestThrottlingRetried(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	var throttled atomic.Int32
	s.fault = func(w http.ResponseWriter, _ stsCall) bool {
		if throttled.Add(1) > 2 {
			return false
		}
		w.Header().Set("Retry-After", "0.01")
		aadError(w, http.StatusTooManyRequests, "temporarily_unavailable", 50196, "The server terminated an operation because it encountered a client request loop.", "")
		return true
	}
	p := newTestProvider(t, s, testCredentials())
	if _, err := p.Token(t.Context(), customerA, graphScope); err != nil {
		t.Fatalf("after two 429s: %v", err)
	}
	if s.callCount() != 3 {
		t.Errorf("calls = %d, want 3", s.callCount())
	}

	always := newSTS(t)
	always.fault = func(w http.ResponseWriter, _ stsCall) bool {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	p = newTestProvider(t, always, testCredentials())
	_, err := p.Token(t.Context(), customerA, graphScope)
	if !errors.Is(err, ErrThrottled) {
		t.Errorf("err = %v, want ErrThrottled", err)
	}
	if always.callCount() != 4 {
		t.Errorf("calls = %d, want the 4 attempts of the policy", always.callCount())
	}
}

func TestServerErrorsRetried(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	var failed atomic.Bool
	s.fault = func(w http.ResponseWriter, _ stsCall) bool {
		if failed.Swap(true) {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body>Bad Gateway</body></html>")
		return true
	}
	p := newTestProvider(t, s, testCredentials())
	if _, err := p.Token(t.Context(), customerA, graphScope); err != nil || s.callCount() != 2 {
		t.Errorf("502 then 200: err %v, calls %d; want success after 2", err, s.callCount())
	}
}

func TestTransportErrorIsRedacted(t *testing.T) {
	t.Parallel()
	c := cloud.Public
	c.LoginEndpoint = "http://127.0.0.1:1" // nothing listens on port 1
	p, err := NewProvider(testCredentials(), WithCloud(c), WithRetryPolicy(fastRetryPolicy()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Token(t.Context(), customerA, graphScope)
	if err == nil || !strings.Contains(err.Error(), "requesting a delegated token for tenant "+customerA) {
		t.Fatalf("err = %v, want a transport error naming the tenant", err)
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testRT) {
		t.Errorf("error leaks a secret: %v", err)
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	s.certKey = nil
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := newTestProvider(t, s, testCredentials(), WithLogger(log))
	tok, err := p.Token(t.Context(), customerA, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.AppToken(t.Context(), "nowhere.example", graphScope)
	_, _ = p.LegacyExchangeToken(t.Context(), customerB)
	out := buf.String()
	for _, leak := range []string{testSecret, testRT, testExRT, "1.AQ-rotated", tok.AccessToken.Reveal(), "eyJ"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaks %q:\n%s", leak, out)
		}
	}
	for _, want := range []string{`"msg":"token request"`, `"tenant":"` + customerA + `"`, `"scope":"` + graphScope + `"`, `"grant":"refresh_token"`,
		`"status":200`, `"trace_id":"trace-ok-1"`, `"duration"`, `"msg":"token request failed"`, `"trace_id":"0f1e2d3c-trace"`, `"grant":"client_credentials"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestNewProviderOptions(t *testing.T) {
	t.Parallel()
	bad := cloud.Public
	bad.LoginEndpoint = "http://login.example"
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"insecure cloud", []Option{WithCloud(bad)}, "WithCloud"},
		{"negative window", []Option{WithExpiryWindow(-time.Second)}, "WithExpiryWindow"},
	}
	for _, tt := range tests {
		if _, err := NewProvider(testCredentials(), tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming %s", tt.name, err, tt.want)
		}
	}
	p, err := NewProvider(testCredentials(), WithHTTPClient(nil), WithLogger(nil), WithClock(nil), WithRefreshTokenStore(nil), WithExpiryWindow(0))
	if err != nil {
		t.Fatalf("nil options: %v", err)
	}
	if p.Cloud().Name != "public" || p.HTTPClient() == nil || p.now == nil {
		t.Error("nil options did not keep the defaults")
	}
}

func TestSecretIDShapeWarned(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := testCredentials()
	c.ClientSecret = NewSecret("d2a6e1f0-1234-4abc-9def-0123456789ab")
	if _, err := NewProvider(c, WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "secret's ID") || strings.Contains(buf.String(), "d2a6e1f0") {
		t.Errorf("log = %q, want a warning that does not quote the value", buf.String())
	}
}
