// onboard-customer takes a new customer from no relationship with the
// partner to a passing access check: a GDAP invitation from a role
// template, the customer admin's approval, access assignments to the
// partner's security groups, CPV consent, then the access check. Each step
// reads what Microsoft holds first, so running it again continues where a
// run stopped.
//
// In the sandbox a prospect, Tailwind Traders, approves as soon as the
// onboarding waits for it, and GDAP's minutes of activation pass on the
// sandbox's clock. With real credentials the app needs sam.GDAPManifest's
// permissions (samctl setup --gdap); send the printed link to the
// customer's admin, and the example waits up to a day for the approval.
//
//	go run ./examples/onboard-customer                                                  # against a sandbox
//	go run ./examples/onboard-customer -credentials sam.json -name "Contoso samkit"      # a real invitation
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/sam"
)

var name = flag.String("name", "", "display name of the GDAP relationship, unique among the partner's (default in the sandbox: \"Tailwind Traders samkit\")")

// prospect is the company the sandbox onboards.
const prospect = "Tailwind Traders"

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "onboard-customer:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.OpenWithPermissions(ctx, sam.GDAPManifest())
	if err != nil {
		return err
	}
	defer env.Close()
	opts := sam.OnboardOptions{DisplayName: *name, AutoExtend: true,
		// Each wait (the approval, the assignments) gives up after a day.
		Timeout: 24 * time.Hour,
		Progress: func(e sam.OnboardEvent) {
			fmt.Printf("%-9s %-13s %s\n", e.Step, e.Status, connect.Plain(e.Detail))
			if e.Err != nil {
				fmt.Printf("          %s\n", connect.Plain(e.Err.Error()))
			}
		},
	}
	if env.Sandbox != nil {
		c, err := env.Sandbox.AddProspect(prospect)
		if err != nil {
			return err
		}
		if opts.DisplayName == "" {
			opts.DisplayName = prospect + " samkit"
		}
		// The prospect's admin opens the invitation link and approves.
		var approveErr error
		show := opts.Progress
		opts.Progress = func(e sam.OnboardEvent) {
			show(e)
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting && approveErr == nil {
				if approveErr = env.Sandbox.ApproveRelationship(e.RelationshipID, c.ID); approveErr == nil {
					fmt.Printf("          (sandbox: the admin of %s approves)\n", prospect)
				}
			}
		}
		// GDAP activates assignments in minutes: the sandbox's clock
		// moves instead of the example waiting.
		opts.Sleep = func(ctx context.Context, d time.Duration) error {
			if approveErr != nil {
				return fmt.Errorf("the sandbox's customer admin could not approve: %w", approveErr)
			}
			env.Sandbox.Advance(d)
			return ctx.Err()
		}
	}
	if opts.DisplayName == "" {
		return errors.New("name the relationship with -name: a re-run finds it by that name")
	}

	res, err := env.Partner.Onboard(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("\nOnboarded %s through GDAP relationship %s.\n", res.Customer, res.Relationship.ID)

	// What any later run sees: the access check of the new customer.
	rep, err := env.Partner.Check(ctx, []sam.Tenant{{ID: res.Customer, DisplayName: res.Relationship.Customer.DisplayName}},
		sam.CheckOptions{Checks: sam.Checks{DelegatedGraph: true, DelegatedExchange: true, AppGraph: true}})
	if err != nil {
		return err
	}
	for _, t := range rep.Tenants {
		for _, c := range t.Checks {
			if c.OK() {
				fmt.Printf("  ✓ %s\n", c.Check)
			} else {
				fmt.Printf("  ✗ %s: %s\n    fix: %s\n", c.Check, connect.Plain(c.Code), connect.Plain(c.Hint))
			}
		}
	}
	fmt.Println(rep.Summary())
	if len(rep.Failures()) > 0 {
		return errors.New("the new customer fails the access check")
	}
	return nil
}
