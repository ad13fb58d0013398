// push-consent installs the SAM app in a customer tenant (CPV consent
// through Partner Center, then its application permissions inside the
// tenant) and shows the difference: before, the tenant refuses a token with
// AADSTS65001; after, it issues one.
//
//	go run ./examples/push-consent                                         # against a sandbox
//	go run ./examples/push-consent -credentials sam.json -tenant <id>      # one of your customers
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

var tenant = flag.String("tenant", "", "customer tenant id to consent the app in (default in the sandbox: a new customer)")

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "push-consent:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	target := *tenant
	if target == "" && env.Sandbox != nil {
		// A customer who just signed: the SAM app is not in its tenant yet.
		c, err := env.Sandbox.AddCustomer(samtest.CustomerSpec{Name: "Fabrikam Residences", NotConsented: true})
		if err != nil {
			return err
		}
		target = c.ID
	}
	if target == "" {
		return errors.New("name the customer tenant with -tenant")
	}

	try := func(when string) {
		_, err := env.Provider.Token(ctx, target, env.Cloud.Graph.Scope())
		switch {
		case errors.Is(err, token.ErrConsentRequired):
			fmt.Printf("%s: no Graph token, the app is not consented (%v)\n", when, err)
		case err != nil:
			fmt.Printf("%s: no Graph token: %v\n", when, err)
		default:
			fmt.Printf("%s: Graph token issued\n", when)
		}
	}
	try("before")
	results, err := env.Partner.PushConsent(ctx, []string{target}, sam.PushOptions{
		// The default permissions, and the delegated one that lets the push
		// assign the app's application permissions inside the tenant
		// (samctl's setup asks for it, and the sandbox's app holds it).
		Manifest: sam.DefaultManifest().Merge(sam.Manifest{Resources: []sam.ResourceAccess{{ResourceAppID: sam.GraphAppID,
			Delegated: []sam.Permission{{ID: "84bccea3-f856-4a8a-967b-dbe0a3d53a64", Name: "AppRoleAssignment.ReadWrite.All"}}}}}),
	})
	if err != nil {
		return err
	}
	res := results[0]
	fmt.Printf("consent: Partner Center %s it; %d application permissions assigned in the tenant\n", res.PartnerConsent, res.AssignmentsCreated)
	try("after")
	return nil
}
