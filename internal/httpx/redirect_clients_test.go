package httpx_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// The credentials of the redirect test: none may reach a redirect target.
const (
	clientSecret  = "client-S3CRET-value"
	refreshToken  = "refresh-T0KEN-value"
	exchangeToken = "exchange-refresh-T0KEN-value"
	bearerToken   = "bearer-ACCESS-t0ken"
)

// recorder is a server that notes everything that reaches it.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%s %s %v %s", req.Method, req.URL, req.Header, b))
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	// What an attacker would answer: a token of its own, an empty page.
	_, _ = io.WriteString(w, `{"access_token":"evil","refresh_token":"evil","expires_in":3600,"token_type":"Bearer","value":[],"items":[]}`)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// redirectWorld is an origin that answers every request with a redirect to
// target, and the servers a redirect may point to. Host names are mapped
// to the local servers by the client's dialer.
type redirectWorld struct {
	rec    *recorder
	client *http.Client
	cloud  cloud.Configuration
}

const origin = "svc.example.test"

func newRedirectWorld(t *testing.T, status int, target string) *redirectWorld {
	t.Helper()
	rec := &recorder{}
	tlsTarget := httptest.NewTLSServer(rec)
	t.Cleanup(tlsTarget.Close)
	plainTarget := httptest.NewServer(rec)
	t.Cleanup(plainTarget.Close)
	src := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", target+r.URL.Path+"?code=leaked-in-location")
		w.WriteHeader(status)
	}))
	t.Cleanup(src.Close)
	addrs := map[string]string{
		origin + ":443":                 src.Listener.Addr().String(),
		origin + ":80":                  plainTarget.Listener.Addr().String(),
		origin + ":8443":                tlsTarget.Listener.Addr().String(),
		"evil." + origin + ":443":       tlsTarget.Listener.Addr().String(),
		"attacker.example.net:443":      tlsTarget.Listener.Addr().String(),
		"login." + origin + ":443":      src.Listener.Addr().String(),
		"login.attacker.example.net:80": plainTarget.Listener.Addr().String(),
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			real, ok := addrs[addr]
			if !ok {
				return nil, fmt.Errorf("no test server at %s", addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, real)
		},
		// The test servers' certificate names none of the test hosts.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test servers only
	}
	t.Cleanup(tr.CloseIdleConnections)
	base := "https://" + origin
	c := cloud.Configuration{Name: "redirect-test", LoginEndpoint: base,
		Graph:         cloud.Service{Endpoint: base, Resource: "https://graph.microsoft.com"},
		PartnerCenter: cloud.Service{Endpoint: base, Resource: "https://api.partnercenter.microsoft.com"},
		Exchange:      cloud.Service{Endpoint: base, Resource: "https://outlook.office365.com"},
	}
	return &redirectWorld{rec: rec, client: &http.Client{Transport: tr}, cloud: c}
}

// staticSource hands out one bearer token.
type staticSource struct{}

func (staticSource) Token(context.Context) (token.Token, error) {
	return token.Token{AccessToken: token.NewSecret(bearerToken), Expiry: time.Now().Add(time.Hour), Kind: token.Delegated}, nil
}

