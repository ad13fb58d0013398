package samtest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// World describes the fake cloud NewServer starts. The zero value is a
// partner with a consented SAM app and no customer.
type World struct {
	// PartnerName names the partner tenant ("Contoso Partner" when
	// empty).
	PartnerName string
	// Customers is how many healthy customers the partner has, each
	// reachable with delegated and app-only tokens and listed by its GDAP
	// relationship and in Partner Center.
	Customers int
	// Broken adds one customer for each Problem, listed like the healthy
	// ones, before them.
	Broken bool
	// Latency delays every request sent through Client (and so through
	// Provider), as a distant service would.
	Latency time.Duration
	// PageSize, when above 0, is the most items a page of Graph, Partner
	// Center or Exchange holds, whatever the client asks: the services may
	// send fewer than asked, and a small one makes the code under test
	// follow next links. When 0 each collection pages as Microsoft
	// documents (Graph's users: 100 a page, $top up to 999).
	PageSize int
	// Manifest adds permissions to the SAM app's registration and consents
	// them in the partner tenant, as `samctl setup` with a larger manifest
	// does: sam.GDAPManifest() lets the app onboard and offboard customers
	// (sam.Partner.Onboard, the writes of sam.GDAP);
	// sam.UnattendedRotationManifest(sam.Manifest{}) lets it rotate its own
	// secret or certificate with no sign-in (sam.RotateOptions.Unattended).
	// Merge them for both. The app holds what samkit's reads and consent
	// push need whatever Manifest says; without these two its GDAP writes
	// and unattended rotations are refused, as Microsoft refuses them.
	Manifest sam.Manifest
	// GDAPDelay is how long GDAP's asynchronous work takes on the fake's
	// clock: a new access assignment stays pending, a requested
	// termination stays requested, this long. One minute when 0; Advance
	// (or an onboarding's Sleep that calls it) lets it pass.
	GDAPDelay time.Duration
	// CredentialDelay is how long a secret or certificate added to the app
	// through Graph takes to work at the token endpoint, on the fake's
	// clock, as Entra ID replicates it: one second when 0. A rotation
	// must retry until the new one works; Advance lets the delay pass.
	CredentialDelay time.Duration
}

// Option configures NewServer.
type Option func(*options)

type options struct{ inMemory bool }

// InMemory makes the fake open no socket: its URL is
// https://fake.samkit.invalid and only Client's transport, which hands each
// request to the fake's handler in the goroutine that sends it, reaches it.
// A test using it can run in a testing/synctest bubble.
func InMemory() Option { return func(o *options) { o.inMemory = true } }

// Server is a running fake cloud. It is safe for concurrent use.
type Server struct {
	fake   *testserver.Server
	app    testserver.AppInfo
	rt     string
	client *http.Client

	mu        sync.Mutex
	customers []Customer
}

