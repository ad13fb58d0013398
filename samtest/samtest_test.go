package samtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

// start starts a fake for one test and closes it at the test's end.
func start(t *testing.T, w samtest.World, opts ...samtest.Option) (*samtest.Server, *token.Provider) {
	t.Helper()
	srv, err := samtest.NewServer(w, opts...)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	p, err := srv.Provider()
	require.NoError(t, err)
	return srv, p
}

func problems(cs []samtest.Customer) (healthy int, broken []samtest.Problem) {
	for _, c := range cs {
		if c.Problem == samtest.Healthy {
			healthy++
		} else {
			broken = append(broken, c.Problem)
		}
	}
	return healthy, broken
}

func TestNewServerBuildsTheWorldAskedFor(t *testing.T) {
	t.Parallel()
	all := []samtest.Problem{samtest.ConsentBlocked, samtest.OutsideGDAPGroups, samtest.MFARequired,
		samtest.ExchangeDenied, samtest.Throttled, samtest.Deleted}
	for _, tc := range []struct {
		name    string
		world   samtest.World
		healthy int
		broken  []samtest.Problem
	}{
		{"zero value: no customer", samtest.World{}, 0, nil},
		{"healthy only", samtest.World{Customers: 2}, 2, nil},
		{"broken only", samtest.World{Broken: true}, 0, all},
		{"both", samtest.World{Customers: 3, Broken: true}, 3, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, err := samtest.NewServer(tc.world, samtest.InMemory())
			require.NoError(t, err)
			defer srv.Close()
			healthy, broken := problems(srv.Customers())
			assert.Equal(t, tc.healthy, healthy, "healthy customers")
			assert.Equal(t, tc.broken, broken, "broken customers, one per problem, first")
			partner, ok := srv.Tenant(srv.Credentials().TenantID)
			require.True(t, ok, "the partner tenant is readable")
			assert.True(t, partner.Consented, "the SAM app is consented in the partner tenant")
		})
	}
}

func TestNewServerRejectsAnImpossibleWorld(t *testing.T) {
	t.Parallel()
	for _, w := range []samtest.World{{Customers: -1}, {Latency: -time.Second}, {PageSize: -1},
		{GDAPDelay: -time.Minute}, {CredentialDelay: -time.Second},
		{Manifest: sam.Manifest{Resources: []sam.ResourceAccess{{ResourceAppID: "graph"}}}}} {
		_, err := samtest.NewServer(w)
		assert.Error(t, err, "%+v", w)
	}
}

// TestBrokenCustomersFailAsMicrosoftDoes checks that each problem reaches
// a client as the error samkit's callers branch on.
func TestBrokenCustomersFailAsMicrosoftDoes(t *testing.T) {
	t.Parallel()
	srv, p := start(t, samtest.World{Broken: true}, samtest.InMemory())
	want := map[samtest.Problem]error{
		samtest.ConsentBlocked:    token.ErrConsentRequired,
		samtest.OutsideGDAPGroups: token.ErrNotInGDAPGroups,
		samtest.MFARequired:       token.ErrMFARequired,
		samtest.Deleted:           token.ErrTenantNotFound,
		samtest.ExchangeDenied:    nil, // Graph works; Exchange refuses the admin
		samtest.Throttled:         nil, // only Graph's /users is throttled
	}
	for _, c := range srv.Customers() {
		_, err := p.Token(t.Context(), c.ID, p.Cloud().Graph.Scope())
		if w := want[c.Problem]; w == nil {
			assert.NoError(t, err, "%s (%s)", c.Name, c.Problem)
		} else {
			assert.ErrorIs(t, err, w, "%s (%s)", c.Name, c.Problem)
		}
		assert.NotEmpty(t, c.Problem.Describe(), c.Problem)
	}
}

