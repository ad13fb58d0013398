package sam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
)

// Source names where Partner.Tenants learnt of a customer.
type Source string

// The sources of customer tenants.
const (
	// SourceGDAP is an active GDAP relationship (Graph
	// tenantRelationships/delegatedAdminRelationships): how a partner
	// reaches a customer today.
	SourceGDAP Source = "gdap"
	// SourceContract is a row of Graph's /contracts: reseller and DAP-era
	// relationships.
	SourceContract Source = "contract"
	// SourcePartnerCenter is Partner Center's customer list.
	SourcePartnerCenter Source = "partnercenter"
)

func (s Source) label() string {
	switch s {
	case SourceGDAP:
		return "GDAP relationships"
	case SourceContract:
		return "contracts"
	case SourcePartnerCenter:
		return "Partner Center customers"
	}
	return string(s)
}

// Tenant is a customer tenant of the partner, merged from every source
// that lists it.
type Tenant struct {
	// ID is the tenant id, in lower case.
	ID string `json:"id"`
	// DefaultDomain is the domain the contract records as the customer's
	// default, or else the one Partner Center records; "" when only GDAP
	// knows the tenant (GDAP lists no domain).
	DefaultDomain string `json:"defaultDomain,omitzero"`
	// Domains are every domain a source gave for the tenant, DefaultDomain
	// first; Include and Exclude match against them.
	Domains []string `json:"domains,omitzero"`
	// DisplayName is the customer's name: GDAP's, else Partner Center's,
	// else the contract's. Contract names are snapshots taken when the
	// relationship began and never updated, while GDAP shows the tenant's
	// current name and Partner Center the company's current one.
	DisplayName string `json:"displayName"`
	// Sources are the sources that list the tenant, in the order gdap,
	// contract, partnercenter.
	Sources []Source `json:"sources"`
	// GDAPRoles are the role definition ids the tenant's listed GDAP
	// relationships grant, sorted, without repeats.
	GDAPRoles []string `json:"gdapRoles,omitzero"`
	// RelationshipEnd is when the last of its listed GDAP relationships
	// ends (zero when none is listed). A relationship that extends itself
	// moves this date when it comes.
	RelationshipEnd time.Time `json:"relationshipEnd,omitzero"`
	// ReadOnlyMLT is set when every GDAP relationship listed for the tenant
	// is a Microsoft-led transition one (MLT_…): read-only leftovers of
	// the move from DAP, which grant no administration. Listed only with
	// ListOptions.IncludeMLT.
	ReadOnlyMLT bool `json:"readOnlyMLT,omitzero"`
	// Relationships are the tenant's listed GDAP relationships.
	Relationships []RelationshipInfo `json:"relationships,omitzero"`
}

// Label names the tenant for people: "Contoso (id)", or the id alone.
func (t Tenant) Label() string {
	if t.DisplayName == "" {
		return t.ID
	}
	return t.DisplayName + " (" + t.ID + ")"
}

// Has reports whether the tenant is listed by source s.
func (t Tenant) Has(s Source) bool { return slices.Contains(t.Sources, s) }

// RelationshipInfo is one active GDAP relationship with a customer.
type RelationshipInfo struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Roles       []string  `json:"roles"`
	End         time.Time `json:"end,omitzero"`
	// MLT marks a Microsoft-led transition relationship (named MLT_…).
	MLT bool `json:"mlt,omitzero"`
}

// isMLT reports whether a GDAP relationship's display name marks it as
// one of the Microsoft-led transition (DAP to GDAP) relationships.
func isMLT(displayName string) bool {
	return strings.HasPrefix(strings.ToUpper(displayName), "MLT_")
}

// tenantSources are the clients listTenants reads from.
type tenantSources struct {
	// Graph calls Microsoft Graph in the partner tenant, as the partner's
	// admin (a delegated token): GDAP relationships need
	// DelegatedAdminRelationship.Read.All, contracts Directory.Read.All.
	Graph *graph.Client
	// Partner calls Partner Center as the partner's admin; optional.
	Partner *partner.Client
}

// ListOptions chooses the sources Partner.Tenants reads and filters what
// they list.
type ListOptions struct {
	// GDAP, Contracts and PartnerCenter choose the sources. When all three
	// are false every source is read.
	GDAP, Contracts, PartnerCenter bool
	// IncludeMLT lists the Microsoft-led transition relationships (MLT_…)
	// with the active ones, marked (Tenant.ReadOnlyMLT, RelationshipInfo.MLT).
	// Without it they are left out: they grant no administration, and a
	// tenant reached only through one would fail every access check.
	IncludeMLT bool
	// Include keeps only the tenants matching one of its entries, by
	// tenant id or by any of their domains, without regard to case. An
	// entry that matches no tenant is reported in the error (see
	// ErrTenantNotListed).
	Include []string
	// Exclude drops the tenants matching one of its entries, as Include
	// matches them. It wins over Include.
	Exclude []string
}

