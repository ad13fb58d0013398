package testserver

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// Well-known application ids (MICROSOFT-APIS.md §2).
const (
	GraphAppID             = "00000003-0000-0000-c000-000000000000"
	ExchangeAppID          = "00000002-0000-0ff1-ce00-000000000000"
	PartnerCenterAppID     = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"
	ExchangePowerShellID   = "a0c73c16-a7e3-4564-9a95-2bdf47383716"
	GlobalAdminTemplateID  = "62e90394-69f5-4237-9190-012177145e10"
	GraphResource          = "https://graph.microsoft.com"
	ExchangeResource       = "https://outlook.office365.com"
	PartnerCenterResource  = "https://api.partnercenter.microsoft.com"
	AdminAgentsGroupName   = "AdminAgents"
	defaultRefreshIdleLife = 90 * 24 * time.Hour
)

// World is the fake cloud's whole state. Read or change it only inside
// Server.Mutate or Server.Read, which hold the server's lock.
type World struct {
	// Partner is the partner (MSP) tenant.
	Partner *Tenant
	// Tenants holds every tenant, the partner's included, by tenant id.
	Tenants map[string]*Tenant
	// Apps holds every application registration by appId: the first-party
	// resource apps and public clients, and the apps tests or clients create.
	Apps map[string]*App
	// RefreshTokens by token value.
	RefreshTokens map[string]*RefreshToken
	// AuthCodes by code value.
	AuthCodes map[string]*AuthCode
	// DeviceCodes by device_code value.
	DeviceCodes map[string]*DeviceCode
	// Vaults holds the key vaults (keyvault.go) by lower-cased name.
	Vaults map[string]*Vault
	// MaxPageSize, when above 0, caps every page Graph, Partner Center and
	// Exchange return, whatever the client asks: it models a service that
	// sends fewer items than asked, which each allows (a client must follow
	// the next link until it is absent). Tests set a small one to make
	// clients cross pages. 0, the default, leaves each collection its own
	// documented page sizes.
	MaxPageSize int
	// RefreshIdleLifetime is how long a refresh token stays valid unused
	// (90 days in Entra ID).
	RefreshIdleLifetime time.Duration
	// AccessTokenLifetime is the lifetime of issued access tokens. When 0
	// (the default) each token gets a lifetime picked at random between 60
	// and 90 minutes, as Entra ID does; the pick comes from the server's
	// seeded generator (WithSeed), so a test sees the same lifetimes on
	// every run.
	// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-lifetime
	AccessTokenLifetime time.Duration
	// ReplicationDelay is how long a newly created directory object stays
	// invisible to reads by id (eventual consistency), 0 for none.
	ReplicationDelay time.Duration
	// CredentialDelay is how long a client secret or certificate added
	// through Graph takes to work at the token endpoint, 0 for at once.
	// Entra ID is eventually consistent: a credential written to the
	// directory reaches the token service's replicas seconds later
	// (https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/),
	// so a client that swaps credentials must retry before it gives up on
	// the new one.
	CredentialDelay time.Duration
	// TokenThrottle says when the token endpoint throttles a client.
	TokenThrottle TokenThrottle
	// DeviceCode governs the simulated admin at the device code flow.
	DeviceCode DeviceCodePolicy
	// Authorize governs the simulated admin at /authorize.
	Authorize AuthorizePolicy
	// GDAPDelay is how long GDAP's asynchronous work takes: an access
	// assignment stays pending, a termination stays requested and a
	// long-running operation stays running this long (one minute by
	// default; 0 makes them complete at the next read).
	GDAPDelay time.Duration
}

// DeviceCodePolicy says how the simulated admin answers device codes.
type DeviceCodePolicy struct {
	// PendingPolls is how many polls answer authorization_pending before the
	// admin approves.
	PendingPolls int
	// Decline makes the admin decline (authorization_declined).
	Decline bool
	// Manual leaves approval to Server.ApproveDeviceCode.
	Manual bool
	// SlowDown is ignored: the identity platform's device code page lists
	// no slow_down among its errors, so the fake never sends it
	// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code#expected-errors).
	//
	// Deprecated: kept so that code setting it still compiles.
	SlowDown bool
	// Interval is the polling interval the fake announces, in seconds.
	Interval int
	// Lifetime is how long a device code lives (900 s in Entra ID).
	Lifetime time.Duration
}

// AuthorizePolicy says how the simulated admin answers /authorize.
type AuthorizePolicy struct {
	// Deny makes the admin cancel the consent prompt (error=access_denied).
	Deny bool
	// NoMFA makes the admin sign in without MFA (amr lacks "mfa").
	NoMFA bool
}

