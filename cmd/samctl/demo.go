package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

type demoFlags struct {
	tenants     int
	latency     time.Duration
	concurrency int
}

func (a *app) demoCommand() *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole model against a built-in sandbox: no credentials, no network",
		Long: `demo starts a sandbox of the Microsoft cloud inside samctl — a partner with
25 customers, a few of them broken on purpose (not consented, admin outside
the GDAP groups, MFA demanded by Conditional Access, no Exchange role,
throttled, deleted) — and runs what a partner runs:

  1. setup: the partner's admin (simulated) signs in, samctl creates the SAM
     app, consents it and gets its refresh token;
  2. tenants: the customers from GDAP relationships, contracts and Partner
     Center, merged;
  3. consent push: CPV consent in every customer through Partner Center;
  4. access check: Graph and Exchange as the admin in every customer,
     with each failure's code and fix, and the old script's summary;
  5. doctor: a summary of what is broken and what breaks within 30 days;
  6. onboarding: a new customer, from no GDAP relationship to a passing
     access check (invite, the customer's approval by a simulated admin,
     access assignments, CPV consent, check), each step shown. The SAM app
     of the demo asks for the opt-in GDAP permissions (setup --gdap).

Its exit code is 0 when the run went as designed: the broken customers are
part of the show, and every other one passes.

It is also the access check's benchmark: --tenants sets the number of
customers (above 25 the consent is given directly in the sandbox, as a
partner's long-standing consents would be), --latency delays every request
as a distant service would, --concurrency sets how many tenants are checked
at once, and --json reports the duration and the requests (token requests
among them) of the access check alone, which starts with an empty token
cache.`,
		Example: `  samctl demo
  samctl demo --json | jq '.totals'
  samctl demo --tenants 1000 --latency 20ms --concurrency 32 --json | jq '{duration_ms, requests, tokenRequests}'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if f.latency < 0 || f.concurrency < 1 {
				return usageError{err: fmt.Errorf("--concurrency must be at least 1, --latency not negative"), cmd: c.CommandPath()}
			}
			// The demo shows every kind of failure, so it cannot serve fewer
			// tenants than its broken ones; quietly serving more would make
			// --tenants untrue.
			if f.tenants < brokenCustomers {
				return usageError{err: fmt.Errorf("--tenants %d: the demo's sandbox has %d tenants broken on purpose, one for each kind of failure it shows: ask for %d or more", f.tenants, brokenCustomers, brokenCustomers), cmd: c.CommandPath()}
			}
			return a.demo(c.Context(), f)
		},
	}
	c.Flags().IntVar(&f.tenants, "tenants", testserver.DefaultSandboxCustomers, fmt.Sprintf("customer tenants in the sandbox, the %d with a problem included (%d or more)", brokenCustomers, brokenCustomers))
	c.Flags().DurationVar(&f.latency, "latency", 0, "delay every request by this much (for example 20ms)")
	c.Flags().IntVar(&f.concurrency, "concurrency", sam.DefaultConcurrency, "tenants checked at once")
	return c
}

// demoJSON is a demo run in --json output: the access check's measures
// and outcome at the top level, the rest of the run beside them.
type demoJSON struct {
	AsDesigned    bool     `json:"asDesigned"`
	Differences   []string `json:"differences"`
	TotalMS       int64    `json:"total_duration_ms"`
	TotalRequests int      `json:"totalRequests"`
	LatencyMS     int64    `json:"latency_ms"`
	// ThrottledWaitMS is how long the access check stood still waiting out
	// the throttled customer's Retry-After; duration_ms less it is the
	// check's own pace, the figure to set against the ideal.
	ThrottledWaitMS int64 `json:"throttled_wait_ms"`
	checkJSON
	Broken  []sandboxCustomerJS `json:"broken"`
	Setup   []stepJSON          `json:"setup"`
	Consent *pushJSON           `json:"consent,omitempty"`
	Doctor  *demoDoctorJSON     `json:"doctor,omitempty"`
	Onboard *demoOnboardJSON    `json:"onboard,omitempty"`
}

// demoRun is what the demo learns as it goes.
type demoRun struct {
	s       *testserver.Server
	info    testserver.SandboxInfo
	steps   *stepPrinter
	tenants []sam.Tenant
	pushed  []sam.PushResult
	rep     *sam.AccessReport
	check   *session
}

func (a *app) demo(ctx context.Context, f demoFlags) error {
	start := time.Now()
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: f.tenants, Latency: f.latency})
	defer s.Close()
	d := &demoRun{s: s, info: info, steps: a.stepPrinter()}
	d.steps.simulated = true
	w := a.stdout
	if !a.jsonOut {
		printf(w, "samctl demo: the Secure Application Model from start to end, against a sandbox of the\n")
		printf(w, "Microsoft cloud running inside samctl (no credentials, no network).\n")
		printf(w, "Partner %q has %d customers; %d of them break access on purpose, 1 is throttled.\n", info.Partner.Name, len(info.Customers), len(info.Broken()))
	}

	m, err := loadManifest("")
	if err != nil {
		return err
	}
	// The demo's app manages GDAP too (setup --gdap); the customers'
	// consent stays the default manifest.
	admin, err := a.demoSetup(ctx, d, m.Merge(sam.GDAPManifest()))
	if err != nil {
		return err
	}
	if err := a.demoTenants(ctx, d, admin); err != nil {
		return err
	}
	if err := a.demoConsent(ctx, d, admin, m); err != nil {
		return err
	}
	checkErr := a.demoCheck(ctx, d, admin, f.concurrency)
	if d.rep == nil {
		return checkErr
	}

	if ctx.Err() != nil {
		// Interrupted: what was checked says nothing of the design.
		if !a.jsonOut {
			printLine(w, d.rep.Summary())
		}
		return ctx.Err()
	}
	diffs := demoDifferences(d)
	// The check's own cost, before the doctor sends more through the
	// same client.
	reqs, toks := d.check.counter.Requests(), d.check.counter.TokenRequests()
	if !a.jsonOut {
		writeReport(w, d.rep, demoNote(d, diffs))
	}
	onboard, err := a.demoOnboard(ctx, d, admin)
	if err != nil {
		return err
	}
	// The doctor comes last: its summary is the demo's closing forecast.
	doctor, err := a.demoDoctor(ctx, d)
	if err != nil {
		return err
	}
	if diff := onboardDifference(onboard); diff != "" {
		diffs = append(diffs, diff)
	}
	if a.jsonOut {
		out := demoJSON{AsDesigned: len(diffs) == 0, Differences: diffs, TotalMS: time.Since(start).Milliseconds(),
			TotalRequests: s.TotalRequests(), LatencyMS: f.latency.Milliseconds(), ThrottledWaitMS: d.rep.ThrottledWait.Milliseconds(),
			checkJSON: reportJSON(d.rep, reqs, toks, nil),
			Broken:    []sandboxCustomerJS{}, Setup: d.steps.steps, Doctor: doctor, Onboard: onboard}
		for _, c := range info.Broken() {
			out.Broken = append(out.Broken, sandboxCustomerJS{ID: c.ID, Name: c.Name, Domain: c.Domain, Problem: string(c.Problem)})
		}
		if d.pushed != nil {
			p := pushJSONOf(d.tenants, d.pushed)
			out.Consent = &p
		}
		if err := a.printJSON(out); err != nil {
			return err
		}
	}
	switch {
	case checkErr != nil:
		return checkErr
	case len(diffs) > 0:
		return fmt.Errorf("the demo did not go as designed: %s", diffs[0])
	}
	return nil
}

func (a *app) section(title string) {
	if !a.jsonOut {
		printf(a.stdout, "\n%s\n", title)
	}
}

// demoSetup runs Setup as the sandbox's admin and returns a session on
// the credentials it made. Nothing is saved: the demo leaves no file.
func (a *app) demoSetup(ctx context.Context, d *demoRun, m sam.Manifest) (*session, error) {
	a.section("1. Setup, as the partner's admin (simulated: it approves every sign-in at once)")
	hc := d.s.Client()
	counter := &sam.CountingTransport{Base: hc.Transport}
	// The simulated admin's browser follows the authorize redirect; the
	// requests that carry credentials follow none.
	hc = &http.Client{Transport: counter}
	api := &http.Client{Transport: counter, CheckRedirect: httpx.RefuseRedirect}
	c := d.s.Cloud()
	res, err := sam.Setup(ctx, sam.SetupOptions{
		Tenant: d.info.Partner.TenantID, BootstrapClientID: d.info.BootstrapClientID, Manifest: m,
		Consent: sam.LoopbackConsent{OpenBrowser: simulatedAdmin(ctx, hc)}, ConsentTimeout: sandboxConsentTimeout,
		Progress: d.steps.print,
	}, a.partnerOptions(c, api)...)
	if err != nil {
		return nil, setupFailure(err, c)
	}
	if !a.jsonOut {
		printf(a.stdout, "  The SAM app %s and its refresh token are ready (kept in memory: the demo saves nothing).\n", res.Credentials.ApplicationID)
	}
	sp, err := sam.New(res.Credentials, append(a.partnerOptions(c, api), sam.WithConcurrency(sam.DefaultPushConcurrency*2))...)
	if err != nil {
		return nil, err
	}
	return newSession(res.Credentials, sp, api, counter), nil
}

func (a *app) demoTenants(ctx context.Context, d *demoRun, admin *session) error {
	a.section("2. Customer tenants")
	tenants, warnings, err := admin.listTenants(ctx, sam.ListOptions{})
	if err != nil {
		return err
	}
	d.tenants = tenants
	if a.jsonOut {
		return nil
	}
	for _, w := range warnings {
		printf(a.stdout, "  %s %s\n", markFail, w)
	}
	count := map[sam.Source]int{}
	for _, t := range tenants {
		for _, s := range t.Sources {
			count[s]++
		}
	}
	printf(a.stdout, "  %s %d tenants: %d with GDAP relationships, %d with contracts, %d in Partner Center, merged by tenant id\n",
		markOK, len(tenants), count[sam.SourceGDAP], count[sam.SourceContract], count[sam.SourcePartnerCenter])
	printf(a.stdout, "      Microsoft-led transition (MLT_) relationships grant nothing and are left out.\n")
	return nil
}

// demoConsent pushes consent to every tenant through Partner Center. A
// larger sandbox gets its consent directly, so that only the access check
// is timed.
func (a *app) demoConsent(ctx context.Context, d *demoRun, admin *session, m sam.Manifest) error {
	a.section("3. Consent push (CPV consent through Partner Center)")
	if len(d.info.Customers) > testserver.DefaultSandboxCustomers {
		if err := d.s.GrantSandboxConsent(admin.creds.ApplicationID, d.info); err != nil {
			return err
		}
		if !a.jsonOut {
			printf(a.stdout, "  %s consent given directly in the sandbox to %d tenants, as a partner's long-standing consents would be\n",
				markOK, len(d.info.Consentable()))
		}
		return nil
	}
	results, err := a.push(ctx, admin, d.tenants, m)
	if err != nil {
		return err
	}
	d.pushed = results
	if a.jsonOut {
		return ctx.Err()
	}
	failed := 0
	for i, r := range results {
		if r.Err == nil {
			continue
		}
		failed++
		printf(a.stdout, "  %s %s: %s\n", markFail, d.tenants[i].DisplayName, reason(r.Err))
	}
	printf(a.stdout, "  %s %d tenants consented", markOK, len(results)-failed)
	if failed > 0 {
		printf(a.stdout, "; %d could not be (the access check shows why, with the fix)", failed)
	}
	printLine(a.stdout)
	return ctx.Err()
}

// demoCheck checks access with a Partner of its own, whose empty cache
// makes the run cost what a first check costs, counted on its own.
func (a *app) demoCheck(ctx context.Context, d *demoRun, admin *session, concurrency int) error {
	a.section(fmt.Sprintf("4. Access check: Graph and Exchange as the admin, in every tenant (%d at once)", concurrency))
	counter := &sam.CountingTransport{Base: d.s.Client().Transport}
	hc := &http.Client{Transport: counter, CheckRedirect: httpx.RefuseRedirect}
	creds := admin.creds
	creds.RefreshToken = admin.p.RefreshToken(token.RefreshSAM)
	sp, err := sam.New(creds, append(a.partnerOptions(admin.cloud, hc), sam.WithConcurrency(concurrency))...)
	if err != nil {
		return err
	}
	d.check = newSession(creds, sp, hc, counter)
	rep, err := a.runCheck(ctx, d.check, d.tenants, sam.Checks{}, "")
	d.rep = rep
	if !a.jsonOut && rep != nil {
		printf(a.stdout, "  %d requests, %d of them for tokens, in %v\n\n", counter.Requests(), counter.TokenRequests(), rep.Duration.Round(time.Millisecond))
	}
	return err
}

// demoDifferences compares the run with the sandbox's design: every
// customer listed, consent refused exactly where Partner Center refuses
// it, and each check failing exactly in the customers broken for it.
func demoDifferences(d *demoRun) []string {
	var diffs []string
	byID := map[string]testserver.SandboxCustomer{}
	for _, c := range d.info.Customers {
		byID[c.ID] = c
	}
	if len(d.tenants) != len(d.info.Customers) {
		diffs = append(diffs, fmt.Sprintf("%d tenants were listed, the sandbox has %d", len(d.tenants), len(d.info.Customers)))
	}
	for i, r := range d.pushed {
		c := byID[d.tenants[i].ID]
		// The consent needs Partner Center, then Graph in the tenant.
		want := c.Problem.BreaksGraph()
		if got := r.Err != nil; got != want {
			diffs = append(diffs, fmt.Sprintf("consent push in %s (%s): failed %v, expected %v", c.Name, c.Problem.Describe(), got, want))
		}
	}
	for _, t := range d.rep.Tenants {
		c, ok := byID[t.Tenant.ID]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("tenant %s is not one of the sandbox's", t.Tenant.Label()))
			continue
		}
		for _, cr := range t.Checks {
			want := c.Problem.BreaksGraph()
			if cr.Check == sam.CheckDelegatedExchange {
				want = c.Problem.BreaksExchange()
			}
			if got := cr.Outcome != sam.OutcomePassed; got != want {
				diffs = append(diffs, fmt.Sprintf("%s in %s (%s): %s, expected it to %s", cr.Check, c.Name, c.Problem.Describe(), cr.Outcome, map[bool]string{true: "fail", false: "pass"}[want]))
			}
		}
	}
	if diffs == nil {
		diffs = []string{}
	}
	return diffs
}

// demoNote says, before the summary, how the run compares with the design,
// a line per element: the report escapes each line's control characters,
// a line break included.
func demoNote(d *demoRun, diffs []string) []string {
	if len(diffs) > 0 {
		return []string{fmt.Sprintf("The run did NOT go as designed (%d differences); the first: %s.", len(diffs), diffs[0])}
	}
	return []string{fmt.Sprintf("As designed: the failures are the %d customers broken on purpose, each with its fix.", len(d.info.Broken())),
		"Next: 'samctl sandbox' serves this fake cloud for your own tools; 'samctl setup' does this for real."}
}
