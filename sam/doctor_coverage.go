package sam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// FindingGDAPRoles: the partner's admin lacks, through GDAP, a role that
// samkit's operations need in a tenant.
const FindingGDAPRoles = "gdap-roles"

// coverage starts reading which roles samkit's operations need that the
// partner's admin lacks in the doctor's tenants, beside the rest of the
// run, and returns what waits for it. It is one Coverage for all tenants:
// its requests follow the relationships and the admin's groups, not the
// tenants.
func (d *doctor) coverage(ctx context.Context) (wait func()) {
	if len(d.customers) == 0 {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		ids := make([]string, len(d.customers))
		for i, t := range d.customers {
			ids[i] = t.ID
		}
		rep, err := d.gdapCoverage(ctx, ids)
		if err != nil {
			d.add(Finding{Kind: FindingGDAPRoles, Where: WherePartner, Severity: SeverityWarning,
				What: "the GDAP roles of the tenants could not be read: " + firstLine(err.Error()), Fix: "samctl gdap coverage"})
			return
		}
		for _, t := range rep.Tenants {
			if f, ok := coverageFinding(t); ok {
				d.add(f)
			}
		}
	})
	return wg.Wait
}

func (d *doctor) gdapCoverage(ctx context.Context, tenants []string) (*CoverageReport, error) {
	g, err := d.p.GDAP(WithGDAPClock(func() time.Time { return d.now }))
	if err != nil {
		return nil, err
	}
	return g.Coverage(ctx, CoverageOptions{Tenants: tenants})
}

// coverageFinding is one finding for a tenant's missing roles, with the
// commands that add them.
func coverageFinding(t TenantCoverage) (Finding, bool) {
	if t.Complete() {
		return Finding{}, false
	}
	var what, fixes []string
	for _, m := range t.Missing {
		what = append(what, fmt.Sprintf("%s (%s link: %s)", m.Role.Name, m.Link, m.Why))
		if !slices.Contains(fixes, m.Fix) {
			fixes = append(fixes, m.Fix)
		}
	}
	return Finding{Kind: FindingGDAPRoles, Where: t.TenantID, Severity: SeverityBroken,
		What: "the admin lacks GDAP roles samkit's operations need: " + strings.Join(what, "; "),
		Fix:  strings.Join(fixes, "; ")}, true
}
