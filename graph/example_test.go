package graph_test

import (
	"context"
	"fmt"
	"log"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

// Example reads the partner tenant as the SAM app's admin, against the
// sandbox: the same calls reach graph.microsoft.com with a real tenant's
// credentials and cloud.Public.
func Example() {
	sandbox, err := samtest.NewServer(samtest.World{})
	if err != nil {
		log.Fatal(err)
	}
	defer sandbox.Close()
	if _, err := sandbox.AddCustomer(samtest.CustomerSpec{Name: "Fabrikam"}); err != nil {
		log.Fatal(err)
	}
	creds := sandbox.Credentials() // the SAM app's, as samctl setup stores them

	provider, err := token.NewProvider(creds, token.WithCloud(sandbox.Cloud()), token.WithHTTPClient(sandbox.Client()))
	if err != nil {
		log.Fatal(err)
	}
	cloud := provider.Cloud()
	c, err := graph.New(provider.Source(creds.TenantID, cloud.Graph.Scope()),
		graph.WithCloud(cloud), graph.WithHTTPClient(provider.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	org, err := c.Organization(ctx)
	if err != nil {
		log.Fatal(err)
	}
	admin, err := c.IsGlobalAdmin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%s), global admin: %v\n", org.DisplayName, org.DefaultDomain(), admin)
	for contract, err := range c.Contracts(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("customer:", contract.DisplayName, contract.DefaultDomainName)
	}
	// Output:
	// Contoso Partner (contosopartner.onmicrosoft.com), global admin: true
	// customer: Fabrikam fabrikam.onmicrosoft.com
}
