package samtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

// Example gets a delegated Graph token in every customer of a fake
// partner, two of whose customers are broken.
func Example() {
	srv, err := samtest.NewServer(samtest.World{Customers: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.AddCustomer(samtest.CustomerSpec{Name: "Fabrikam", Problem: samtest.MFARequired}); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.AddCustomer(samtest.CustomerSpec{Name: "Litware", NotConsented: true}); err != nil {
		log.Fatal(err)
	}
	p, err := srv.Provider()
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	for _, c := range srv.Customers() {
		_, err := p.Token(ctx, c.ID, p.Cloud().Graph.Scope())
		switch {
		case errors.Is(err, token.ErrMFARequired):
			fmt.Printf("%s: MFA required\n", c.Name)
		case errors.Is(err, token.ErrConsentRequired):
			fmt.Printf("%s: not consented\n", c.Name)
		case err != nil:
			fmt.Printf("%s: %v\n", c.Name, err)
		default:
			fmt.Printf("%s: token\n", c.Name)
		}
	}
	// Output:
	// Woodgrove Bank: token
	// Proseware: token
	// Fabrikam: MFA required
	// Litware: not consented
}

// ExampleServer_Inject throttles a customer's Graph reads and reads back
// what the client did about it.
func ExampleServer_Inject() {
	srv, err := samtest.NewServer(samtest.World{Customers: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	customer := srv.Customers()[0]
	if err := srv.Inject(samtest.Fault{Kind: samtest.Throttle, Service: "graph", Tenant: customer.ID, Count: 1, RetryAfter: "0"}); err != nil {
		log.Fatal(err)
	}
	p, err := srv.Provider()
	if err != nil {
		log.Fatal(err)
	}
	g, err := graph.New(p.Source(customer.ID, p.Cloud().Graph.Scope()),
		graph.WithCloud(p.Cloud()), graph.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	org, err := g.Organization(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("organization:", org.DisplayName)
	for _, r := range srv.Requests() {
		if r.Service == "graph" {
			fmt.Println(r.Method, r.Path, r.Status, r.Fault)
		}
	}
	// Output:
	// organization: Woodgrove Bank
	// GET /graph/v1.0/organization 429 throttle
	// GET /graph/v1.0/organization 200
}

// ExampleServer_Tenant reads a customer's state in the fake, as a test
// asserts on what the code under test changed.
func ExampleServer_Tenant() {
	srv, err := samtest.NewServer(samtest.World{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := srv.AddCustomer(samtest.CustomerSpec{Name: "Northwind Traders", Domain: "northwind.example", NotConsented: true})
	if err != nil {
		log.Fatal(err)
	}
	t, ok := srv.Tenant(c.ID)
	fmt.Println(ok, t.Name, t.Domain, "consented:", t.Consented)
	for _, u := range t.Users {
		fmt.Println(u.UPN)
	}
	// Output:
	// true Northwind Traders northwind.example consented: false
	// admin@northwind.example
	// user1@northwind.example
	// user2@northwind.example
	// user3@northwind.example
}

// ExampleInMemory runs the fake without a socket: only its own client
// reaches it, and a test using it can run in a testing/synctest bubble.
func ExampleInMemory() {
	srv, err := samtest.NewServer(samtest.World{Customers: 1}, samtest.InMemory())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	p, err := srv.Provider()
	if err != nil {
		log.Fatal(err)
	}
	tok, err := p.AppToken(context.Background(), srv.Customers()[0].ID, p.Cloud().Graph.Scope())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.URL(), tok.Kind)
	// Output:
	// https://fake.samkit.invalid app-only
}

// ExampleServer_ApproveRelationship onboards a tenant that is no customer
// yet: its admin approves the invitation as soon as the onboarding waits,
// and the minutes GDAP takes to activate the assignments pass on the
// fake's clock.
func ExampleServer_ApproveRelationship() {
	srv, err := samtest.NewServer(samtest.World{Manifest: sam.GDAPManifest()}, samtest.InMemory())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	prospect, err := srv.AddProspect("Tailwind Traders")
	if err != nil {
		log.Fatal(err)
	}
	p, err := sam.New(srv.Credentials(), sam.WithCloud(srv.Cloud()), sam.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	var waited time.Duration
	res, err := p.Onboard(context.Background(), sam.OnboardOptions{DisplayName: "Tailwind samkit", Timeout: time.Hour,
		Sleep: func(ctx context.Context, d time.Duration) error {
			waited += d
			srv.Advance(d)
			return ctx.Err()
		},
		Progress: func(e sam.OnboardEvent) {
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
				if err := srv.ApproveRelationship(e.RelationshipID, prospect.ID); err != nil {
					log.Fatal(err)
				}
			}
		}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range srv.Relationships() {
		fmt.Println(r.DisplayName, r.Status, r.CustomerName, r.CustomerID == res.Customer)
		for _, a := range r.Assignments {
			fmt.Println(" ", a.GroupName, a.Status)
		}
	}
	fmt.Println("waited on the fake's clock:", waited)
	// Output:
	// Tailwind samkit active Tailwind Traders true
	//   GDAP - Directory Readers active
	//   GDAP - Cloud Application Administrator active
	//   GDAP - Privileged Role Administrator active
	//   GDAP - Exchange Administrator active
	// waited on the fake's clock: 1m0s
}
