package sam_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// sandboxPartner returns the Partner of a sandbox's SAM app, as sam.Open
// returns a partner's from its store.
func sandboxPartner(s *testserver.Server, info testserver.SandboxInfo) *sam.Partner {
	p, err := sam.New(token.Credentials{
		TenantID:      info.Partner.TenantID,
		ApplicationID: info.App.AppID,
		ClientSecret:  token.NewSecret(info.App.Secret),
		RefreshToken:  token.NewSecret(info.RefreshToken),
	}, sam.WithCloud(s.Cloud()), sam.WithHTTPClient(s.Client()))
	if err != nil {
		panic(err)
	}
	return p
}

func ExamplePartner_Tenants() {
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 5, Healthy: true, App: true})
	defer s.Close()
	p := sandboxPartner(s, info)

	tenants, err := p.Tenants(context.Background(), sam.ListOptions{})
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

func ExamplePartner_Check() {
	// A sandbox partner with eight customers, five of them broken on
	// purpose. Its sixth problem, a throttled tenant, is cleared: honouring
	// its Retry-After would only make the example slower.
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 8, App: true})
	defer s.Close()
	s.ClearFaults()
	p := sandboxPartner(s, info)
	ctx := context.Background()

	tenants, err := p.Tenants(ctx, sam.ListOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := p.Check(ctx, tenants, sam.CheckOptions{})
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
