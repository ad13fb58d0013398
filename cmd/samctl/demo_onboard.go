package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samkit/samkit/sam"
)

// demoProspect is the company the demo onboards: a tenant of the sandbox
// with no relationship to the partner yet.
const demoProspect = "Tailwind Traders"

// demoOnboardJSON is the onboarding in demo --json.
type demoOnboardJSON struct {
	Complete bool              `json:"complete"`
	Customer string            `json:"customer"`
	Steps    []onboardStepJSON `json:"steps"`
	// SimulatedWaitS is the time the onboarding waited, in the sandbox's
	// clock: moved forward instead of slept.
	SimulatedWaitS int64 `json:"simulated_wait_s"`
}

// demoOnboard onboards a new customer from no relationship to a passing
// access check. The sandbox's simulated customer admin approves the
// invitation as soon as it is waited for, and the onboarding's pauses
// move the sandbox's clock instead of the demo's: the minutes GDAP takes
// to activate assignments pass at once.
func (a *app) demoOnboard(ctx context.Context, d *demoRun, admin *session) (*demoOnboardJSON, error) {
	a.section("5. Onboarding a new customer: from no GDAP relationship to a passing check")
	prospect := d.s.AddProspect(demoProspect)
	out := &demoOnboardJSON{Steps: []onboardStepJSON{}}
	p := &onboardPrinter{a: a, indent: "  "}
	var waited time.Duration
	var approveErr error
	o := sam.OnboardOptions{
		DisplayName: demoProspect + " samkit", AutoExtend: true,
		Sleep: func(ctx context.Context, dur time.Duration) error {
			waited += dur
			d.s.Clock().Advance(dur)
			return ctx.Err()
		},
		Progress: func(e sam.OnboardEvent) {
			p.print(e)
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting && approveErr == nil {
				if approveErr = d.s.ApproveRelationship(e.RelationshipID, prospect.ID); approveErr == nil && !a.jsonOut {
					printf(a.stdout, "  → (simulated customer admin of %s) opens the link and approves\n", demoProspect)
				}
			}
		},
	}
	if !a.jsonOut {
		printf(a.stdout, "  %s: no relationship yet; template %s\n", demoProspect, sam.DefaultRoleTemplateName)
	}
	res, err := admin.sp.Onboard(ctx, o)
	out.Complete, out.Customer, out.SimulatedWaitS = res.Complete(), res.Customer, int64(waited/time.Second)
	for _, e := range res.Steps {
		sj := onboardStepJSON{Step: e.Step, Status: e.Status, Detail: e.Detail}
		if e.Err != nil {
			sj.Error = oneLine(e.Err)
		}
		out.Steps = append(out.Steps, sj)
	}
	if err != nil {
		return out, errors.Join(err, approveErr)
	}
	if !a.jsonOut {
		printf(a.stdout, "  Onboarded; GDAP's %v of waiting passed on the sandbox's clock.\n", waited)
		printf(a.stdout, "  'samctl onboard' does this for real; run again, it continues.\n")
	}
	return out, nil
}

// onboardDifference says how the demo's onboarding differs from the
// design, or "".
func onboardDifference(o *demoOnboardJSON) string {
	if o == nil || o.Complete {
		return ""
	}
	return fmt.Sprintf("the onboarding of %s did not complete", demoProspect)
}
