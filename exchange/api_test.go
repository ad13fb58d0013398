package exchange_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// setupV2 is setup with the Admin API v2.0 and a delegated token holding
// Exchange.ManageV2.
func setupV2(t *testing.T, spec testserver.CustomerSpec, opts ...exchange.Option) *fixture {
	t.Helper()
	f := setup(t, spec, append([]exchange.Option{exchange.WithAPI(exchange.APIV2)}, opts...)...)
	f.src.mint = func() string { return f.srv.IssueAccessToken(v2Spec(f.tenant)) }
	return f
}

// v2Spec is adminSpec with the v2.0 API's delegated permission instead of
// Exchange.Manage.
func v2Spec(tenant string) testserver.TokenSpec {
	spec := adminSpec(tenant)
	spec.Scopes = []string{"Exchange.ManageV2"}
	return spec
}

func TestParseAPI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want exchange.API
		ok   bool
	}{
		{"v2", exchange.APIV2, true}, {"V2.0", exchange.APIV2, true}, {" beta ", exchange.APIBeta, true},
		{"InvokeCommand", exchange.APIBeta, true}, {"v3", "", false}, {"", "", false},
	} {
		got, err := exchange.ParseAPI(tc.in)
		assert.Equal(t, tc.want, got, "ParseAPI(%q)", tc.in)
		assert.Equal(t, tc.ok, err == nil, "ParseAPI(%q): %v", tc.in, err)
	}
	_, err := exchange.New(&source{mint: func() string { return "x" }}, "contoso.com", exchange.WithAPI("v3"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithAPI")
}

// Get-OrganizationConfig → OrganizationConfig, and so on, as the endpoint
// reference lists them
// (https://learn.microsoft.com/exchange/reference/admin-api-endpoints-reference).
func TestV2Endpoint(t *testing.T) {
	t.Parallel()
	for cmdlet, want := range map[string]string{
		"Get-OrganizationConfig": "OrganizationConfig", "get-accepteddomain": "AcceptedDomain", "Get-Mailbox": "Mailbox",
		"Set-Mailbox": "Mailbox", "Remove-MailboxFolderPermission": "MailboxFolderPermission",
		"Get-DistributionGroupMember": "DistributionGroupMember", "Get-DynamicDistributionGroupMember": "DynamicDistributionGroupMember",
		"Get-TransportRule": "",
	} {
		got, ok := exchange.V2Endpoint(cmdlet)
		assert.Equal(t, want, got, cmdlet)
		assert.Equal(t, want != "", ok, cmdlet)
	}
}

// Through v2.0, Get-Mailbox goes to the Mailbox endpoint and its pages are
// fetched by POSTing the same body to each next link, which stays on that
// endpoint; no InvokeCommand header is sent.
func TestV2FollowsNextLinks(t *testing.T) {
	t.Parallel()
	f := setupV2(t, testserver.CustomerSpec{Users: 4})
	f.srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })
	assert.Equal(t, exchange.APIV2, f.exo.API())

	var upns []string
	for m, err := range exchange.InvokeInto[mailbox](t.Context(), f.exo, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}) {
		require.NoError(t, err)
		upns = append(upns, m.UserPrincipalName)
	}
	assert.Len(t, upns, 5)
	assert.True(t, slices.IsSorted(upns), "%v", upns)

	reqs := f.cap.Requests()
	require.Len(t, reqs, 3, "three pages of two")
	for i, r := range reqs {
		b, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}`, string(b), "request %d", i)
		assert.Equal(t, "/exchange/adminapi/v2.0/"+f.tenant+"/Mailbox", r.URL.Path, "request %d", i)
		assert.Equal(t, "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+f.tenant, r.Header.Get("X-AnchorMailbox"))
		assert.Empty(t, r.Header.Get("X-CmdletName"), "request %d", i)
		assert.Empty(t, r.Header.Get("Prefer"), "request %d", i)
		assert.Equal(t, i > 0, r.URL.Query().Get("$skiptoken") != "", "request %d: %s", i, r.URL.RawQuery)
	}
}

func TestV2Errors(t *testing.T) {
	t.Parallel()
	t.Run("cmdlet of no v2.0 endpoint", func(t *testing.T) {
		t.Parallel()
		f := setupV2(t, testserver.CustomerSpec{})
		_, err := first(t, f.exo, "Get-TransportRule")
		require.ErrorIs(t, err, exchange.ErrNotInV2)
		assert.Contains(t, err.Error(), "APIBeta")
		assert.Empty(t, f.cap.Requests(), "refused before sending")
	})
	t.Run("cmdlet error", func(t *testing.T) {
		t.Parallel()
		f := setupV2(t, testserver.CustomerSpec{})
		var err error
		for _, err = range f.exo.Invoke(t.Context(), "Get-Mailbox", map[string]any{"Identity": "nobody"}) {
			break
		}
		var e *exchange.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, http.StatusBadRequest, e.StatusCode)
		assert.Equal(t, exchange.APIV2, e.API)
		assert.Contains(t, e.Message, "'nobody' couldn't be found")
		assert.Contains(t, e.Hint(), "does not exist")
	})
	t.Run("no Exchange role", func(t *testing.T) {
		t.Parallel()
		f := setupV2(t, testserver.CustomerSpec{ExchangeDeny: true})
		_, err := first(t, f.exo, "Get-OrganizationConfig")
		require.ErrorIs(t, err, exchange.ErrForbidden)
		assert.Contains(t, hint(err), "View-Only Organization Management")
		assert.Contains(t, hint(err), "Exchange Administrator")
		_, err = first(t, f.exo, "Get-Mailbox")
		require.ErrorIs(t, err, exchange.ErrForbidden)
		assert.Contains(t, hint(err), "Recipient Management")
	})
	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		f := setupV2(t, testserver.CustomerSpec{}, exchange.WithRetryPolicy(token.RetryPolicy{MaxAttempts: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}))
		f.srv.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "exchange", Tenant: f.tenant, Count: 5, RetryAfter: "1"})
		_, err := first(t, f.exo, "Get-OrganizationConfig")
		require.ErrorIs(t, err, exchange.ErrThrottled)
		assert.Len(t, f.cap.Requests(), 2, "MaxAttempts bounds the attempts")
	})
}

// A token without the API's permission is refused with 401 2000008, an
// *Error that errors.Is finds as ErrMissingPermission and whose hint names
// the permission that API needs.
func TestPermissionMissing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		api   exchange.API
		spec  func(tenant string) testserver.TokenSpec
		hint  string
		other string // a permission the hint must not ask for
	}{
		{"v2 with Exchange.Manage", exchange.APIV2, adminSpec, "Exchange.ManageV2", ""},
		{"v2 app-only with Exchange.ManageAsApp", exchange.APIV2, func(tenant string) testserver.TokenSpec {
			return testserver.TokenSpec{Tenant: tenant, Resource: testserver.ExchangeResource, Roles: []string{"Exchange.ManageAsApp"}}
		}, "Exchange.ManageAsAppV2", ""},
		{"beta with Exchange.ManageV2", exchange.APIBeta, v2Spec, "Exchange.Manage,", "ManageV2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, testserver.CustomerSpec{}, exchange.WithAPI(tc.api))
			f.src.mint = func() string { return f.srv.IssueAccessToken(tc.spec(f.tenant)) }
			_, err := first(t, f.exo, "Get-OrganizationConfig")
			require.ErrorIs(t, err, exchange.ErrMissingPermission)
			require.ErrorIs(t, err, exchange.ErrUnauthorized)
			var e *exchange.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "2000008", e.Code)
			assert.Equal(t, tc.api, e.API)
			assert.Contains(t, e.Hint(), tc.hint)
			if tc.other != "" {
				assert.NotContains(t, e.Hint(), tc.other)
			}
		})
	}
}

// With InvokeCommand switched off (410), the beta client's error is
// ErrEndpointGone and its hint points to v2.0, which still answers.
func TestInvokeCommandOff(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{})
	require.NoError(t, f.srv.Rehearse(testserver.RehearseInvokeCommandOff))
	_, err := first(t, f.exo, "Get-OrganizationConfig")
	require.ErrorIs(t, err, exchange.ErrEndpointGone)
	assert.Contains(t, hint(err), "--exchange-api v2")
	assert.Contains(t, hint(err), "exchange.APIV2")

	v2 := setupV2(t, testserver.CustomerSpec{})
	require.NoError(t, v2.srv.Rehearse(testserver.RehearseInvokeCommandOff))
	row, err := first(t, v2.exo, "Get-OrganizationConfig")
	require.NoError(t, err)
	var org struct{ Guid string }
	require.NoError(t, json.Unmarshal(row, &org))
	assert.Equal(t, v2.tenant, org.Guid)
}

// A v2.0 next link must stay on the endpoint the client called: one to
// InvokeCommand, or to another v2.0 endpoint, is refused.
func TestV2NextLinkStaysOnItsEndpoint(t *testing.T) {
	t.Parallel()
	const tenant = "contoso.onmicrosoft.com"
	for _, next := range []string{"/adminapi/beta/" + tenant + "/InvokeCommand", "/adminapi/v2.0/" + tenant + "/Mailbox"} {
		var calls []string
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls = append(calls, r.URL.Path)
			_ = json.NewEncoder(w).Encode(map[string]any{"value": []map[string]any{{"Name": "x"}}, "@odata.nextLink": srv.URL + next + "?$skiptoken=1"})
		}))
		c, err := exchange.New(&source{mint: func() string { return "eyJ.test.token" }}, tenant,
			exchange.WithBaseURL(srv.URL), exchange.WithHTTPClient(srv.Client()), exchange.WithAPI(exchange.APIV2))
		require.NoError(t, err)
		var last error
		rows := 0
		for _, err := range c.Invoke(t.Context(), "Get-OrganizationConfig", nil) {
			if err != nil {
				last = err
				break
			}
			rows++
		}
		srv.Close()
		assert.Equal(t, 1, rows, next)
		require.Error(t, last, next)
		assert.Contains(t, last.Error(), "another endpoint", next)
		assert.Equal(t, []string{"/adminapi/v2.0/" + tenant + "/OrganizationConfig"}, calls, next)
	}
}

// hostRewriter sends every request to the fake, keeping the host it was
// meant for in the Host header, as DNS pointing the cloud's hosts at the
// fake would; it records the URLs the client asked for.
type hostRewriter struct {
	fake *url.URL
	next http.RoundTripper
	mu   sync.Mutex
	urls []string
}

func (h *hostRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.urls = append(h.urls, r.URL.String())
	h.mu.Unlock()
	r = r.Clone(r.Context())
	r.Host = r.URL.Host
	r.URL.Scheme, r.URL.Host = h.fake.Scheme, h.fake.Host
	return h.next.RoundTrip(r)
}

// The v2.0 API is called on each cloud's host, as the get-started page's
// table of base URLs lists them
// (https://learn.microsoft.com/exchange/reference/admin-api-get-started),
// with a token for that cloud's Exchange audience.
func TestV2SovereignHosts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    cloud.Configuration
		host string
	}{
		{cloud.Public, "outlook.office365.com"},
		{cloud.USGovernment, "outlook.office365.us"},
		{cloud.USGovernmentDoD, "outlook-dod.office365.us"},
		{cloud.China, "outlook.office365.cn"},
	} {
		t.Run(tc.c.Name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(testserver.WithCloud(tc.c))
			t.Cleanup(srv.Close)
			tenant := srv.AddCustomer(testserver.CustomerSpec{})
			fake, err := url.Parse(srv.URL())
			require.NoError(t, err)
			rw := &hostRewriter{fake: fake, next: srv.Client().Transport}
			spec := v2Spec(tenant)
			spec.Resource = tc.c.Exchange.Resource
			exo, err := exchange.New(&source{mint: func() string { return srv.IssueAccessToken(spec) }}, tenant,
				exchange.WithCloud(tc.c), exchange.WithHTTPClient(&http.Client{Transport: rw}), exchange.WithAPI(exchange.APIV2))
			require.NoError(t, err)
			_, err = first(t, exo, "Get-OrganizationConfig")
			require.NoError(t, err)
			assert.Equal(t, []string{"https://" + tc.host + "/adminapi/v2.0/" + tenant + "/OrganizationConfig"}, rw.urls)
		})
	}
}
