package testserver

import (
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/cloud"
)

// Server is the fake Microsoft cloud. It is safe for concurrent use.
type Server struct {
	ts    *httptest.Server
	clock *Clock
	key   *rsa.PrivateKey
	kid   string
	cert  []byte // the signing key's certificate, DER

	mu    sync.Mutex
	world *World
	graph graphState // Graph-only bookkeeping (graph.go), guarded by mu

	rng        *rand.Rand         // token lifetimes; guarded by mu
	rehearsing map[Rehearsal]bool // staged switches (rehearsal.go); guarded by mu
	limits     tokenLimits        // token endpoint throttling; guarded by mu

	faults   faultQueue
	recorder recorder

	mem       *memoryTransport // with WithoutListener (memory.go)
	memClient *http.Client

	// cloud is the Microsoft cloud the fake plays: the resource
	// identifiers its tokens are issued for (cloud.Public by default).
	cloud cloud.Configuration

	// BootstrapClientID is a public client registered in the partner
	// tenant, standing in for the first-party client an admin signs in with
	// before the SAM app exists.
	BootstrapClientID string
}

// Option configures a Server.
type Option func(*config)

type config struct {
	cloud       cloud.Configuration
	listener    net.Listener
	recordLimit int
	partnerName string
	keyBits     int
	noListener  bool
	seed        uint64
}

// WithSeed seeds the generator of the server's random choices that a
// client can observe, such as access token lifetimes (World.
// AccessTokenLifetime). Servers with the same seed make the same choices
// in the same order; the default seed is 1.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithCloud makes the fake play cloud c: its Graph, Partner Center and
// Exchange apps have c's resource identifiers, so tokens are issued for
// (and services accept) c's audiences, as in that cloud. Whatever the
// cloud, the fake answers on its own address, by path (Server.Cloud), and
// on every host of the built-in clouds, for a client whose transport dials
// the fake for them.
func WithCloud(c cloud.Configuration) Option { return func(cfg *config) { cfg.cloud = c } }

// WithListener serves on l instead of a fresh loopback port (samctl sandbox
// uses it to serve on a fixed address).
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }

// WithRecordLimit caps how many requests are kept for Requests (counts are
// always kept). The default is 100,000; 0 keeps none.
func WithRecordLimit(n int) Option { return func(c *config) { c.recordLimit = n } }

// WithPartnerName names the partner tenant (default "Contoso Partner").
func WithPartnerName(name string) Option { return func(c *config) { c.partnerName = name } }

// WithSigningKeyBits signs tokens with an RSA key of bits bits instead of
// 2048, the size of Entra ID's keys. Signing is most of the fake's CPU: a
// benchmark that runs the fake on the same few cores as the client it
// measures may lighten it with 1024, so that it measures the client and not
// work the real service does on its own machines. Tokens stay RS256 and
// the JWKS publishes the key; clients, which treat tokens as opaque, see no
// difference. Sizes below 1024 are refused (panic), as crypto/rsa does.
func WithSigningKeyBits(bits int) Option {
	if bits < 1024 {
		panic("testserver: WithSigningKeyBits: an RSA key needs 1024 bits or more")
	}
	return func(c *config) { c.keyBits = bits }
}

// New starts a fake cloud on a loopback TLS listener. Close it when done.
func New(opts ...Option) *Server {
	cfg := config{cloud: cloud.Public, recordLimit: 100_000, partnerName: "Contoso Partner", keyBits: 2048, seed: 1}
	for _, o := range opts {
		o(&cfg)
	}
	sk := signingKey(cfg.keyBits)
	s := &Server{clock: &Clock{}, key: sk.key, kid: sk.kid, cert: sk.cert, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed)), cloud: cfg.cloud}
	s.recorder.limit = cfg.recordLimit
	s.world = s.newWorld(cfg.partnerName)

	if cfg.noListener {
		s.serveInMemory(s.handler())
		return s
	}
	s.ts = httptest.NewUnstartedServer(s.handler())
	if cfg.listener != nil {
		s.ts.Listener.Close()
		s.ts.Listener = cfg.listener
	}
	s.ts.EnableHTTP2 = true
	s.ts.StartTLS()
	return s
}

// accessLifetimeLocked is the lifetime of the next access token:
// World.AccessTokenLifetime, or a whole number of seconds picked in
// [60 min, 90 min] when that is 0.
func (s *Server) accessLifetimeLocked() time.Duration {
	if d := s.world.AccessTokenLifetime; d != 0 {
		return d
	}
	const lo, hi = 60 * 60, 90 * 60
	return time.Duration(lo+s.rng.IntN(hi-lo+1)) * time.Second
}

// URL is the server's base URL, https://127.0.0.1:port (or, WithoutListener,
// https://fake.samkit.invalid).
func (s *Server) URL() string { return s.ts.URL }