func TestAddCustomer(t *testing.T) {
	t.Parallel()
	srv, p := start(t, samtest.World{}, samtest.InMemory())
	c, err := srv.AddCustomer(samtest.CustomerSpec{Name: "Fabrikam", Domain: "fabrikam.example", NotConsented: true})
	require.NoError(t, err)
	assert.Equal(t, []samtest.Customer{c}, srv.Customers())
	_, err = p.Token(t.Context(), "fabrikam.example", p.Cloud().Graph.Scope())
	assert.ErrorIs(t, err, token.ErrConsentRequired, "NotConsented leaves the app out")

	d, err := srv.AddCustomer(samtest.CustomerSpec{Name: "Proseware"})
	require.NoError(t, err)
	tok, err := p.AppToken(t.Context(), d.ID, p.Cloud().Graph.Scope())
	require.NoError(t, err, "a new customer is consented by default")
	claims, err := tok.Claims()
	require.NoError(t, err)
	assert.Equal(t, d.ID, claims.TenantID)

	for _, bad := range []samtest.CustomerSpec{
		{Problem: "on-fire"},
		{Domain: "fabrikam.example"},
		{ID: c.ID},
		{ID: srv.Credentials().TenantID},
	} {
		_, err := srv.AddCustomer(bad)
		assert.Error(t, err, "%+v", bad)
	}
	assert.Len(t, srv.Customers(), 2, "a refused customer is not added")
}

func TestInjectValidates(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, samtest.World{}, samtest.InMemory())
	for _, f := range []samtest.Fault{
		{Kind: samtest.Huge + 1},
		{Kind: samtest.Throttle, Count: -1},
		{Kind: samtest.Status},
		{Kind: samtest.Status, Status: 200},
	} {
		assert.Error(t, srv.Inject(f), "%+v", f)
	}
	assert.NoError(t, srv.Inject(samtest.Fault{Kind: samtest.Status, Status: 503}))
	assert.Equal(t, "FaultKind(99)", samtest.FaultKind(99).String())
}

func TestFaultsReachTheClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault  samtest.Fault
		status int // 0: a transport error
	}{
		{samtest.Fault{Kind: samtest.Status, Status: 503}, 503},
		{samtest.Fault{Kind: samtest.Throttle, RetryAfter: "7"}, 429},
		{samtest.Fault{Kind: samtest.HTML}, 502},
		{samtest.Fault{Kind: samtest.Empty}, 200},
		{samtest.Fault{Kind: samtest.Reset}, 0},
	} {
		t.Run(tc.fault.Kind.String(), func(t *testing.T) {
			t.Parallel()
			srv, _ := start(t, samtest.World{}, samtest.InMemory())
			f := tc.fault
			f.Service, f.Count = "graph", 1
			require.NoError(t, srv.Inject(f))
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.Cloud().Graph.Endpoint+"/v1.0/organization", nil)
			require.NoError(t, err)
			req.Header.Set("User-Agent", "tool/1")
			resp, err := srv.Client().Do(req)
			if tc.status == 0 {
				require.Error(t, err, "a reset is a transport error")
			} else {
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tc.status, resp.StatusCode)
			}
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, samtest.Request{Time: reqs[0].Time, Method: "GET", Service: "graph", Path: "/graph/v1.0/organization",
				Status: tc.status, Fault: f.Kind.String(), UserAgent: "tool/1"}, reqs[0])
			srv.ResetRequests()
			assert.Empty(t, srv.Requests())
		})
	}
}

func TestBrokenCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		breakIt func(*samtest.Server) error
		want    error
	}{
		{"expired secret", (*samtest.Server).ExpireSecret, token.ErrSecretExpired},
		{"revoked sessions", (*samtest.Server).RevokeSessions, token.ErrRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, p := start(t, samtest.World{Customers: 1}, samtest.InMemory())
			tenant := srv.Customers()[0].ID
			_, err := p.Token(t.Context(), tenant, p.Cloud().Graph.Scope())
			require.NoError(t, err, "the credentials work before")
			require.NoError(t, tc.breakIt(srv))
			_, err = p.Token(t.Context(), tenant, p.Cloud().Exchange.Scope())
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestAdvanceExpiresTokens(t *testing.T) {
	t.Parallel()
	srv, p := start(t, samtest.World{Customers: 1}, samtest.InMemory())
	tok, err := p.Token(t.Context(), srv.Customers()[0].ID, p.Cloud().Graph.Scope())
	require.NoError(t, err)
	call := func() int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.Cloud().Graph.Endpoint+"/v1.0/organization", nil)
		require.NoError(t, err)
		tok.SetAuthHeader(req)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, call())
	srv.Advance(2 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, call(), "Graph refuses a token past its expiry")
}

