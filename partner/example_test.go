package partner_test

import (
	"context"
	"fmt"
	"log"

	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

// sandbox starts the fake cloud with a consented SAM app, and returns it
// with the credentials a partner stores after setup.
func sandbox() (*samtest.Server, token.Credentials) {
	srv, err := samtest.NewServer(samtest.World{})
	if err != nil {
		log.Fatal(err)
	}
	return srv, srv.Credentials()
}

// The partner admin's refresh token lists the partner's customers. The
// fake cloud stands in for Microsoft's.
func Example() {
	srv, creds := sandbox()
	defer srv.Close()
	for _, name := range []string{"Fabrikam", "Northwind Traders"} {
		if _, err := srv.AddCustomer(samtest.CustomerSpec{Name: name}); err != nil {
			log.Fatal(err)
		}
	}

	p, err := token.NewProvider(creds, token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	pc, err := partner.New(p.Source(creds.TenantID, p.Cloud().PartnerCenter.Scope()),
		partner.WithCloud(p.Cloud()), partner.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	for c, err := range pc.Customers(context.Background(), partner.ListOptions{}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(c.CompanyProfile.CompanyName, c.CompanyProfile.Domain)
	}
	// Output:
	// Fabrikam fabrikam.onmicrosoft.com
	// Northwind Traders northwindtraders.onmicrosoft.com
}

// Pushing the SAM app's consent to a customer is idempotent: the second
// push reports that the consent existed.
func ExampleClient_CreateApplicationConsent() {
	srv, creds := sandbox()
	defer srv.Close()
	// A customer who has just signed: the SAM app is not consented there.
	c, err := srv.AddCustomer(samtest.CustomerSpec{Name: "Fabrikam", NotConsented: true})
	if err != nil {
		log.Fatal(err)
	}
	customer := c.ID

	p, err := token.NewProvider(creds, token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	pc, err := partner.New(p.Source(creds.TenantID, p.Cloud().PartnerCenter.Scope()),
		partner.WithCloud(p.Cloud()), partner.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	consent := partner.ApplicationConsent{
		ApplicationID: creds.ApplicationID,
		DisplayName:   "SAM",
		Grants: []partner.ApplicationGrant{{
			EnterpriseApplicationID: "00000003-0000-0000-c000-000000000000", // Microsoft Graph
			Scopes:                  []string{"Directory.Read.All", "User.Read.All"},
		}},
	}
	for range 2 {
		res, err := pc.CreateApplicationConsent(context.Background(), customer, consent)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("already existed:", res.AlreadyExisted)
	}
	// The refresh token now reaches Microsoft Graph in the customer's tenant.
	if _, err := p.Token(context.Background(), customer, p.Cloud().Graph.Scope()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Graph token for the customer: ok")
	// Output:
	// already existed: false
	// already existed: true
	// Graph token for the customer: ok
}