// Client returns an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client {
	if s.mem != nil {
		return s.memClient
	}
	return s.ts.Client()
}

// TLSConfig returns a TLS configuration that trusts the server (nil
// WithoutListener).
func (s *Server) TLSConfig() *tls.Config {
	if s.mem != nil {
		return nil
	}
	return s.ts.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

// Certificate returns the server's TLS certificate in PEM-less DER form, for
// clients in other languages (samctl sandbox prints it).
func (s *Server) Certificate() []byte {
	if s.mem != nil {
		return nil
	}
	return s.ts.Certificate().Raw
}

// Close stops the server.
func (s *Server) Close() {
	if s.mem != nil {
		s.mem.closed.Store(true)
		return
	}
	s.ts.Close()
}

// Clock returns the server's settable clock.
func (s *Server) Clock() *Clock { return s.clock }

// Cloud returns a configuration pointing every service at this server,
// with the resource identifiers of the cloud it plays.
func (s *Server) Cloud() cloud.Configuration {
	return cloud.Configuration{
		Name:          "sandbox",
		LoginEndpoint: s.ts.URL,
		Graph:         cloud.Service{Endpoint: s.ts.URL + "/graph", Resource: s.cloud.Graph.Resource},
		PartnerCenter: cloud.Service{Endpoint: s.ts.URL + "/partner", Resource: s.cloud.PartnerCenter.Resource},
		Exchange:      cloud.Service{Endpoint: s.ts.URL + "/exchange", Resource: s.cloud.Exchange.Resource},
	}
}

// resource returns the identifier that the cloud the fake plays gives the
// service whose public identifier is public (GraphResource,
// PartnerCenterResource or ExchangeResource).
func (s *Server) resource(public string) string {
	switch public {
	case GraphResource:
		return s.cloud.Graph.Resource
	case PartnerCenterResource:
		return s.cloud.PartnerCenter.Resource
	case ExchangeResource:
		return s.cloud.Exchange.Resource
	}
	return public
}

// serviceHosts maps the Graph, Partner Center and Exchange hosts of every
// built-in cloud to the service the fake serves there (without a path
// prefix); any other host, the login hosts among them, is served by path:
// /graph, /partner, /exchange, and the identity platform at the root.
var serviceHosts = func() map[string]string {
	m := map[string]string{}
	for _, c := range cloud.Builtins() {
		for svc, endpoint := range map[string]string{"graph": c.Graph.Endpoint, "partner": c.PartnerCenter.Endpoint, "exchange": c.Exchange.Endpoint} {
			if u, err := url.Parse(endpoint); err == nil {
				m[strings.ToLower(u.Hostname())] = svc
			}
		}
	}
	return m
}()

// Mutate runs fn over the world under the server's lock.
func (s *Server) Mutate(fn func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.world)
}

// Read runs fn over the world under the server's lock; fn must not change it.
func (s *Server) Read(fn func(w *World)) { s.Mutate(fn) }

// Partner returns a snapshot of the partner tenant's identity.
func (s *Server) Partner() PartnerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.world.Partner
	a := p.Admin()
	return PartnerInfo{TenantID: p.ID, Domain: p.DefaultDomain, Name: p.DisplayName, AdminID: a.ID, AdminUPN: a.UPN}
}

// PartnerInfo identifies the partner tenant and its admin.
type PartnerInfo struct {
	TenantID, Domain, Name string
	AdminID, AdminUPN      string
}

func (s *Server) newWorld(partnerName string) *World {
	now := s.clock.Now()
	w := &World{
		Tenants:             map[string]*Tenant{},
		Apps:                map[string]*App{},
		RefreshTokens:       map[string]*RefreshToken{},
		AuthCodes:           map[string]*AuthCode{},
		DeviceCodes:         map[string]*DeviceCode{},
		RefreshIdleLifetime: defaultRefreshIdleLife,
		GDAPDelay:           time.Minute,
		DeviceCode:          DeviceCodePolicy{PendingPolls: 1, Interval: 1, Lifetime: 15 * time.Minute},
	}
	for _, a := range firstPartyApps() {
		a.ObjectID, a.CreatedAt = newID(), now
		if a.Resource != "" {
			a.Resource = s.resource(a.Resource)
		}
		w.Apps[a.AppID] = a
	}
	p := newTenant(newID(), partnerName, domainFor(partnerName))
	w.Partner = p
	w.Tenants[p.ID] = p
	s.seedTenant(w, p, 0)
	admin := &User{ID: newID(), UPN: "admin@" + p.DefaultDomain, DisplayName: "Partner Admin", HomeTenant: p.ID,
		Roles: []string{GlobalAdminTemplateID}, MFA: true}
	p.Users[admin.ID] = admin
	agents := &Group{ID: newID(), DisplayName: AdminAgentsGroupName, Members: map[string]bool{admin.ID: true}}
	p.Groups[agents.ID] = agents

	boot := &App{ObjectID: newID(), AppID: newID(), DisplayName: "samkit bootstrap (sandbox)", HomeTenant: p.ID,
		SignInAudience: "AzureADMultipleOrgs", PublicClient: true, IsFallbackPublicClient: true, CreatedAt: now,
		PublicRedirectURIs: []string{"http://localhost", "https://login.microsoftonline.com/common/oauth2/nativeclient"}}
	w.Apps[boot.AppID] = boot
	s.BootstrapClientID = boot.AppID
	// The bootstrap client stands in for a first-party tool with broad
	// directory rights, consented in the partner tenant.
	bootSP := p.AddServicePrincipal(boot, now)
	graphSP := p.ServicePrincipalByAppID(GraphAppID)
	grantID := newID()
	p.Grants[grantID] = &Grant{ID: grantID, ClientID: bootSP.ID, ConsentType: "AllPrincipals", ResourceID: graphSP.ID,
		Scope: "User.Read Directory.AccessAsUser.All Application.ReadWrite.All Directory.ReadWrite.All " +
			"AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All DelegatedAdminRelationship.Read.All", CreatedAt: now}
	return w
}

