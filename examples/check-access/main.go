// check-access checks, in every customer tenant, that the SAM app reaches
// Microsoft Graph and Exchange Online as the partner's admin, and reports
// each failure with the service's code and a fix: what the old PowerShell
// test script did, concurrently.
//
//	go run ./examples/check-access                        # against a sandbox
//	go run ./examples/check-access -credentials sam.json  # your customers
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/sam"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "check-access:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	tenants, err := env.Tenants(ctx)
	if err != nil {
		return err
	}
	rep, err := env.Partner.Check(ctx, tenants, sam.CheckOptions{
		Checks: sam.Checks{DelegatedGraph: true, DelegatedExchange: true, PartnerCenter: true},
		// Called once per tenant as it finishes, never concurrently.
		Progress: func(r sam.TenantResult, done, total int) {
			mark := "✓"
			if r.Failed() {
				mark = "✗"
			}
			fmt.Printf("[%2d/%d] %s %s\n", done, total, mark, r.Tenant.DisplayName)
		},
	})
	if err != nil {
		return err
	}
	for _, t := range rep.Failures() {
		fmt.Printf("\n%s\n", t.Tenant.Label())
		for _, c := range t.Checks {
			if !c.OK() {
				fmt.Printf("  %s: %s\n    fix: %s\n", c.Check, c.Code, c.Hint)
			}
		}
	}
	fmt.Printf("\n%s (in %v)\n", rep.Summary(), rep.Duration.Round(1e6))
	return nil
}
