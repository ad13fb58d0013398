package testserver

import (
	"fmt"
	"time"
)

// The sandbox is a ready-made world for `samctl demo`, `samctl sandbox`, the
// examples and the end-to-end tests: a partner with a few dozen customers,
// listed across GDAP relationships, contracts and Partner Center as a real
// partner's are, a few of them broken in the ways that break real access
// checks. Every problem is produced by the fake behaving as Microsoft's
// services do, never by a special case: a tenant is "not consented"
// because Partner Center refuses to consent there, not because the fake
// was told to fail.

// GraphCommandLineToolsID is the application id of Microsoft Graph Command
// Line Tools, the first-party public client an admin signs in with before
// the SAM app exists. The sandbox's bootstrap client carries it, so that a
// setup run against the sandbox uses the same client id as against
// Microsoft.
const GraphCommandLineToolsID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// DefaultSandboxCustomers is how many customer tenants a sandbox has when
// SandboxSpec.Customers is 0.
const DefaultSandboxCustomers = 25

// SandboxAppName is the display name of the SAM app SandboxSpec.App
// registers: not the name setup gives its app, so that running setup
// against the sandbox makes an app of its own.
const SandboxAppName = "SAM (sandbox)"

// SandboxSpec describes a sandbox. The zero value is the demo's world: 25
// customers, six of them with a problem.
type SandboxSpec struct {
	// Customers is how many customer tenants the partner has, the problem
	// ones included; DefaultSandboxCustomers when 0. It is raised to the
	// number of problem tenants if lower.
	Customers int
	// Latency delays every request by this much, as a distant service
	// would. It is injected after the sandbox's own faults, and a latency
	// fault matches every request, so faults injected later never match.
	Latency time.Duration
	// Healthy leaves out the problem tenants: every customer passes.
	Healthy bool
	// App registers a SAM app in the partner tenant, consented there and
	// in every customer where consent can be given, and mints its refresh
	// token, as if setup and the consent push had run (SandboxInfo.App),
	// with what samkit's default manifest asks for (sandboxAppAccess).
	// Without it the partner has no SAM app yet: running setup is part of
	// the show.
	App bool
	// PartnerName names the partner tenant ("Contoso Partner" by
	// default, through New).
	PartnerName string
	// NoCustomers gives the partner no customer at all, whatever
	// Customers and Healthy say: a partner that has just signed up.
	NoCustomers bool
}

// Problem is what is deliberately wrong with a sandbox customer.
type Problem string

// The sandbox's problems, each the cause of a failure partners meet.
const (
	// ProblemNone is a healthy customer.
	ProblemNone Problem = ""
	// ProblemConsentBlocked: Partner Center refuses CPV consent for the
	// customer (403), so the SAM app stays unconsented there and every
	// delegated token request of the partner's admin answers AADSTS90099.
	ProblemConsentBlocked Problem = "consent-blocked"
	// ProblemOutsideGDAPGroups: the partner's admin is not in the security
	// groups of the GDAP relationship: AADSTS50020.
	ProblemOutsideGDAPGroups Problem = "outside-gdap-groups"
	// ProblemMFARequired: the customer's Conditional Access demands MFA at
	// every sign-in, which a refresh token cannot answer: AADSTS50076.
	ProblemMFARequired Problem = "mfa-required"
	// ProblemExchangeDenied: the admin holds no Exchange management role
	// in the customer: Exchange answers 403, Graph works.
	ProblemExchangeDenied Problem = "exchange-denied"
	// ProblemThrottled: Graph throttles the customer's first two reads
	// of /users (429, Retry-After: 1), then answers: a client that honours
	// Retry-After passes.
	ProblemThrottled Problem = "throttled"
	// ProblemDeleted: the customer's tenant was deleted while the GDAP
	// relationship and contract are still listed: AADSTS90002.
	ProblemDeleted Problem = "deleted"
)

// BreaksGraph reports whether the problem makes the admin's delegated
// access to Microsoft Graph in the customer fail.
func (p Problem) BreaksGraph() bool {
	switch p {
	case ProblemConsentBlocked, ProblemOutsideGDAPGroups, ProblemMFARequired, ProblemDeleted:
		return true
	}
	return false
}

// BreaksExchange reports whether the problem makes the admin's delegated
// access to Exchange Online in the customer fail.
func (p Problem) BreaksExchange() bool { return p.BreaksGraph() || p == ProblemExchangeDenied }

