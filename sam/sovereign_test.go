package sam

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
)

// TestSovereignCloudSetupThenCheck runs setup, then every access check, in
// each sovereign cloud against a fake that plays it: samkit is configured
// with the cloud itself (not the fake's address), reaches exactly that
// cloud's hosts, and the fake accepts only tokens issued for that cloud's
// audiences.
func TestSovereignCloudSetupThenCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []cloud.Configuration{cloud.USGovernment, cloud.USGovernmentDoD, cloud.China} {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := testserver.New(testserver.WithCloud(c))
			t.Cleanup(s.Close)
			s.Mutate(func(w *testserver.World) { w.DeviceCode.PendingPolls = 0 })
			customer := s.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam", GDAP: true, PartnerCenter: true})

			rec := &faulttest.Recorder{Next: sovereignTransport(t, s, c)}
			hc := &http.Client{Transport: rec}
			store := NewFileStore(filepath.Join(t.TempDir(), "credentials.json"), WithFileCloud(c))
			e := &setupEnv{t: t, s: s, store: store, browser: &http.Client{Transport: sovereignTransport(t, s, c)}}
			opts := e.options()
			opts.cloud, opts.httpClient = c, hc
			res := e.setup(ctx, opts)
			require.NoError(t, s.GrantConsent(res.App.AppID, customer), "the customer's CPV consent")

			saved, err := store.Cloud(ctx)
			require.NoError(t, err)
			require.Equal(t, c, saved, "the credentials record their cloud")
			// Open finds the cloud in the store: no WithCloud.
			sp, err := Open(ctx, store, WithHTTPClient(hc))
			require.NoError(t, err)
			require.Equal(t, c, sp.Cloud())
			var tenant Tenant
			s.Read(func(w *testserver.World) {
				ct := w.Tenants[customer]
				tenant = Tenant{ID: customer, DisplayName: ct.DisplayName, DefaultDomain: ct.DefaultDomain, Domains: []string{ct.DefaultDomain}}
			})
			rep, err := sp.Check(ctx, []Tenant{tenant},
				CheckOptions{Checks: Checks{DelegatedGraph: true, DelegatedExchange: true, AppGraph: true, PartnerCenter: true}})
			require.NoError(t, err)
			require.Len(t, rep.Tenants, 1)
			for _, cr := range rep.Tenants[0].Checks {
				assert.Equal(t, OutcomePassed, cr.Outcome, "%s in %s: %+v", cr.Check, c.Name, cr)
			}
			require.NotNil(t, rep.PartnerCenter)
			assert.Equal(t, OutcomePassed, rep.PartnerCenter.Outcome, "Partner Center in %s: %+v", c.Name, rep.PartnerCenter)

			want := []string{}
			for _, u := range []string{c.LoginEndpoint, c.Graph.Endpoint, c.PartnerCenter.Endpoint, c.Exchange.Endpoint} {
				want = append(want, hostOf(t, u))
			}
			var got []string
			for _, r := range rec.Requests() {
				got = append(got, r.URL.Hostname())
			}
			slices.Sort(want)
			slices.Sort(got)
			assert.Equal(t, slices.Compact(want), slices.Compact(got), "the hosts samkit reached in %s", c.Name)

			// Every token the fake issued was for one of the cloud's
			// audiences: the services refuse any other.
			audiences := map[string]bool{}
			for _, r := range s.Requests() {
				if r.IsToken() && r.Status == http.StatusOK {
					for _, sc := range strings.Fields(r.Form.Get("scope")) {
						if i := strings.LastIndex(sc, "/"); i > 0 && strings.HasPrefix(sc, "https://") {
							audiences[sc[:i]] = true
						}
					}
				}
			}
			for aud := range audiences {
				assert.Contains(t, []string{c.Graph.Resource, c.PartnerCenter.Resource, c.Exchange.Resource}, aud, "a token was asked for %s in %s", aud, c.Name)
			}
			for _, aud := range []string{c.Graph.Resource, c.PartnerCenter.Resource, c.Exchange.Resource} {
				assert.True(t, audiences[aud], "no token was asked for %s in %s", aud, c.Name)
			}
		})
	}
}

// sovereignTransport reaches the fake s for every host of cloud c, as DNS
// would reach Microsoft's, and trusts the fake's certificate for them;
// other hosts (the loopback listener of the consent sign-in) are dialled as
// they are.
func sovereignTransport(t *testing.T, s *testserver.Server, c cloud.Configuration) http.RoundTripper {
	t.Helper()
	fake := hostOf(t, s.URL())
	names := map[string]bool{}
	for _, u := range []string{c.LoginEndpoint, c.Graph.Endpoint, c.PartnerCenter.Endpoint, c.Exchange.Endpoint} {
		names[hostOf(t, u)] = true
	}
	roots := x509.NewCertPool()
	cert, err := x509.ParseCertificate(s.Certificate())
	require.NoError(t, err)
	roots.AddCert(cert)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err == nil && names[host] {
			addr = fake
		}
		return d.DialContext(ctx, network, addr)
	}
	// The fake's certificate names 127.0.0.1, not Microsoft's hosts: the
	// chain is checked against it, and the name only for other hosts.
	tr.TLSClientConfig = &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // verified below
		VerifyConnection: func(cs tls.ConnectionState) error {
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			if !names[cs.ServerName] {
				opts.DNSName = cs.ServerName
			}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		},
	}
	return tr
}

// hostOf returns the host of u: with its port for the fake (an address to
// dial), without for a cloud's endpoint (a name).
func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	if u.Port() != "" {
		return u.Host
	}
	return u.Hostname()
}
