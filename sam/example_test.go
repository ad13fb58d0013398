package sam_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// sandboxProvider returns a token provider holding the credentials of a
// sandbox's SAM app, as token.NewProvider would hold a partner's.
func sandboxProvider(s *testserver.Server, info testserver.SandboxInfo) *token.Provider {
	p, err := token.NewProvider(token.Credentials{
		TenantID:      info.Partner.TenantID,
		ApplicationID: info.App.AppID,
		ClientSecret:  token.NewSecret(info.App.Secret),
		RefreshToken:  token.NewSecret(info.RefreshToken),
	}, token.WithCloud(s.Cloud()), token.WithHTTPClient(s.Client()))
	if err != nil {
		panic(err)
	}
	return p
}

// sources are the partner admin's Graph and Partner Center clients.
func sources(p *token.Provider, partnerTenant string) sam.TenantSources {
	c := p.Cloud()
	g, err := graph.New(p.Source(partnerTenant, c.Graph.Scope()), graph.WithCloud(c), graph.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		panic(err)
	}
	pc, err := partner.New(p.Source(partnerTenant, c.PartnerCenter.Scope()), partner.WithCloud(c), partner.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		panic(err)
	}
	return sam.TenantSources{Graph: g, Partner: pc}
}

func ExampleListTenants() {
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 5, Healthy: true, App: true})
	defer s.Close()
	p := sandboxProvider(s, info)

	tenants, err := sam.ListTenants(context.Background(), sources(p, info.Partner.TenantID), sam.ListOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range tenants {
		var from []string
		for _, src := range t.Sources {
			from = append(from, string(src))
		}
		fmt.Printf("%s (%s): %s\n", t.DisplayName, t.DefaultDomain, strings.Join(from, ", "))
	}
	// Output:
	// Alpine Ski House (alpineskihouse.onmicrosoft.com): gdap, partnercenter
	// Coho Winery (cohowinery.onmicrosoft.com): gdap, contract, partnercenter
	// Lucerne Publishing (lucernepublishing.onmicrosoft.com): gdap, contract, partnercenter
	// Proseware (proseware.onmicrosoft.com): gdap, partnercenter
	// Woodgrove Bank (woodgrovebank.onmicrosoft.com): gdap, contract, partnercenter
}

func ExampleCheckAccess() {
	// A sandbox partner with eight customers, five of them broken on
	// purpose. Its sixth problem, a throttled tenant, is cleared: honouring
	// its Retry-After would only make the example slower.
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 8, App: true})
	defer s.Close()
	s.ClearFaults()
	p := sandboxProvider(s, info)
	ctx := context.Background()

	tenants, err := sam.ListTenants(ctx, sources(p, info.Partner.TenantID), sam.ListOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := sam.CheckAccess(ctx, sam.CheckOptions{Provider: p, Tenants: tenants, HTTPClient: s.Client()})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range rep.Failures() {
		var failed []string
		for _, c := range t.Checks {
			if !c.OK() {
				failed = append(failed, fmt.Sprintf("%s %s", c.Check, c.Code))
			}
		}
		fmt.Printf("%s: %s\n", t.Tenant.DisplayName, strings.Join(failed, ", "))
	}
	fmt.Println(rep.Summary())
	// Output:
	// Fabrikam: delegated-graph AADSTS50020, delegated-exchange AADSTS50020
	// Litware: delegated-graph AADSTS90002, delegated-exchange AADSTS90002
	// Northwind Traders: delegated-graph AADSTS90099, delegated-exchange AADSTS90099
	// Tailspin Toys: delegated-graph AADSTS50076, delegated-exchange AADSTS50076
	// Wide World Importers: delegated-exchange Forbidden
	// 8 total tenants, with 5 failures
}