// TestInMemoryRunsInASynctestBubble shows what InMemory is for: a slow,
// throttled world tested in fake time, with exact waits.
func TestInMemoryRunsInASynctestBubble(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const latency = 2 * time.Second
		srv, p := start(t, samtest.World{Customers: 2, Latency: latency}, samtest.InMemory())
		start := time.Now()
		for _, c := range srv.Customers() {
			_, err := p.Token(t.Context(), c.ID, p.Cloud().Graph.Scope())
			require.NoError(t, err)
		}
		sent := len(srv.Requests())
		require.Equal(t, 2, sent, "one token request per customer")
		assert.Equal(t, time.Duration(sent)*latency, time.Since(start), "every request waited World.Latency, in fake time")

		customer := srv.Customers()[0].ID
		require.NoError(t, srv.Inject(samtest.Fault{Kind: samtest.Throttle, Service: "graph", Count: 1, RetryAfter: "30"}))
		g, err := graph.New(p.Source(customer, p.Cloud().Graph.Scope()), graph.WithCloud(p.Cloud()), graph.WithHTTPClient(p.HTTPClient()))
		require.NoError(t, err)
		start = time.Now()
		_, err = g.Organization(t.Context())
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Second+2*latency, "the client waited out Retry-After")
	})
}

func TestLatencyEndsWithTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, p := start(t, samtest.World{Customers: 1, Latency: time.Hour}, samtest.InMemory())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := p.Token(ctx, srv.Customers()[0].ID, p.Cloud().Graph.Scope())
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Empty(t, srv.Requests(), "the request never reached the fake")
	})
}

func TestInMemoryReachesOnlyTheFake(t *testing.T) {
	t.Parallel()
	srv, err := samtest.NewServer(samtest.World{}, samtest.InMemory())
	require.NoError(t, err)
	get := func(url string) error {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	assert.ErrorContains(t, get("https://graph.microsoft.com/v1.0/organization"), "reaches only the fake")
	assert.NoError(t, get(srv.URL()+"/common/v2.0/.well-known/openid-configuration"))
	srv.Close()
	assert.ErrorContains(t, get(srv.URL()+"/common/v2.0/.well-known/openid-configuration"), "closed")
}

func TestServesOverTLSByDefault(t *testing.T) {
	t.Parallel()
	srv, p := start(t, samtest.World{Customers: 1})
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, srv.URL())
	_, err := p.AppToken(t.Context(), srv.Customers()[0].ID, p.Cloud().Graph.Scope())
	assert.NoError(t, err)
	_, err = http.Get(srv.URL())
	assert.Error(t, err, "a client that does not trust the fake's certificate is refused")
}

func TestPageSize(t *testing.T) {
	t.Parallel()
	srv, p := start(t, samtest.World{Customers: 1, PageSize: 2}, samtest.InMemory())
	customer := srv.Customers()[0]
	g, err := graph.New(p.Source(customer.ID, p.Cloud().Graph.Scope()), graph.WithCloud(p.Cloud()), graph.WithHTTPClient(p.HTTPClient()))
	require.NoError(t, err)
	tenant, ok := srv.Tenant(customer.ID)
	require.True(t, ok)
	var upns []string
	for u, err := range g.Users(t.Context(), graph.ListOptions{}) {
		require.NoError(t, err)
		upns = append(upns, u.UserPrincipalName)
	}
	want := make([]string, 0, len(tenant.Users))
	for _, u := range tenant.Users {
		want = append(want, u.UPN)
	}
	assert.ElementsMatch(t, want, upns, "every user, across pages")
	pages := 0
	for _, r := range srv.Requests() {
		if r.Path == "/graph/v1.0/users" {
			pages++
		}
	}
	assert.Equal(t, (len(want)+1)/2, pages, "two users a page")
}

// TestInMemoryConcurrentUse sends requests from many goroutines at once,
// as an access check does, for the race detector to see.
func TestInMemoryConcurrentUse(t *testing.T) {
	t.Parallel()
	srv, p := start(t, samtest.World{Customers: 4}, samtest.InMemory())
	customers := srv.Customers()
	errs := make(chan error, 2*len(customers))
	for _, c := range customers {
		for _, scope := range []string{p.Cloud().Graph.Scope(), p.Cloud().Exchange.Scope()} {
			go func() {
				_, err := p.Token(t.Context(), c.ID, scope)
				errs <- err
			}()
		}
	}
	for range 2 * len(customers) {
		assert.NoError(t, <-errs)
	}
	assert.Len(t, srv.Requests(), 2*len(customers), "one token request per tenant and resource")
}