// Tenant is one Entra ID tenant.
type Tenant struct {
	ID            string
	DisplayName   string
	DefaultDomain string
	Domains       []string
	// Deleted tenants answer AADSTS90002 as unknown ones do.
	Deleted bool
	// Users by object id.
	Users map[string]*User
	// Groups by object id.
	Groups map[string]*Group
	// ServicePrincipals by object id.
	ServicePrincipals map[string]*ServicePrincipal
	// Grants (oauth2PermissionGrants) by id.
	Grants map[string]*Grant
	// AppRoleAssignments by id.
	AppRoleAssignments map[string]*AppRoleAssignment
	// DemandMFA makes a Conditional Access policy in this tenant demand MFA
	// on every delegated token request (AADSTS50076 with claims).
	DemandMFA bool
	// ExchangeOrganization is what Get-OrganizationConfig returns.
	ExchangeOrganization map[string]any
	// ExchangeDeny makes the Exchange admin API refuse this tenant (403).
	ExchangeDeny bool
	// Partner-only: the partner's relationships with customers.
	Contracts     []*Contract
	Relationships []*Relationship
	Customers     []*PCCustomer
	// relIndex finds Relationships by customer; see RelationshipFor.
	relIndex relationshipIndex
	// ConsentBlocked makes Partner Center refuse application consents for
	// this customer.
	ConsentBlocked bool
}

// User is a directory user.
type User struct {
	ID          string
	UPN         string
	DisplayName string
	// HomeTenant is the tenant the user belongs to.
	HomeTenant string
	// Roles holds directory role template ids (Global Administrator…).
	Roles []string
	// MFA says whether the user signs in with MFA.
	MFA bool
	// RevokedBefore invalidates refresh tokens issued before it ("revoke
	// sessions", password reset): AADSTS50173.
	RevokedBefore time.Time
}

// Group is a directory group (AdminAgents, GDAP security groups).
type Group struct {
	ID          string
	DisplayName string
	Members     map[string]bool
	// Description and MailNickname are what Graph's group create sets.
	Description, MailNickname string
}

// App is an application registration (or a first-party app).
type App struct {
	ObjectID               string
	AppID                  string
	DisplayName            string
	HomeTenant             string
	SignInAudience         string
	RequiredResourceAccess []RequiredResourceAccess
	WebRedirectURIs        []string
	PublicRedirectURIs     []string
	IsFallbackPublicClient bool
	Passwords              []*PasswordCredential
	Certificates           []*KeyCredential
	// PublicClient apps authenticate with no secret (bootstrap sign-in,
	// Exchange Online PowerShell).
	PublicClient bool
	// Resource apps publish scopes and roles: Graph, Exchange, Partner Center.
	Resource  string
	Scopes    map[string]string // id → value
	Roles     map[string]string // id → value
	CreatedAt time.Time
}

// RequiredResourceAccess is one entry of an app's requiredResourceAccess.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one permission an app requires.
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// PasswordCredential is a client secret.
type PasswordCredential struct {
	KeyID       string
	DisplayName string
	Secret      string
	Start, End  time.Time
	// ReadyAt is when the token endpoint starts accepting the secret
	// (World.CredentialDelay after it was added); zero for at once.
	ReadyAt time.Time
}

// KeyCredential is a certificate credential.
type KeyCredential struct {
	KeyID       string
	DisplayName string
	Certificate *x509.Certificate
	Start, End  time.Time
	// ReadyAt is when the token endpoint starts accepting assertions
	// signed with the certificate; zero for at once.
	ReadyAt time.Time
}

// ServicePrincipal is an app's instance in one tenant: its presence is the
// app's consent in that tenant.
type ServicePrincipal struct {
	ID          string
	AppID       string
	DisplayName string
	CreatedAt   time.Time
}

// Grant is a delegated permission grant (oauth2PermissionGrant).
type Grant struct {
	ID          string
	ClientID    string // the client's service principal id
	ConsentType string // AllPrincipals or Principal
	PrincipalID string
	ResourceID  string // the resource's service principal id
	Scope       string // space separated
	CreatedAt   time.Time
}

// AppRoleAssignment grants an application permission to a service principal.
type AppRoleAssignment struct {
	ID          string
	PrincipalID string // the client's service principal id
	ResourceID  string // the resource's service principal id
	AppRoleID   string
	CreatedAt   time.Time
}

// Contract is a row of Graph's /contracts in the partner tenant. Names are
// snapshots from when the relationship began.
type Contract struct {
	ID                string
	ContractType      string
	CustomerID        string
	DefaultDomainName string
	DisplayName       string
}