// Breaks reports whether the customer fails an access check.
func (p Problem) Breaks() bool { return p.BreaksExchange() }

// Describe says, for people, what is wrong and what a client meets.
func (p Problem) Describe() string {
	switch p {
	case ProblemConsentBlocked:
		return "Partner Center refuses consent, so the app is not authorized there (AADSTS90099)"
	case ProblemOutsideGDAPGroups:
		return "the admin is outside the GDAP relationship's groups (AADSTS50020)"
	case ProblemMFARequired:
		return "Conditional Access demands MFA at every sign-in (AADSTS50076)"
	case ProblemExchangeDenied:
		return "the admin has no Exchange role (Exchange answers 403)"
	case ProblemThrottled:
		return "Graph throttles the first two reads (429, Retry-After: 1), then answers"
	case ProblemDeleted:
		return "the tenant was deleted but its relationship is still listed (AADSTS90002)"
	}
	return "healthy"
}

// SandboxCustomer is one customer of the sandbox's partner.
type SandboxCustomer struct {
	ID, Name, Domain string
	// GDAP, Contract and PartnerCenter say which lists name the customer.
	GDAP, Contract, PartnerCenter bool
	// MLT says the customer also has a Microsoft-led transition (MLT_)
	// relationship, read-only, beside its own GDAP relationship.
	MLT     bool
	Problem Problem
}

// SandboxInfo is what NewSandbox built.
type SandboxInfo struct {
	Partner PartnerInfo
	// BootstrapClientID is the public client an admin signs in with to
	// run setup (GraphCommandLineToolsID).
	BootstrapClientID string
	// Customers are the partner's customers, problem ones first.
	Customers []SandboxCustomer
	// App is the SAM app, when SandboxSpec.App asked for one.
	App *AppInfo
	// RefreshToken is the SAM app's refresh token for the partner's admin
	// (with MFA), when SandboxSpec.App asked for one.
	RefreshToken string
}

// Broken returns the customers that fail an access check.
func (i SandboxInfo) Broken() []SandboxCustomer {
	var out []SandboxCustomer
	for _, c := range i.Customers {
		if c.Problem.Breaks() {
			out = append(out, c)
		}
	}
	return out
}

// Consentable returns the customers where consent can be given: every
// live one whose Partner Center consent is not blocked. GrantSandboxConsent
// consents an app in exactly these.
func (i SandboxInfo) Consentable() []SandboxCustomer {
	var out []SandboxCustomer
	for _, c := range i.Customers {
		if c.Problem != ProblemConsentBlocked && c.Problem != ProblemDeleted {
			out = append(out, c)
		}
	}
	return out
}

// sandboxProblems are the problem customers, in the order they are added,
// with the lists that name them: the deleted tenant survives only where
// Microsoft keeps stale rows (its GDAP relationship and contract).
var sandboxProblems = []struct {
	name    string
	problem Problem
	pc      bool
}{
	{"Northwind Traders", ProblemConsentBlocked, true},
	{"Fabrikam", ProblemOutsideGDAPGroups, true},
	{"Tailspin Toys", ProblemMFARequired, true},
	{"Wide World Importers", ProblemExchangeDenied, true},
	{"Adventure Works Cycles", ProblemThrottled, true},
	{"Litware", ProblemDeleted, false},
}

// sandboxNames are the healthy customers' names, Microsoft's fictitious
// companies; a larger sandbox combines sandboxPrefixes and sandboxTrades.
var (
	sandboxNames = []string{
		"Woodgrove Bank", "Proseware", "Lucerne Publishing", "Alpine Ski House", "Coho Winery",
		"Fourth Coffee", "Margie's Travel", "Trey Research", "Blue Yonder Airlines", "City Power & Light",
		"Graphic Design Institute", "Humongous Insurance", "Lamna Healthcare", "School of Fine Art",
		"Southridge Video", "VanArsdel", "Wingtip Toys", "Relecloud", "Munson's Pickles and Preserves",
		"Best For You Organics", "Consolidated Messenger", "A. Datum Corporation", "Bellows College",
		"First Up Consultants", "Nod Publishers", "Olympia Dental", "Contoso Pharmaceuticals",
	}
	sandboxPrefixes = []string{
		"Alder", "Birch", "Cedar", "Elm", "Hazel", "Juniper", "Larch", "Maple", "Oak", "Pine",
		"Rowan", "Spruce", "Willow", "Aspen", "Beech", "Cypress", "Fir", "Holly", "Linden", "Poplar",
	}
	sandboxTrades = []string{
		"Dental", "Legal", "Logistics", "Accounting", "Engineering", "Bakery", "Clinic", "Motors",
		"Realty", "Architects", "Insurance", "Brewing", "Printing", "Veterinary", "Consulting",
		"Foods", "Hardware", "Pharmacy", "Studios", "Outfitters",
	}
)