// seedTenant gives a new tenant the first-party service principals every
// Entra tenant has and n ordinary users.
func (s *Server) seedTenant(w *World, t *Tenant, n int) {
	now := s.clock.Now()
	for _, id := range []string{GraphAppID, ExchangeAppID, PartnerCenterAppID, ExchangePowerShellID} {
		t.AddServicePrincipal(w.Apps[id], now)
	}
	for i := 1; i <= n; i++ {
		u := &User{ID: newID(), UPN: fmt.Sprintf("user%d@%s", i, t.DefaultDomain), DisplayName: fmt.Sprintf("User %d", i), HomeTenant: t.ID}
		t.Users[u.ID] = u
	}
}

// AddCustomer adds a customer tenant and the partner's relationships with it,
// and returns its tenant id.
func (s *Server) AddCustomer(spec CustomerSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	id := strings.ToLower(spec.ID)
	if id == "" {
		id = newID()
	}
	name := spec.Name
	if name == "" {
		name = fmt.Sprintf("Customer %d", len(w.Tenants))
	}
	domain := spec.Domain
	if domain == "" {
		domain = domainFor(name)
	}
	users := spec.Users
	if users == 0 {
		users = 3
	}
	t := newTenant(id, name, domain)
	t.DemandMFA, t.ExchangeDeny, t.ConsentBlocked = spec.DemandMFA, spec.ExchangeDeny, spec.ConsentBlocked
	w.Tenants[id] = t
	s.seedTenant(w, t, users)
	admin := &User{ID: newID(), UPN: "admin@" + domain, DisplayName: name + " Admin", HomeTenant: id, Roles: []string{GlobalAdminTemplateID}, MFA: true}
	t.Users[admin.ID] = admin

	p, now := w.Partner, s.clock.Now()
	if spec.Contract {
		p.Contracts = append(p.Contracts, &Contract{ID: newID(), ContractType: "ResellerPartnerContract", CustomerID: id, DefaultDomainName: domain, DisplayName: name})
	}
	if spec.GDAP || spec.MLT {
		status := spec.GDAPStatus
		if status == "" {
			status = "active"
		}
		rel := &Relationship{ID: newID() + "-" + newID(), DisplayName: "SAM " + name, Status: status, CustomerTenantID: id, CustomerName: name,
			RoleIDs: []string{GlobalAdminTemplateID}, Created: now.Add(-30 * 24 * time.Hour), End: now.Add(700 * 24 * time.Hour),
			AdminInGroups: !spec.AdminOutsideGDAPGroups}
		if spec.MLT {
			rel.DisplayName = "MLT_" + newID()
			rel.RoleIDs = []string{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b"} // Directory Readers
		}
		// Microsoft never auto-extends a relationship holding Global
		// Administrator (graph_gdap.go, gdapCheckExtend); others extend.
		rel.AutoExtend = !slices.Contains(rel.RoleIDs, GlobalAdminTemplateID)
		if rel.AdminInGroups && status == RelActive {
			seedStaffedAssignments(p, rel, p.Admin().ID, now)
		}
		p.Relationships = append(p.Relationships, rel)
	}
	if spec.PartnerCenter {
		p.Customers = append(p.Customers, &PCCustomer{ID: id, TenantID: id, Domain: domain, CompanyName: name, Relationship: "reseller", Consents: map[string][]ApplicationGrant{}})
	}
	return id
}

// GrantConsent consents app appID in tenant as Partner Center's CPV consent
// and the portal's "Grant admin consent" button do: its service principal,
// an AllPrincipals grant of its delegated permissions and an assignment of
// each application permission, per its requiredResourceAccess.
func (s *Server) GrantConsent(appID, tenantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grantConsentLocked(appID, tenantID)
}

func (s *Server) grantConsentLocked(appID, tenantID string) error {
	w := s.world
	app, t := w.Apps[appID], w.TenantByIDOrDomain(tenantID)
	if app == nil || t == nil {
		return fmt.Errorf("testserver: no app %s or tenant %s", appID, tenantID)
	}
	now := s.clock.Now()
	client := t.AddServicePrincipal(app, now)
	for _, rra := range app.RequiredResourceAccess {
		res := w.Apps[rra.ResourceAppID]
		if res == nil {
			continue
		}
		resSP := t.AddServicePrincipal(res, now)
		var scopes []string
		for _, ra := range rra.ResourceAccess {
			switch ra.Type {
			case "Scope":
				if v, ok := res.Scopes[ra.ID]; ok {
					scopes = append(scopes, v)
				}
			case "Role":
				if _, ok := res.Roles[ra.ID]; ok && !hasAssignment(t, client.ID, resSP.ID, ra.ID) {
					id := newID()
					t.AppRoleAssignments[id] = &AppRoleAssignment{ID: id, PrincipalID: client.ID, ResourceID: resSP.ID, AppRoleID: ra.ID, CreatedAt: now}
				}
			}
		}
		if len(scopes) > 0 {
			mergeGrant(t, client.ID, resSP.ID, scopes, now)
		}
	}
	return nil
}

func hasAssignment(t *Tenant, principal, resource, role string) bool {
	for _, a := range t.AppRoleAssignments {
		if a.PrincipalID == principal && a.ResourceID == resource && a.AppRoleID == role {
			return true
		}
	}
	return false
}

// mergeGrant adds scopes to the AllPrincipals grant of client on resource,
// creating it if needed, as consenting again does.
func mergeGrant(t *Tenant, client, resource string, scopes []string, now time.Time) {
	for _, g := range t.Grants {
		if g.ClientID == client && g.ResourceID == resource && g.ConsentType == "AllPrincipals" {
			have := map[string]bool{}
			for _, s := range strings.Fields(g.Scope) {
				have[s] = true
			}
			for _, s := range scopes {
				if !have[s] {
					g.Scope = strings.TrimSpace(g.Scope + " " + s)
					have[s] = true
				}
			}
			return
		}
	}
	id := newID()
	t.Grants[id] = &Grant{ID: id, ClientID: client, ConsentType: "AllPrincipals", ResourceID: resource, Scope: strings.Join(scopes, " "), CreatedAt: now}
}

// handler routes each request to the service it belongs to, after recording
// it and applying any injected fault.
func (s *Server) handler() http.Handler {
	login, graph, partner, exchange := http.NewServeMux(), http.NewServeMux(), http.NewServeMux(), http.NewServeMux()
	s.routeLogin(login)
	s.routeGraph(graph)
	s.routePartner(partner)
	s.routeExchange(exchange)
	keyVault := http.NewServeMux()
	s.routeKeyVault(keyVault)
	byName := map[string]http.Handler{"graph": graph, "partner": partner, "exchange": exchange}
	admin := http.NewServeMux()
	s.routeAdmin(admin)
	adminH := adminHandler(admin)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminPrefix) {
			adminH.ServeHTTP(w, r)
			return
		}
		service, h := "login", http.Handler(login)
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if svc := serviceHosts[strings.ToLower(host)]; svc != "" {
			service, h = svc, byName[svc]
		} else if kr, ok := keyVaultRoute(r, host); ok {
			// Faults and the record see the path as sent; the vault's
			// handlers see it relative to the vault.
			service, h = "keyvault", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { keyVault.ServeHTTP(w, kr) })
		}
		for _, svc := range []struct {
			prefix string
			h      http.Handler
		}{{"/graph", graph}, {"/partner", partner}, {"/exchange", exchange}} {
			if service != "login" {
				break
			}
			if r.URL.Path == svc.prefix || strings.HasPrefix(r.URL.Path, svc.prefix+"/") {
				service, h = svc.prefix[1:], http.StripPrefix(svc.prefix, svc.h)
				break
			}
		}
		// Every answer says when it was made by the fake's clock, as an
		// origin server with a clock must (RFC 9110, section 6.6.1): a
		// client that takes its now from Date follows the clock that
		// Advance and the sandbox's /_sandbox/clock move.
		w.Header().Set("Date", s.clock.Now().Format(http.TimeFormat))
		rec := s.recorder.begin(s, r, service)
		rw := &statusWriter{ResponseWriter: w}
		defer func() { s.recorder.finish(rec, rw.status) }()
		if s.rehearsedServiceFault(rw, r, rec) || s.applyFault(rw, r, rec) {
			return
		}
		h.ServeHTTP(rw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (to hijack it
// for an injected reset).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