// ErrTenantNotListed is wrapped by the error of Partner.Tenants when an entry
// of ListOptions.Include matches no listed tenant: a mistyped domain would
// otherwise yield an empty run that looks like success.
var ErrTenantNotListed = errors.New("sam: no listed tenant matches")

// SourceError is a source that Partner.Tenants could not read.
type SourceError struct {
	Source Source
	Err    error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("sam: listing tenants from %s: %v", e.Source.label(), e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// listTenants lists the partner's customer tenants from GDAP relationships
// (active ones), contracts and Partner Center's customer list, merged by
// tenant id, filtered by opts, sorted by display name (without regard to
// case), then id. The sources are read concurrently. partnerID, the
// partner's own tenant, is never listed; when empty it is read from Graph
// (GET /organization), and without a Graph client nothing is left out.
//
// A source that fails does not hide the others: listTenants returns what
// the sources that worked listed (nothing of a source that failed part
// way), and an error joining a *SourceError for each that failed (find
// them with errors.As). A caller that needs the whole list treats any
// error as fatal; one that checks access can go on with the tenants it
// has and report the missing source.
func listTenants(ctx context.Context, src tenantSources, opts ListOptions, partnerID string) ([]Tenant, error) {
	want, err := opts.sources(src)
	if err != nil {
		return nil, err
	}
	partnerID = strings.ToLower(partnerID)
	if partnerID == "" && src.Graph != nil {
		org, err := src.Graph.Organization(ctx)
		if err != nil {
			return nil, fmt.Errorf("sam: reading the partner tenant's id: %w", err)
		}
		partnerID = strings.ToLower(org.ID)
	}

	// Each source fills its own slot, so that merging follows a fixed
	// order whatever order the sources answer in.
	lists := make([]listing, len(want))
	var wg sync.WaitGroup
	for i, s := range want {
		wg.Go(func() { lists[i] = read(ctx, src, s, opts.IncludeMLT) })
	}
	wg.Wait()

	m := newMerger(partnerID)
	var errs []error
	for _, l := range lists {
		if l.err != nil {
			errs = append(errs, &SourceError{Source: l.source, Err: l.err})
			continue
		}
		m.add(l)
	}
	out, unmatched := m.result(opts.Include, opts.Exclude)
	if len(unmatched) > 0 {
		errs = append(errs, fmt.Errorf("%w ListOptions.Include entries %s", ErrTenantNotListed, strings.Join(unmatched, ", ")))
	}
	return out, errors.Join(errs...)
}

func (o ListOptions) sources(src tenantSources) ([]Source, error) {
	if src.Graph == nil && src.Partner == nil {
		return nil, errors.New("sam: listing tenants: neither a Graph nor a Partner client")
	}
	if !o.GDAP && !o.Contracts && !o.PartnerCenter {
		o.GDAP, o.Contracts, o.PartnerCenter = src.Graph != nil, src.Graph != nil, src.Partner != nil
	}
	if (o.GDAP || o.Contracts) && src.Graph == nil {
		return nil, errors.New("sam: listing tenants: GDAP relationships and contracts are read through Graph, and there is no Graph client")
	}
	if o.PartnerCenter && src.Partner == nil {
		return nil, errors.New("sam: listing tenants: ListOptions.PartnerCenter needs a Partner Center client")
	}
	var out []Source
	for _, s := range []struct {
		on  bool
		src Source
	}{{o.GDAP, SourceGDAP}, {o.Contracts, SourceContract}, {o.PartnerCenter, SourcePartnerCenter}} {
		if s.on {
			out = append(out, s.src)
		}
	}
	return out, nil
}

// entry is what one source says of one tenant.
type entry struct {
	id, name, domain string
	rel              *RelationshipInfo
}

// listing is what one source listed, or why it could not.
type listing struct {
	source  Source
	entries []entry
	err     error
}

func read(ctx context.Context, src tenantSources, s Source, includeMLT bool) listing {
	l := listing{source: s}
	switch s {
	case SourceGDAP:
		for r, err := range src.Graph.DelegatedAdminRelationships(ctx, graph.RelationshipActive) {
			if err != nil {
				l.err = err
				break
			}
			// The filter is the service's; a relationship in another
			// state grants nothing whatever the service sent.
			if r.Status != graph.RelationshipActive || r.Customer.TenantID == "" {
				continue
			}
			mlt := isMLT(r.DisplayName)
			if mlt && !includeMLT {
				continue
			}
			roles := make([]string, 0, len(r.AccessDetails.UnifiedRoles))
			for _, u := range r.AccessDetails.UnifiedRoles {
				roles = append(roles, strings.ToLower(u.RoleDefinitionID))
			}
			l.entries = append(l.entries, entry{id: r.Customer.TenantID, name: r.Customer.DisplayName,
				rel: &RelationshipInfo{ID: r.ID, DisplayName: r.DisplayName, Roles: roles, End: r.EndDateTime, MLT: mlt}})
		}
	case SourceContract:
		for c, err := range src.Graph.Contracts(ctx) {
			if err != nil {
				l.err = err
				break
			}
			l.entries = append(l.entries, entry{id: c.CustomerID, name: c.DisplayName, domain: c.DefaultDomainName})
		}
	case SourcePartnerCenter:
		for c, err := range src.Partner.Customers(ctx, partner.ListOptions{}) {
			if err != nil {
				l.err = err
				break
			}
			l.entries = append(l.entries, entry{id: c.TenantID(), name: c.CompanyProfile.CompanyName, domain: c.CompanyProfile.Domain})
		}
	}
	return l
}

// Which source's name and domain win, lower first; see Tenant.
var (
	nameRank   = map[Source]int{SourceGDAP: 0, SourcePartnerCenter: 1, SourceContract: 2}
	domainRank = map[Source]int{SourceContract: 0, SourcePartnerCenter: 1}
)

// merging is one tenant being assembled.
type merging struct {
	t                    Tenant
	nameFrom, domainFrom int
	mltOnly              bool
}

type merger struct {
	partner string
	byID    map[string]*merging
}

func newMerger(partnerID string) *merger {
	return &merger{partner: partnerID, byID: map[string]*merging{}}
}

func (m *merger) add(l listing) {
	for _, e := range l.entries {
		id := strings.ToLower(strings.TrimSpace(e.id))
		if id == "" || id == m.partner {
			continue
		}
		g := m.byID[id]
		if g == nil {
			g = &merging{t: Tenant{ID: id}, nameFrom: len(nameRank), domainFrom: len(domainRank), mltOnly: true}
			m.byID[id] = g
		}
		t := &g.t
		if !t.Has(l.source) {
			t.Sources = append(t.Sources, l.source)
		}
		if r := nameRank[l.source]; e.name != "" && r < g.nameFrom {
			t.DisplayName, g.nameFrom = e.name, r
		}
		if d := strings.ToLower(e.domain); d != "" {
			if !slices.Contains(t.Domains, d) {
				t.Domains = append(t.Domains, d)
			}
			if r, ok := domainRank[l.source]; ok && r < g.domainFrom {
				t.DefaultDomain, g.domainFrom = d, r
			}
		}
		if e.rel != nil {
			t.Relationships = append(t.Relationships, *e.rel)
			for _, role := range e.rel.Roles {
				if !slices.Contains(t.GDAPRoles, role) {
					t.GDAPRoles = append(t.GDAPRoles, role)
				}
			}
			if e.rel.End.After(t.RelationshipEnd) {
				t.RelationshipEnd = e.rel.End
			}
			g.mltOnly = g.mltOnly && e.rel.MLT
		}
	}
}

var sourceOrder = map[Source]int{SourceGDAP: 0, SourceContract: 1, SourcePartnerCenter: 2}

// result returns the merged tenants that pass the filters, sorted, and the
// include entries that matched none.
func (m *merger) result(include, exclude []string) ([]Tenant, []string) {
	matched := make([]bool, len(include))
	out := make([]Tenant, 0, len(m.byID))
	for _, g := range m.byID {
		t := g.t
		t.ReadOnlyMLT = len(t.Relationships) > 0 && g.mltOnly
		slices.SortFunc(t.Sources, func(a, b Source) int { return sourceOrder[a] - sourceOrder[b] })
		slices.Sort(t.GDAPRoles)
		slices.SortFunc(t.Relationships, func(a, b RelationshipInfo) int {
			return cmp.Or(cmp.Compare(a.DisplayName, b.DisplayName), cmp.Compare(a.ID, b.ID))
		})
		if i := slices.Index(t.Domains, t.DefaultDomain); i > 0 {
			t.Domains[0], t.Domains[i] = t.Domains[i], t.Domains[0]
		}
		keep := len(include) == 0
		for i, s := range include {
			if t.matches(s) {
				matched[i], keep = true, true
			}
		}
		if keep && !slices.ContainsFunc(exclude, t.matches) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Tenant) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)), cmp.Compare(a.ID, b.ID))
	})
	var unmatched []string
	for i, s := range include {
		if !matched[i] {
			unmatched = append(unmatched, fmt.Sprintf("%q", s))
		}
	}
	return out, unmatched
}

// matches reports whether s names t by id or by one of its domains.
func (t Tenant) matches(s string) bool {
	s = strings.TrimSpace(s)
	return strings.EqualFold(s, t.ID) || slices.ContainsFunc(t.Domains, func(d string) bool { return strings.EqualFold(s, d) })
}
