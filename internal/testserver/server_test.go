package testserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/samkit/samkit/internal/faulttest/inproc"
)

func get(t *testing.T, s *Server, path string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

func TestNewWorld(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	p := s.Partner()
	if p.TenantID == "" || !strings.HasPrefix(p.AdminUPN, "admin@") {
		t.Fatalf("partner = %+v, want a tenant with an admin", p)
	}
	id := s.AddCustomer(CustomerSpec{Name: "Fabrikam", GDAP: true, Contract: true, PartnerCenter: true})
	s.Read(func(w *World) {
		c := w.TenantByIDOrDomain("fabrikam.onmicrosoft.com")
		if c == nil || c.ID != id {
			t.Fatalf("customer not found by domain")
		}
		if c.ServicePrincipalByAppID(GraphAppID) == nil {
			t.Error("customer lacks the Graph service principal every tenant has")
		}
		if r := w.Partner.RelationshipFor(id); r == nil || r.Status != "active" || !r.AdminInGroups {
			t.Errorf("relationship = %+v, want active with the admin in its groups", r)
		}
		if len(w.Partner.Contracts) != 1 || len(w.Partner.Customers) != 1 {
			t.Errorf("contracts %d, customers %d; want 1 and 1", len(w.Partner.Contracts), len(w.Partner.Customers))
		}
		admin := w.Partner.Admin()
		if !admin.MFA || admin.Roles[0] != GlobalAdminTemplateID || !w.Partner.GroupByName(AdminAgentsGroupName).Members[admin.ID] {
			t.Errorf("partner admin %+v is not an MFA Global Admin in AdminAgents", admin)
		}
	})
}

func TestGrantConsent(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{GDAP: true})
	app := &App{ObjectID: newID(), AppID: newID(), DisplayName: "SAM", RequiredResourceAccess: []RequiredResourceAccess{
		{ResourceAppID: GraphAppID, ResourceAccess: []ResourceAccess{
			{ID: "a154be20-db9c-4678-8ab7-66f6cc099a59", Type: "Scope"},
			{ID: "7ab1d382-f21e-4acd-a863-ba3e13f7da61", Type: "Role"}}},
	}}
	s.Mutate(func(w *World) { w.Apps[app.AppID] = app })
	for range 2 { // consenting twice adds nothing
		if err := s.GrantConsent(app.AppID, cust); err != nil {
			t.Fatal(err)
		}
	}
	s.Read(func(w *World) {
		tn := w.Tenants[cust]
		sp := tn.ServicePrincipalByAppID(app.AppID)
		graph := tn.ServicePrincipalByAppID(GraphAppID)
		if got := tn.DelegatedScopes(sp.ID, graph.ID, "anyone"); len(got) != 1 || got[0] != "User.Read.All" {
			t.Errorf("delegated scopes = %v, want [User.Read.All]", got)
		}
		if got := tn.AppRoles(sp.ID, w.Apps[GraphAppID], graph.ID); len(got) != 1 || got[0] != "Directory.Read.All" {
			t.Errorf("app roles = %v, want [Directory.Read.All]", got)
		}
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	s.Inject(Fault{Kind: Throttle, Service: "graph", RetryAfter: "1.5", Count: 1})
	s.Inject(Fault{Kind: Reset, Path: "/reset", Count: 1})
	s.Inject(Fault{Kind: HTML, Path: "/html", Count: 1})

	resp, body, err := get(t, s, "/graph/v1.0/users")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1.5" || !strings.Contains(body, `"TooManyRequests"`) {
		t.Errorf("throttle: got %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, _, err = get(t, s, "/graph/v1.0/users")
	if err != nil || resp.StatusCode == 429 {
		t.Errorf("second request should not be throttled: %v %v", resp, err)
	}
	if _, _, err := get(t, s, "/x/reset"); err == nil {
		t.Error("reset: got a response, want a transport error")
	}
	resp, body, err = get(t, s, "/x/html")
	if err != nil || resp.StatusCode != 502 || !strings.HasPrefix(body, "<html>") {
		t.Errorf("html: got %v %q %v", resp, body, err)
	}
	if n := s.Count(func(r Request) bool { return r.Fault == "throttle" && r.Status == 429 }); n != 1 {
		t.Errorf("recorded throttled requests = %d, want 1", n)
	}
	if n := s.TotalRequests(); n != 4 {
		t.Errorf("total requests = %d, want 4", n)
	}
}

// TestLatencyAndHangHonourContext runs in a synctest bubble, the fake
// served in process: the client's timeout is fake time, so the hang is
// seen to end exactly at it, however busy the machine.
func TestLatencyAndHangHonourContext(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	s.Inject(Fault{Kind: Latency, Latency: time.Minute, Path: "/slow"})
	s.Inject(Fault{Kind: Hang, Path: "/hang"})
	const timeout = 200 * time.Millisecond
	for _, path := range []string{"/slow", "/hang"} {
		synctest.Test(t, func(t *testing.T) {
			c := &http.Client{Transport: inproc.Transport{Handler: s.Handler()}, Timeout: timeout}
			start := time.Now()
			resp, err := c.Get(s.URL() + path)
			if err == nil {
				resp.Body.Close()
			}
			var ue interface{ Timeout() bool }
			if assert.ErrorAs(t, err, &ue, "%s: want a client timeout", path) {
				assert.True(t, ue.Timeout(), "%s: %v is a timeout", path, err)
			}
			assert.Equal(t, timeout, time.Since(start), "%s: returned at the client's timeout", path)
		})
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	tok := s.sign(Claims{"aud": GraphResource, "tid": "x", "scp": "User.Read Directory.Read.All"})
	c, err := s.verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Has("directory.read.all") || c.Has("User.ReadWrite.All") {
		t.Errorf("Has() wrong for scp %q", c.String("scp"))
	}
	if _, err := s.verify(tok[:len(tok)-4] + "AAAA"); err == nil {
		t.Error("a tampered signature verified")
	}
}

func TestSigningKeyBits(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{1024, 2048} {
		s := New(WithSigningKeyBits(bits))
		tok := s.sign(Claims{"aud": GraphResource})
		if _, err := s.verify(tok); err != nil {
			t.Errorf("%d bits: %v", bits, err)
		}
		n := s.jwks("{tenantid}")["keys"].([]map[string]any)[0]["n"].(string)
		if got, _ := b64.DecodeString(n); len(got)*8 != bits {
			t.Errorf("JWKS modulus has %d bits, want %d", len(got)*8, bits)
		}
		s.Close()
	}
	defer func() {
		if recover() == nil {
			t.Error("WithSigningKeyBits(512) did not panic")
		}
	}()
	WithSigningKeyBits(512)
}
