package testserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest/inproc"
)

func TestSandboxWorld(t *testing.T) {
	t.Parallel()
	s, info := NewSandbox(SandboxSpec{})
	defer s.Close()

	if len(info.Customers) != DefaultSandboxCustomers {
		t.Fatalf("got %d customers, want %d", len(info.Customers), DefaultSandboxCustomers)
	}
	problems := map[Problem]int{}
	for _, c := range info.Customers {
		problems[c.Problem]++
	}
	for _, p := range []Problem{ProblemConsentBlocked, ProblemOutsideGDAPGroups, ProblemMFARequired, ProblemExchangeDenied, ProblemThrottled, ProblemDeleted} {
		if problems[p] != 1 {
			t.Errorf("got %d customers with problem %q, want 1", problems[p], p)
		}
	}
	if got := len(info.Broken()); got != 5 {
		t.Errorf("got %d broken customers, want 5 (every problem but throttling)", got)
	}
	if info.BootstrapClientID != GraphCommandLineToolsID || s.BootstrapClientID != GraphCommandLineToolsID {
		t.Errorf("bootstrap client %s, want %s", info.BootstrapClientID, GraphCommandLineToolsID)
	}
	if info.App != nil || info.RefreshToken != "" {
		t.Error("a sandbox without SandboxSpec.App has a SAM app")
	}

	names, domains := map[string]bool{}, map[string]bool{}
	s.Read(func(w *World) {
		// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code#expected-errors
		if w.DeviceCode.PendingPolls != 1 {
			t.Errorf("device code pending polls %d, want 1: outside tools must see authorization_pending once", w.DeviceCode.PendingPolls)
		}
		if w.Apps[GraphCommandLineToolsID] == nil || w.Partner.ServicePrincipalByAppID(GraphCommandLineToolsID) == nil {
			t.Error("the bootstrap client is not registered and consented under Graph Command Line Tools' id")
		}
		mlt, gdap, ended := 0, 0, map[string]int{}
		for _, r := range w.Partner.Relationships {
			switch {
			case r.Status == RelExpired || r.Status == RelTerminated:
				ended[r.Status]++
			case strings.HasPrefix(r.DisplayName, "MLT_"):
				mlt++
			default:
				gdap++
			}
		}
		if mlt != 2 || gdap != DefaultSandboxCustomers {
			t.Errorf("got %d MLT and %d other relationships, want 2 and %d", mlt, gdap, DefaultSandboxCustomers)
		}
		if ended[RelExpired] != 1 || ended[RelTerminated] != 1 {
			t.Errorf("ended relationships %v, want one expired and one terminated", ended)
		}
		if n := len(w.Partner.Customers); n != DefaultSandboxCustomers-1 {
			t.Errorf("Partner Center lists %d customers, want %d (all but the deleted one)", n, DefaultSandboxCustomers-1)
		}
		if n := len(w.Partner.Contracts); n <= 6 || n >= DefaultSandboxCustomers {
			t.Errorf("got %d contracts, want some customers with one and some without", n)
		}
		for _, c := range info.Customers {
			tn := w.Tenants[c.ID]
			if tn == nil || tn.DisplayName != c.Name || tn.DefaultDomain != c.Domain {
				t.Fatalf("customer %+v does not match the world", c)
			}
			if tn.Deleted != (c.Problem == ProblemDeleted) {
				t.Errorf("%s: deleted %v with problem %q", c.Name, tn.Deleted, c.Problem)
			}
			if c.MLT && w.Partner.RelationshipFor(c.ID).DisplayName[:4] == "MLT_" {
				t.Errorf("%s: the MLT relationship is the newest; the customer's own should be", c.Name)
			}
			names[c.Name], domains[c.Domain] = true, true
		}
	})
	if len(names) != len(info.Customers) || len(domains) != len(info.Customers) {
		t.Errorf("names or domains repeat: %d names, %d domains for %d customers", len(names), len(domains), len(info.Customers))
	}
}

func TestSandboxSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec       SandboxSpec
		total, bad int
	}{
		{SandboxSpec{Customers: 2}, 6, 5},
		{SandboxSpec{Customers: 3, Healthy: true}, 3, 0},
		{SandboxSpec{Customers: 450}, 450, 5},
	} {
		s, info := NewSandbox(tc.spec)
		s.Close()
		domains := map[string]bool{}
		for _, c := range info.Customers {
			domains[c.Domain] = true
		}
		if len(info.Customers) != tc.total || len(info.Broken()) != tc.bad || len(domains) != tc.total {
			t.Errorf("%+v: got %d customers (%d domains), %d broken; want %d, %d", tc.spec, len(info.Customers), len(domains), len(info.Broken()), tc.total, tc.bad)
		}
	}
}

// TestSandboxProblems checks that each problem customer fails exactly as
// its Problem says, with a consented SAM app, over the wire.
func TestSandboxProblems(t *testing.T) {
	t.Parallel()
	s, info := NewSandbox(SandboxSpec{App: true})
	defer s.Close()
	if info.App == nil || info.RefreshToken == "" || info.App.Secret == "" {
		t.Fatal("SandboxSpec.App gave no app, secret or refresh token")
	}
	redeem := func(tenant, resource string) tokenReply {
		return postToken(t, s, tenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {info.App.AppID},
			"client_secret": {info.App.Secret}, "refresh_token": {info.RefreshToken}, "scope": {resource + "/.default offline_access"}})
	}
	get := func(tenant, tok, path string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range info.Customers {
		g := redeem(c.ID, GraphResource)
		wantCode := map[Problem]int{ProblemConsentBlocked: 90099, ProblemOutsideGDAPGroups: 50020, ProblemMFARequired: 50076, ProblemDeleted: 90002}[c.Problem]
		switch {
		case c.Problem.BreaksGraph():
			if g.Status == http.StatusOK || len(g.codes()) == 0 || g.codes()[0] != wantCode {
				t.Errorf("%s (%s): Graph token got %d %v, want AADSTS%d", c.Name, c.Problem, g.Status, g.codes(), wantCode)
			}
			continue
		case g.Status != http.StatusOK:
			t.Errorf("%s (%s): Graph token got %d %v, want 200", c.Name, c.Problem, g.Status, g.codes())
			continue
		}
		graphTok := g.str("access_token")
		wantGraph := []int{http.StatusOK}
		if c.Problem == ProblemThrottled {
			wantGraph = []int{http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusOK}
		}
		for i, want := range wantGraph {
			if got := get(c.ID, graphTok, "/graph/v1.0/users?$top=1"); got != want {
				t.Errorf("%s (%s): GET /users #%d got %d, want %d", c.Name, c.Problem, i+1, got, want)
			}
		}
		x := redeem(c.ID, ExchangeResource)
		if x.Status != http.StatusOK {
			t.Errorf("%s (%s): Exchange token got %d %v", c.Name, c.Problem, x.Status, x.codes())
			continue
		}
		resp, _ := exoPost(t, s, exoURL(s, c.ID), x.str("access_token"), cmdlet("Get-OrganizationConfig", nil), nil)
		want := http.StatusOK
		if c.Problem.BreaksExchange() {
			want = http.StatusForbidden
		}
		if resp.StatusCode != want {
			t.Errorf("%s (%s): Get-OrganizationConfig got %d, want %d", c.Name, c.Problem, resp.StatusCode, want)
		}
	}
}

func TestSandboxLatency(t *testing.T) {
	t.Parallel()
	const latency = 40 * time.Millisecond
	s, _ := NewSandbox(SandboxSpec{Customers: 6, Latency: latency})
	defer s.Close()
	// In a bubble, served in process: the latency is fake time, exact.
	synctest.Test(t, func(t *testing.T) {
		c := &http.Client{Transport: inproc.Transport{Handler: s.Handler()}}
		start := time.Now()
		resp, err := c.Get(s.URL() + "/common/v2.0/.well-known/openid-configuration")
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, latency, time.Since(start), "the sandbox's latency")
	})
}