// NewServer starts a fake cloud holding w. Close it when done.
func NewServer(w World, opts ...Option) (*Server, error) {
	if w.Customers < 0 {
		return nil, fmt.Errorf("samtest: World.Customers is %d: ask for 0 or more customers", w.Customers)
	}
	if w.PageSize < 0 {
		return nil, fmt.Errorf("samtest: World.PageSize is %d: ask for 1 or more items per page, or 0 for the services' default", w.PageSize)
	}
	for name, d := range map[string]time.Duration{"Latency": w.Latency, "GDAPDelay": w.GDAPDelay, "CredentialDelay": w.CredentialDelay} {
		if d < 0 {
			return nil, fmt.Errorf("samtest: World.%s is %v: a delay cannot be negative", name, d)
		}
	}
	if len(w.Manifest.Resources) > 0 {
		if err := w.Manifest.Validate(); err != nil {
			return nil, fmt.Errorf("samtest: World.Manifest: %w", err)
		}
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	spec := testserver.SandboxSpec{Customers: w.Customers, Healthy: !w.Broken, App: true, PartnerName: w.PartnerName}
	if w.Broken {
		spec.Customers += len(testserver.Problems())
	}
	spec.NoCustomers = spec.Customers == 0
	var fakeOpts []testserver.Option
	if o.inMemory {
		fakeOpts = append(fakeOpts, testserver.WithoutListener())
	}
	fake, info := testserver.NewSandbox(spec, fakeOpts...)
	if info.App == nil {
		fake.Close()
		return nil, errors.New("samtest: the fake registered no SAM app")
	}
	fake.Mutate(func(fw *testserver.World) {
		if w.PageSize > 0 {
			fw.MaxPageSize = w.PageSize
		}
		if w.GDAPDelay > 0 {
			fw.GDAPDelay = w.GDAPDelay
		}
		if w.CredentialDelay > 0 {
			fw.CredentialDelay = w.CredentialDelay
		}
		addPermissions(fw.Apps[info.App.AppID], w.Manifest)
	})
	if len(w.Manifest.Resources) > 0 {
		if err := fake.GrantConsent(info.App.AppID, info.Partner.TenantID); err != nil {
			fake.Close()
			return nil, fmt.Errorf("samtest: consenting World.Manifest in the partner tenant: %w", err)
		}
	}
	s := &Server{fake: fake, app: *info.App, rt: info.RefreshToken, client: fake.Client()}
	if w.Latency > 0 {
		s.client = &http.Client{Transport: &latencyTransport{base: s.client.Transport, delay: w.Latency}}
	}
	for _, c := range info.Customers {
		s.customers = append(s.customers, customerOf(c))
	}
	return s, nil
}

// addPermissions adds m's permissions to app's registration, keeping
// those it holds.
func addPermissions(app *testserver.App, m sam.Manifest) {
	for _, r := range m.RequiredResourceAccess() {
		i := slices.IndexFunc(app.RequiredResourceAccess, func(have testserver.RequiredResourceAccess) bool {
			return strings.EqualFold(have.ResourceAppID, r.ResourceAppID)
		})
		if i < 0 {
			app.RequiredResourceAccess = append(app.RequiredResourceAccess, testserver.RequiredResourceAccess{ResourceAppID: r.ResourceAppID})
			i = len(app.RequiredResourceAccess) - 1
		}
		have := &app.RequiredResourceAccess[i]
		for _, a := range r.ResourceAccess {
			ra := testserver.ResourceAccess{ID: a.ID, Type: a.Type}
			if !slices.Contains(have.ResourceAccess, ra) {
				have.ResourceAccess = append(have.ResourceAccess, ra)
			}
		}
	}
}

// Close stops the fake. Requests sent after it fail.
func (s *Server) Close() { s.fake.Close() }

// URL is the fake's base URL: https://127.0.0.1:port, or
// https://fake.samkit.invalid with InMemory.
func (s *Server) URL() string { return s.fake.URL() }

// Cloud describes the fake's endpoints for token.WithCloud and for the
// clients of graph, partner and exchange. Every service is served from URL
// (the identity platform at the root, Graph under /graph, Partner Center
// under /partner, Exchange under /exchange) while tokens carry the real
// services' resource identifiers as their audience.
func (s *Server) Cloud() cloud.Configuration { return s.fake.Cloud() }

// Client returns the HTTP client that reaches the fake: it trusts the
// fake's TLS certificate (or, with InMemory, calls its handler) and adds
// World.Latency. It is the same client on every call.
func (s *Server) Client() *http.Client { return s.client }

// Credentials returns the SAM app's credentials: the partner tenant, the
// app's id and client secret, and the refresh token of the partner admin's
// consent sign-in (with MFA), as `samctl setup` stores them. They are
// the ones NewServer made: a rotation saves the new secret or certificate
// to the store it was given, not here.
func (s *Server) Credentials() token.Credentials {
	return token.Credentials{
		TenantID:      s.fake.Partner().TenantID,
		ApplicationID: s.app.AppID,
		ClientSecret:  token.NewSecret(s.app.Secret),
		RefreshToken:  token.NewSecret(s.rt),
	}
}

// Provider returns a new token.Provider for Credentials, wired to the fake
// (token.WithCloud(Cloud()), token.WithHTTPClient(Client())) and then
// configured with opts.
func (s *Server) Provider(opts ...token.Option) (*token.Provider, error) {
	base := []token.Option{token.WithCloud(s.Cloud()), token.WithHTTPClient(s.Client())}
	return token.NewProvider(s.Credentials(), append(base, opts...)...)
}