// Relationship is a GDAP delegatedAdminRelationship.
type Relationship struct {
	ID               string
	DisplayName      string
	Status           string // active, expired, terminated, approvalPending…
	CustomerTenantID string
	CustomerName     string
	RoleIDs          []string
	Created, End     time.Time
	AutoExtend       bool
	// AdminInGroups says whether the partner admin is in the security
	// groups this relationship's access assignments name: a seeded
	// shorthand for assignments of every role to groups holding the
	// partner's users. Assignments made through Graph are in GDAP.
	AdminInGroups bool
	// GDAP holds what the Graph GDAP API adds: requested duration,
	// activation, requests, access assignments, operations (gdap_world.go).
	GDAP RelationshipState
}

// PCCustomer is a Partner Center customer record.
type PCCustomer struct {
	ID           string
	TenantID     string
	Domain       string
	CompanyName  string
	Relationship string // reseller, advisor, none
	// Consents holds the applicationconsents pushed, by application id.
	Consents map[string][]ApplicationGrant
}

// ApplicationGrant is one enterprise application grant in a CPV consent.
type ApplicationGrant struct {
	EnterpriseApplicationID string `json:"enterpriseApplicationId"`
	Scope                   string `json:"scope"`
}

// RefreshToken is a refresh token the fake minted.
type RefreshToken struct {
	ClientID     string
	UserID       string
	HomeTenant   string
	Confidential bool
	MFA          bool
	IssuedAt     time.Time
	// Scope is the scope of the request that minted the token: a refresh
	// request without a scope gets a token for it, as Entra ID documents.
	Scope string
}

// AuthCode is an authorization code awaiting redemption.
type AuthCode struct {
	ClientID      string
	UserID        string
	RedirectURI   string
	Challenge     string
	Method        string
	Scope         string
	Tenant        string
	MFA           bool
	IssuedAt      time.Time
	Redeemed      bool
	RedeemedCount int
	// Nonce is the authorize request's nonce, echoed in the ID token.
	Nonce string
}

// DeviceCode is a device code awaiting approval.
type DeviceCode struct {
	ClientID string
	UserCode string
	Scope    string
	Tenant   string
	IssuedAt time.Time
	Polls    int
	Approved bool
	Declined bool
	Redeemed bool
	LastPoll time.Time
	// SlowedYet is unused: the fake sends no slow_down.
	SlowedYet bool
	// UserID and MFA record who approved the code, and how they signed in.
	UserID string
	MFA    bool
}

