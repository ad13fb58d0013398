package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/sam"
)

// demoDoctorJSON is the doctor's summary in demo --json: its findings by
// kind, and its duration beside the access check's (the doctor runs the
// check again, with the tokens cached, and reads the consent in every
// tenant).
type demoDoctorJSON struct {
	Broken     int            `json:"broken"`
	Warnings   int            `json:"warnings"`
	ByKind     map[string]int `json:"byKind"`
	DurationMS int64          `json:"duration_ms"`
}

// demoDoctor ends the demo with the doctor over the tenants the check saw.
// The check session's Partner has the demo's concurrency.
func (a *app) demoDoctor(ctx context.Context, d *demoRun) (*demoDoctorJSON, error) {
	a.section("6. Doctor: what is broken, and what breaks within 30 days")
	start := time.Now()
	rep, err := d.check.sp.Doctor(ctx, d.tenants, sam.DoctorOptions{StoredSecret: d.check.creds.ClientSecret})
	if err != nil {
		return nil, err
	}
	out := &demoDoctorJSON{ByKind: map[string]int{}, DurationMS: time.Since(start).Milliseconds()}
	for _, f := range rep.Findings {
		out.ByKind[f.Kind]++
		if f.Severity == sam.SeverityBroken {
			out.Broken++
		} else {
			out.Warnings++
		}
	}
	if a.jsonOut {
		return out, nil
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(out.ByKind)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, out.ByKind[k]))
	}
	mark := markOK
	if out.Broken > 0 {
		mark = markFail
	}
	printf(a.stdout, "  %s %d broken now, %d within 30 days", mark, out.Broken, out.Warnings)
	if len(kinds) > 0 {
		printf(a.stdout, " (%s)", strings.Join(kinds, ", "))
	}
	printf(a.stdout, ", in %v.\n  'samctl doctor' gives each finding with its date and fix.\n", time.Duration(out.DurationMS)*time.Millisecond)
	return out, nil
}