func sandboxName(i int) string {
	if i < len(sandboxNames) {
		return sandboxNames[i]
	}
	i -= len(sandboxNames)
	n := len(sandboxPrefixes) * len(sandboxTrades)
	name := sandboxPrefixes[i%len(sandboxPrefixes)] + " " + sandboxTrades[i/len(sandboxPrefixes)%len(sandboxTrades)]
	if i >= n {
		name += fmt.Sprintf(" %d", i/n+1)
	}
	return name
}

// SandboxCredentialDelay is how long a secret or certificate added in the
// sandbox takes to work at its token endpoint: short, but long enough that
// a tool which swaps credentials without waiting for the new one fails
// there as it would against Entra ID.
const SandboxCredentialDelay = time.Second

// NewSandbox starts a fake cloud holding the sandbox's world. Close the
// server when done.
//
// Every healthy customer has an active GDAP relationship and is a Partner
// Center customer; every other one also has a reseller contract, and two
// keep a Microsoft-led transition (MLT_) relationship beside their own.
// The admin's device code sign-in is approved at the second poll, after
// one authorization_pending; the token endpoint throttles as
// SandboxTokenThrottle says.
func NewSandbox(spec SandboxSpec, opts ...Option) (*Server, SandboxInfo) {
	if spec.PartnerName != "" {
		opts = append([]Option{WithPartnerName(spec.PartnerName)}, opts...)
	}
	s := New(opts...)
	s.useGraphCommandLineTools()
	s.Mutate(func(w *World) {
		// Tools other than samkit must see the flow as Entra runs it: at
		// least one authorization_pending before the admin approves.
		w.DeviceCode.PendingPolls = 1
		w.TokenThrottle = SandboxTokenThrottle
		w.CredentialDelay = SandboxCredentialDelay
	})

	var problems []Problem
	if !spec.Healthy {
		for _, p := range sandboxProblems {
			problems = append(problems, p.problem)
		}
	}
	total := spec.Customers
	if total == 0 {
		total = DefaultSandboxCustomers
	}
	total = max(total, len(problems))
	if spec.NoCustomers {
		total, problems = 0, nil
	}

	info := SandboxInfo{Partner: s.Partner(), BootstrapClientID: s.BootstrapClientID}
	for i := range problems {
		p := sandboxProblems[i]
		cs := CustomerSpec{Name: p.name, GDAP: true, Contract: true, PartnerCenter: p.pc}
		info.Customers = append(info.Customers, s.AddProblemCustomer(cs, p.problem))
	}
	for i := range total - len(problems) {
		c := s.addSandboxCustomer(CustomerSpec{Name: sandboxName(i), GDAP: true, Contract: i%2 == 0, PartnerCenter: true})
		if i == 3 || i == 8 {
			s.addMLTRelationship(c.ID)
			c.MLT = true
		}
		switch i {
		case 5:
			s.addPastRelationship(c.ID, RelExpired)
		case 6:
			s.addPastRelationship(c.ID, RelTerminated)
		}
		info.Customers = append(info.Customers, c)
	}

	if spec.App {
		app, err := s.RegisterApp(AppSpec{DisplayName: SandboxAppName, RequiredResourceAccess: sandboxAppAccess()})
		if err != nil {
			panic(err) // RegisterApp fails only for an unknown tenant or app
		}
		if err := s.GrantSandboxConsent(app.AppID, info); err != nil {
			panic(err)
		}
		rt, err := s.MintRefreshToken(app.AppID)
		if err != nil {
			panic(err)
		}
		info.App, info.RefreshToken = &app, rt
	}
	if spec.Latency > 0 {
		s.Inject(Fault{Kind: Latency, Latency: spec.Latency})
	}
	return s, info
}