// CustomerSpec describes a customer tenant to add.
type CustomerSpec struct {
	// ID is the tenant id; a random GUID when empty.
	ID string
	// Name is the display name; "Customer N" when empty.
	Name string
	// Domain is the default domain; derived from the name when empty.
	Domain string
	// Users is how many users the tenant has besides its admin (default 3).
	Users int
	// Contract lists the customer in /contracts.
	Contract bool
	// GDAP gives the partner an active GDAP relationship with the customer
	// (with the admin in its groups unless AdminOutsideGDAPGroups).
	GDAP bool
	// GDAPStatus overrides the relationship's status ("active" by default).
	GDAPStatus string
	// MLT makes the relationship a Microsoft-led transition one (MLT_ name).
	MLT bool
	// PartnerCenter lists the customer in Partner Center.
	PartnerCenter bool
	// AdminOutsideGDAPGroups leaves the partner admin out of the GDAP
	// groups: delegated tokens fail with AADSTS50020.
	AdminOutsideGDAPGroups bool
	// DemandMFA makes the tenant's Conditional Access demand MFA again.
	DemandMFA bool
	// ExchangeDeny makes Exchange refuse the admin (403).
	ExchangeDeny bool
	// ConsentBlocked makes Partner Center refuse CPV consent.
	ConsentBlocked bool
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newTenant(id, name, domain string) *Tenant {
	return &Tenant{
		ID:                   id,
		DisplayName:          name,
		DefaultDomain:        domain,
		Domains:              []string{domain},
		Users:                map[string]*User{},
		Groups:               map[string]*Group{},
		ServicePrincipals:    map[string]*ServicePrincipal{},
		Grants:               map[string]*Grant{},
		AppRoleAssignments:   map[string]*AppRoleAssignment{},
		ExchangeOrganization: map[string]any{"Name": strings.Split(domain, ".")[0], "DisplayName": name, "IsDehydrated": false},
	}
}

func domainFor(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String() + ".onmicrosoft.com"
}

// TenantByIDOrDomain finds a live tenant by id or by any of its domains.
func (w *World) TenantByIDOrDomain(s string) *Tenant {
	if t := w.Tenants[strings.ToLower(s)]; t != nil && !t.Deleted {
		return t
	}
	for _, t := range w.Tenants {
		if t.Deleted {
			continue
		}
		for _, d := range t.Domains {
			if strings.EqualFold(d, s) {
				return t
			}
		}
	}
	return nil
}

// ServicePrincipalByAppID finds appID's service principal in t.
func (t *Tenant) ServicePrincipalByAppID(appID string) *ServicePrincipal {
	for _, sp := range t.ServicePrincipals {
		if sp.AppID == appID {
			return sp
		}
	}
	return nil
}

// AddServicePrincipal creates appID's service principal in t, or returns the
// existing one.
func (t *Tenant) AddServicePrincipal(app *App, now time.Time) *ServicePrincipal {
	if sp := t.ServicePrincipalByAppID(app.AppID); sp != nil {
		return sp
	}
	sp := &ServicePrincipal{ID: newID(), AppID: app.AppID, DisplayName: app.DisplayName, CreatedAt: now}
	t.ServicePrincipals[sp.ID] = sp
	return sp
}

// GroupByName finds a group by display name.
func (t *Tenant) GroupByName(name string) *Group {
	for _, g := range t.Groups {
		if strings.EqualFold(g.DisplayName, name) {
			return g
		}
	}
	return nil
}

// Admin returns the partner tenant's admin user (the first Global
// Administrator created with the world).
func (t *Tenant) Admin() *User {
	var admin *User
	for _, u := range t.Users {
		if strings.HasPrefix(u.UPN, "admin@") {
			admin = u
		}
	}
	return admin
}

// RelationshipFor returns the partner's newest relationship with customer:
// the last active one in Relationships, or else the first.
//
// Every token request in a customer tenant asks, so the relationships are
// indexed by customer. The index follows the slice: it is rebuilt when
// Relationships is replaced or grows, and when an indexed relationship has
// moved or changed customer; a customer with none indexed is looked up
// in the whole slice.
func (t *Tenant) RelationshipFor(customer string) *Relationship {
	idx := &t.relIndex
	if !idx.current(t.Relationships) {
		idx.build(t.Relationships)
	}
	found, ok := idx.lookup(t.Relationships, customer)
	if !ok {
		idx.build(t.Relationships)
		found, _ = idx.lookup(t.Relationships, customer)
	}
	if found == nil {
		// None indexed: scan, in case one changed customer in place.
		for _, r := range t.Relationships {
			if r.CustomerTenantID == customer && (found == nil || r.Status == "active") {
				found = r
			}
		}
	}
	return found
}

// relationshipIndex holds the positions of a tenant's relationships by
// customer, and the slice they were read from.
type relationshipIndex struct {
	head  **Relationship // &rels[0] when built
	n     int
	by    map[string][]int
	built bool
}

func (x *relationshipIndex) current(rels []*Relationship) bool {
	return x.built && len(rels) == x.n && (len(rels) == 0 || &rels[0] == x.head)
}

func (x *relationshipIndex) build(rels []*Relationship) {
	*x = relationshipIndex{n: len(rels), by: make(map[string][]int), built: true}
	if len(rels) > 0 {
		x.head = &rels[0]
	}
	for i, r := range rels {
		x.by[r.CustomerTenantID] = append(x.by[r.CustomerTenantID], i)
	}
}

// lookup picks customer's relationship from the indexed positions; ok is
// false when one of them no longer holds a relationship with customer.
func (x *relationshipIndex) lookup(rels []*Relationship, customer string) (found *Relationship, ok bool) {
	for _, i := range x.by[customer] {
		r := rels[i]
		if r.CustomerTenantID != customer {
			return nil, false
		}
		if found == nil || r.Status == "active" {
			found = r
		}
	}
	return found, true
}

// DelegatedScopes returns the delegated scopes clientSP holds on resourceSP
// in t, for user (AllPrincipals grants and the user's own).
func (t *Tenant) DelegatedScopes(clientSP, resourceSP, userID string) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range t.Grants {
		if g.ClientID != clientSP || g.ResourceID != resourceSP {
			continue
		}
		if g.ConsentType == "Principal" && g.PrincipalID != userID {
			continue
		}
		for _, s := range strings.Fields(g.Scope) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// AppRoles returns the application permissions (role values) clientSP holds
// on resource app in t.
func (t *Tenant) AppRoles(clientSP string, resource *App, resourceSP string) []string {
	var out []string
	for _, a := range t.AppRoleAssignments {
		if a.PrincipalID == clientSP && a.ResourceID == resourceSP {
			if v, ok := resource.Roles[a.AppRoleID]; ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// AppByResource finds the resource app whose identifier is resource.
func (w *World) AppByResource(resource string) *App {
	for _, a := range w.Apps {
		if a.Resource != "" && strings.EqualFold(a.Resource, resource) {
			return a
		}
	}
	return nil
}