// TestNoCredentialFollowsARedirect drives every client against every
// redirect status to another host, a subdomain, another port and plain
// http on the same host: nothing reaches the target, and the error names
// where the redirect pointed.
func TestNoCredentialFollowsARedirect(t *testing.T) {
	t.Parallel()
	targets := []struct{ name, url, wantHost string }{
		{"another host", "https://attacker.example.net", "https://attacker.example.net"},
		{"a subdomain", "https://evil." + origin, "https://evil." + origin},
		{"another port", "https://" + origin + ":8443", "https://" + origin + ":8443"},
		{"http on the same host", "http://" + origin, "http://" + origin},
	}
	statuses := []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}
	policy := token.RetryPolicy{MaxAttempts: 1}
	clients := []struct {
		name string
		call func(ctx context.Context, w *redirectWorld) error
	}{
		{"delegated token", func(ctx context.Context, w *redirectWorld) error {
			_, err := provider(t, w, policy).Token(ctx, "contoso.com", w.cloud.Graph.Scope())
			return err
		}},
		{"app-only token", func(ctx context.Context, w *redirectWorld) error {
			_, err := provider(t, w, policy).AppToken(ctx, "contoso.com", w.cloud.Graph.Scope())
			return err
		}},
		{"legacy Exchange token", func(ctx context.Context, w *redirectWorld) error {
			_, err := provider(t, w, policy).LegacyExchangeToken(ctx, "contoso.com")
			return err
		}},
		{"graph", func(ctx context.Context, w *redirectWorld) error {
			g, err := graph.New(staticSource{}, graph.WithCloud(w.cloud), graph.WithHTTPClient(w.client), graph.WithRetryPolicy(policy))
			require.NoError(t, err)
			_, err = g.Organization(ctx)
			return err
		}},
		{"partner", func(ctx context.Context, w *redirectWorld) error {
			p, err := partner.New(staticSource{}, partner.WithCloud(w.cloud), partner.WithHTTPClient(w.client), partner.WithRetryPolicy(policy))
			require.NoError(t, err)
			_, err = graph.Collect(p.Customers(ctx, partner.ListOptions{}))
			return err
		}},
		{"exchange", func(ctx context.Context, w *redirectWorld) error {
			x, err := exchange.New(staticSource{}, "contoso.com", exchange.WithCloud(w.cloud), exchange.WithHTTPClient(w.client), exchange.WithRetryPolicy(policy))
			require.NoError(t, err)
			_, err = graph.Collect(x.Invoke(ctx, "Get-Mailbox", nil))
			return err
		}},
	}
	for _, target := range targets {
		for _, status := range statuses {
			t.Run(fmt.Sprintf("%d to %s", status, target.name), func(t *testing.T) {
				t.Parallel()
				w := newRedirectWorld(t, status, target.url)
				for _, c := range clients {
					err := c.call(t.Context(), w)
					require.Error(t, err, "%s: a redirect must fail the call", c.name)
					msg := err.Error()
					assert.Contains(t, msg, fmt.Sprintf("answered %d, a redirect to %s", status, target.wantHost), c.name)
					for _, secret := range []string{clientSecret, refreshToken, exchangeToken, bearerToken, "leaked-in-location"} {
						assert.NotContains(t, msg, secret, "%s: the error quotes a secret", c.name)
					}
				}
				assert.Empty(t, w.rec.requests(), "requests reached the redirect target")
			})
		}
	}
}

func provider(t *testing.T, w *redirectWorld, policy token.RetryPolicy) *token.Provider {
	t.Helper()
	p, err := token.NewProvider(token.Credentials{
		TenantID: "contoso.com", ApplicationID: "11111111-2222-3333-4444-555555555555",
		ClientSecret: token.NewSecret(clientSecret), RefreshToken: token.NewSecret(refreshToken),
		ExchangeRefreshToken: token.NewSecret(exchangeToken),
	}, token.WithCloud(w.cloud), token.WithHTTPClient(w.client), token.WithRetryPolicy(policy))
	require.NoError(t, err)
	return p
}

// TestRedirectRefusedWithCallersClient checks that a caller's own client,
// which follows redirects, is neither followed nor modified.
func TestRedirectRefusedWithCallersClient(t *testing.T) {
	t.Parallel()
	w := newRedirectWorld(t, http.StatusTemporaryRedirect, "https://attacker.example.net")
	require.Nil(t, w.client.CheckRedirect)
	g, err := graph.New(staticSource{}, graph.WithCloud(w.cloud), graph.WithHTTPClient(w.client))
	require.NoError(t, err)
	_, err = g.Organization(t.Context())
	require.ErrorContains(t, err, "a redirect to https://attacker.example.net")
	assert.Nil(t, w.client.CheckRedirect, "the caller's client was modified")
	assert.Empty(t, w.rec.requests())
	assert.False(t, strings.Contains(err.Error(), bearerToken))
}