// sandboxAppAccess is what samkit's default manifest (sam.DefaultManifest,
// which this package cannot import) asks for: DefaultRequiredResourceAccess
// and the delegated Graph permissions to sign in, list GDAP relationships
// and complete consents in customers.
func sandboxAppAccess() []RequiredResourceAccess {
	rra := DefaultRequiredResourceAccess()
	for i := range rra {
		if rra[i].ResourceAppID == GraphAppID {
			rra[i].ResourceAccess = append(rra[i].ResourceAccess,
				ResourceAccess{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Type: "Scope"}, // User.Read
				ResourceAccess{ID: "0c0064ea-477b-4130-82a5-4c2cc4ff68aa", Type: "Scope"}, // DelegatedAdminRelationship.Read.All
				ResourceAccess{ID: "84bccea3-f856-4a8a-967b-dbe0a3d53a64", Type: "Scope"}, // AppRoleAssignment.ReadWrite.All
				ResourceAccess{ID: "41ce6ca6-6826-4807-84f1-1c82854f7ee5", Type: "Scope"}, // DelegatedPermissionGrant.ReadWrite.All
			)
		}
	}
	return rra
}

// GrantSandboxConsent consents app appID in every customer of info where
// consent can be given (SandboxInfo.Consentable), as a consent push that
// met no error would: the quick way to a consented world of any size.
func (s *Server) GrantSandboxConsent(appID string, info SandboxInfo) error {
	for _, c := range info.Consentable() {
		if err := s.GrantConsent(appID, c.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) addSandboxCustomer(cs CustomerSpec) SandboxCustomer {
	id := s.AddCustomer(cs)
	var domain string
	s.Read(func(w *World) { domain = w.Tenants[id].DefaultDomain })
	return SandboxCustomer{ID: id, Name: cs.Name, Domain: domain, GDAP: cs.GDAP, Contract: cs.Contract, PartnerCenter: cs.PartnerCenter}
}

// addMLTRelationship gives the partner a Microsoft-led transition
// relationship with a customer beside its own: what the move from DAP to
// GDAP left in most partners' lists, read-only (Directory Readers).
func (s *Server) addMLTRelationship(customer string) {
	now := s.clock.Now()
	s.Mutate(func(w *World) {
		t := w.Tenants[customer]
		// Older than the customer's own relationship, so it goes first:
		// the partner's newest active relationship is the one that counts.
		mlt := &Relationship{
			ID: newID() + "-" + newID(), DisplayName: "MLT_" + newID(), Status: "active",
			CustomerTenantID: customer, CustomerName: t.DisplayName,
			RoleIDs: []string{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}, // Directory Readers
			Created: now.Add(-400 * 24 * time.Hour), End: now.Add(330 * 24 * time.Hour), AdminInGroups: true,
		}
		seedStaffedAssignments(w.Partner, mlt, w.Partner.Admin().ID, now)
		w.Partner.Relationships = append([]*Relationship{mlt}, w.Partner.Relationships...)
	})
}

// addPastRelationship gives the partner an ended relationship with a
// customer, older than its current one: one that expired after its two
// years, or one the partner terminated. Real partner lists keep both; they
// grant nothing.
func (s *Server) addPastRelationship(customer, status string) {
	now := s.clock.Now()
	s.Mutate(func(w *World) {
		t := w.Tenants[customer]
		created := now.Add(-800 * 24 * time.Hour)
		end := created.Add(730 * 24 * time.Hour)
		if status == RelTerminated {
			end = created.Add(200 * 24 * time.Hour)
		}
		past := &Relationship{
			ID: newID() + "-" + newID(), DisplayName: "Past " + t.DisplayName, Status: status,
			CustomerTenantID: customer, CustomerName: t.DisplayName, RoleIDs: []string{GlobalAdminTemplateID},
			Created: created, End: end, AdminInGroups: true,
		}
		past.GDAP.Duration, past.GDAP.Activated = "P730D", created
		w.Partner.Relationships = append([]*Relationship{past}, w.Partner.Relationships...)
	})
}

// useGraphCommandLineTools gives the bootstrap client the application id
// of Microsoft Graph Command Line Tools, which exists in every real tenant,
// so that setup needs no sandbox-specific client id.
func (s *Server) useGraphCommandLineTools() {
	s.Mutate(func(w *World) {
		old := s.BootstrapClientID
		boot := w.Apps[old]
		delete(w.Apps, old)
		boot.AppID, boot.DisplayName = GraphCommandLineToolsID, "Microsoft Graph Command Line Tools"
		w.Apps[boot.AppID] = boot
		for _, t := range w.Tenants {
			for _, sp := range t.ServicePrincipals {
				if sp.AppID == old {
					sp.AppID, sp.DisplayName = boot.AppID, boot.DisplayName
				}
			}
		}
		s.BootstrapClientID = boot.AppID
	})
}
