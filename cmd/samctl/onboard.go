package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/sam"
)

type onboardFlags struct {
	customer, name, template, templates, duration string
	isNew, autoExtend, noWait                     bool
}

func (a *app) onboardCommand() *cobra.Command {
	var f onboardFlags
	c := &cobra.Command{
		Use:   "onboard",
		Short: "Take a customer from no GDAP relationship to a passing access check",
		Long: `onboard runs, for one customer, every step that gives the SAM app access:

  invite    a GDAP relationship from a role template (--template)
  lock      locked for approval: the invitation link is printed
  approval  waits until the customer's admin approves at that link
  assign    each role to a partner security group, the signed-in admin in
            them; waits until the assignments are active
  consent   the SAM app's CPV consent to the customer (waiting out the
            AADSTS65001 of a consent not yet propagated)
  check     the access check of the customer

Give --customer TENANT-ID for an existing customer, or --new with --name for
a new one: the invitation then names no customer, and whichever tenant's
admin approves it becomes the customer.

Run it again with the same flags to continue an onboarding that stopped (a
timeout, Ctrl-C, --no-wait): each step reads what Microsoft holds (the
relationship by its name, its status, its assignments, the consent) and
does only what is missing. A finished onboarding changes nothing and shows
every step as already done.

--timeout bounds the whole run, the wait for approval included; without it
samctl waits until the customer approves or Ctrl-C. --no-wait stops once the
invitation link is printed (exit code 0); run onboard again later.

The SAM app needs DelegatedAdminRelationship.ReadWrite.All and
Group.ReadWrite.All in the partner tenant: 'samctl setup --gdap' asks for
them. Exit codes: 0 done (or awaiting approval with --no-wait), 1 a step
failed, 2 usage, 130 interrupted.`,
		Example: `  samctl onboard --customer 6f1c3c1e-1111-4a2b-9c3d-222233334444 --auto-extend
  samctl onboard --new --name "Contoso samkit" --template helpdesk --no-wait
  samctl onboard --new --name "Contoso samkit" --timeout 24h -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			o, err := f.options()
			if err != nil {
				return usageError{err: err, cmd: c.CommandPath()}
			}
			s, err := a.session(c.Context())
			if err != nil {
				return err
			}
			return a.onboard(c.Context(), s, o)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.customer, "customer", "", "the customer's tenant id")
	fl.BoolVar(&f.isNew, "new", false, "a new customer: the invitation names none, --name finds it again")
	fl.StringVar(&f.name, "name", "", `the relationship's name, unique, at most 50 characters (default with --customer: "samkit TENANT-ID")`)
	fl.StringVar(&f.template, "template", sam.DefaultRoleTemplateName, "the role template ('samctl gdap templates' lists them)")
	fl.StringVar(&f.templates, "templates", "", "a JSON file of more role templates")
	fl.StringVar(&f.duration, "duration", "P730D", "how long the relationship lasts, P1D to P2Y (ISO 8601)")
	fl.BoolVar(&f.autoExtend, "auto-extend", false, "extend by 180 days at the end, automatically")
	fl.BoolVar(&f.noWait, "no-wait", false, "stop once the invitation link is printed, if the customer has yet to approve")
	return c
}

// options checks the flags and turns them into the library's options.
func (f onboardFlags) options() (sam.OnboardOptions, error) {
	switch {
	case f.customer == "" && !f.isNew:
		return sam.OnboardOptions{}, errors.New("onboard needs --customer TENANT-ID, or --new --name NAME for a new customer")
	case f.customer != "" && f.isNew:
		return sam.OnboardOptions{}, errors.New("--customer and --new exclude each other: --new is for a customer whose tenant is not known yet")
	case f.isNew && f.name == "":
		return sam.OnboardOptions{}, errors.New("--new needs --name: the relationship's name finds it again when onboard runs again")
	case f.customer != "" && !httpx.IsGUID(f.customer):
		return sam.OnboardOptions{}, fmt.Errorf("--customer %q is not a tenant id (a GUID)", f.customer)
	}
	extra, err := loadTemplates(f.templates)
	if err != nil {
		return sam.OnboardOptions{}, err
	}
	tpl, err := sam.RoleTemplateByName(f.template, extra...)
	if err != nil {
		return sam.OnboardOptions{}, err
	}
	return sam.OnboardOptions{Customer: f.customer, DisplayName: f.name, Template: tpl, Duration: f.duration,
		AutoExtend: f.autoExtend, NoWait: f.noWait}, nil
}

// onboardJSON is an onboarding in --json output.
type onboardJSON struct {
	Complete         bool                 `json:"complete"`
	AwaitingApproval bool                 `json:"awaitingApproval"`
	Customer         string               `json:"customer,omitzero"`
	Relationship     relationshipView     `json:"relationship"`
	Link             string               `json:"link,omitzero"`
	Steps            []onboardStepJSON    `json:"steps"`
	Assignments      []sam.RoleAssignment `json:"assignments"`
	Access           *sam.TenantResult    `json:"access,omitzero"`
}

type onboardStepJSON struct {
	Step   sam.OnboardStep `json:"step"`
	Status sam.StepStatus  `json:"status"`
	Detail string          `json:"detail,omitzero"`
	Error  string          `json:"error,omitzero"`
}

// onboardLabels name the steps for people.
var onboardLabels = map[sam.OnboardStep]string{
	sam.OnboardInvite:   "invite",
	sam.OnboardLock:     "lock for approval",
	sam.OnboardApproval: "customer's approval",
	sam.OnboardAssign:   "access assignments",
	sam.OnboardConsent:  "CPV consent",
	sam.OnboardCheck:    "access check",
}

// onboardPrinter shows an onboarding's steps: a line per step as it ends,
// and each new reason to wait. Server text goes through printf, which
// escapes it.
type onboardPrinter struct {
	a        *app
	lastWait string
	// indent starts each line (the demo nests them under its section).
	indent string
	// linkOnStderr shows the invitation link on stderr with --json, for
	// the person whose script waits on onboard.
	linkOnStderr bool
}

func (p *onboardPrinter) print(e sam.OnboardEvent) {
	if p.a.jsonOut {
		if p.linkOnStderr && e.Step == sam.OnboardLock && (e.Status == sam.StepDone || e.Status == sam.StepAlreadyDone) {
			// A script still needs the link while onboard waits.
			printf(p.a.stderr, "invitation link: %s\n", sam.InvitationLink(e.RelationshipID))
		}
		return
	}
	w, label := p.a.stdout, onboardLabels[e.Step]
	detail := e.Detail
	if e.Step == sam.OnboardLock {
		// The link follows on a line of its own.
		detail, _, _ = strings.Cut(detail, ": https://")
	}
	detail = truncate(detail, tableWidth-len(p.indent)-len(label)-4)
	switch e.Status {
	case sam.StepDone:
		printf(w, "%s%s %s: %s\n", p.indent, markOK, label, detail)
	case sam.StepAlreadyDone:
		printf(w, "%s%s %s (already done): %s\n", p.indent, markOK, label, truncate(e.Detail, tableWidth-len(p.indent)-len(label)-19))
	case sam.StepFailed:
		printf(w, "%s%s %s: %s\n", p.indent, markFail, label, truncate(oneLine(e.Err), tableWidth-len(p.indent)-len(label)-4))
	case sam.StepWaiting:
		if e.Detail != p.lastWait {
			p.lastWait = e.Detail
			printf(w, "%s  … %s: waiting %s\n", p.indent, label, truncate(e.Detail, tableWidth-len(p.indent)-len(label)-14))
		}
	}
	if e.Step == sam.OnboardLock && (e.Status == sam.StepDone || e.Status == sam.StepAlreadyDone) && e.Detail != "approved already" {
		// The link is what a person sends: on a line of its own, never cut.
		printf(w, "%s    %s\n", p.indent, sam.InvitationLink(e.RelationshipID))
	}
}

func (a *app) onboard(ctx context.Context, s *session, o sam.OnboardOptions) error {
	p := &onboardPrinter{a: a, linkOnStderr: true}
	o.Progress = p.print
	if !a.jsonOut {
		who := o.Customer
		if who == "" {
			who = fmt.Sprintf("a new customer (relationship %q)", o.DisplayName)
		}
		printf(a.stdout, "Onboarding %s with template %s\n", who, o.Template.Name)
	}
	res, err := s.sp.Onboard(ctx, o)
	awaiting := errors.Is(err, sam.ErrAwaitingApproval)
	if a.jsonOut {
		out := onboardJSON{Complete: res.Complete(), AwaitingApproval: awaiting, Customer: res.Customer, Relationship: viewOf(res.Relationship),
			Link: res.Link, Steps: []onboardStepJSON{}, Assignments: res.Assignments, Access: res.Access}
		if out.Assignments == nil {
			out.Assignments = []sam.RoleAssignment{}
		}
		for _, e := range res.Steps {
			sj := onboardStepJSON{Step: e.Step, Status: e.Status, Detail: e.Detail}
			if e.Err != nil {
				sj.Error = oneLine(e.Err)
			}
			out.Steps = append(out.Steps, sj)
		}
		if jerr := a.printJSON(out); jerr != nil {
			return jerr
		}
	}
	switch {
	case awaiting:
		if !a.jsonOut {
			printf(a.stdout, "Awaiting the customer's approval. Run the same command again once it approves.\n")
		}
		return nil
	case errors.Is(err, context.DeadlineExceeded) && res.Link != "":
		// Not a service that failed to answer: the customer has yet to.
		printf(a.stderr, "samctl: the customer has not approved within --timeout %v; it still can, at the\n  invitation link: run the same command again to continue\n", a.timeout)
		return silentFailure{code: exitFailed}
	case errors.Is(err, sam.ErrOnboardCheckFailed) && res.Access != nil:
		if !a.jsonOut {
			for _, c := range res.Access.Checks {
				if !c.OK() {
					writeFailure(a.stdout, c)
				}
			}
		}
		return silentFailure{code: exitFailed}
	case err != nil:
		if a.jsonOut && len(res.Steps) > 0 && !errors.Is(err, context.Canceled) {
			return silentFailure{code: exitFailed}
		}
		return err
	}
	if !a.jsonOut {
		printf(a.stdout, "%s is onboarded: the access check passes.\n", res.Customer)
	}
	return nil
}

func (a *app) offboardCommand() *cobra.Command {
	var customer string
	var yes, dryRun bool
	c := &cobra.Command{
		Use:   "offboard",
		Short: "Remove the SAM app's consent from a customer and end its GDAP relationships",
		Long: `offboard undoes onboard for one customer: it removes the SAM app's CPV
consent from the customer's tenant (first, while the partner still has
rights there), then ends every GDAP relationship the partner has with it
(terminate; one still being prepared is deleted). A relationship awaiting
the customer's approval cannot be withdrawn; it lapses after 90 days.

It shows what it will do, then asks you to type the customer's tenant id (or
one of its domains) to confirm. When stdin is not a terminal it asks for
--yes instead. --dry-run shows the plan and changes nothing. Run again, it
finds everything done.

Exit codes: 0 done, 1 an action failed, 2 usage (or no confirmation), 130
interrupted.`,
		Example: `  samctl offboard --customer 6f1c3c1e-1111-4a2b-9c3d-222233334444 --dry-run
  samctl offboard --customer 6f1c3c1e-1111-4a2b-9c3d-222233334444
  samctl offboard --customer 6f1c3c1e-1111-4a2b-9c3d-222233334444 --yes -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case customer == "":
				return usageError{err: errors.New("offboard needs --customer TENANT-ID"), cmd: c.CommandPath()}
			case !httpx.IsGUID(customer):
				return usageError{err: fmt.Errorf("--customer %q is not a tenant id (a GUID)", customer), cmd: c.CommandPath()}
			case !yes && !dryRun && !isTerminal(a.stdin):
				return usageError{err: errors.New("offboarding cannot be undone and stdin is not a terminal to confirm it: add --yes (or --dry-run to see the plan)"), cmd: c.CommandPath()}
			}
			s, err := a.session(c.Context())
			if err != nil {
				return err
			}
			return a.offboard(c.Context(), s, customer, yes, dryRun)
		},
	}
	c.Flags().StringVar(&customer, "customer", "", "the customer's tenant id")
	c.Flags().BoolVar(&yes, "yes", false, "do not ask: confirm the offboarding")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be done, and do nothing")
	return c
}

var offboardLabels = map[sam.OffboardKind]string{
	sam.OffboardRemoveConsent: "remove the SAM app's CPV consent",
	sam.OffboardTerminate:     "end relationship",
}

func (a *app) writeOffboard(plan sam.OffboardPlan, title string) {
	printf(a.stdout, "%s %s:\n", title, plan.Customer)
	for _, x := range plan.Actions {
		mark := " "
		switch x.State {
		case sam.OffboardDone, sam.OffboardAlreadyDone:
			mark = markOK
		case sam.OffboardFailed:
			mark = markFail
		}
		what := offboardLabels[x.Kind]
		if x.Kind == sam.OffboardTerminate {
			what += fmt.Sprintf(" %q (%s)", x.Name, x.Status)
		}
		printf(a.stdout, "  %s %s: %s\n", mark, what, x.State)
		if x.Err != nil {
			printf(a.stdout, "      %s\n", oneLine(x.Err))
		} else if x.Detail != "" {
			printf(a.stdout, "      %s\n", truncate(x.Detail, tableWidth-6))
		}
	}
}

func (a *app) offboard(ctx context.Context, s *session, customer string, yes, dryRun bool) error {
	plan, err := s.sp.PlanOffboard(ctx, customer)
	if err != nil {
		return err
	}
	if dryRun || plan.ToDo() == 0 {
		if a.jsonOut {
			return a.printJSON(plan)
		}
		a.writeOffboard(plan, "Offboarding plan for")
		if plan.ToDo() == 0 {
			printf(a.stdout, "Nothing to do: the customer is offboarded.\n")
		}
		return nil
	}
	if !yes {
		a.writeOffboard(plan, "Offboarding plan for")
		if !a.confirmCustomer(ctx, s, customer) {
			if err := ctx.Err(); err != nil {
				return err
			}
			return usageError{err: errors.New("not confirmed: nothing was changed"), cmd: "samctl offboard"}
		}
	}
	done, err := s.sp.Offboard(ctx, customer, nil)
	if a.jsonOut {
		if jerr := a.printJSON(done); jerr != nil {
			return jerr
		}
	} else {
		a.writeOffboard(done, "Offboarded")
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return silentFailure{code: exitFailed}
	}
	return err
}

// confirmCustomer asks the person at the terminal to type the customer's
// tenant id or one of its verified domains (read from the tenant when the
// partner still can).
func (a *app) confirmCustomer(ctx context.Context, s *session, customer string) bool {
	accept := []string{strings.ToLower(customer)}
	if g, err := graph.New(s.p.Source(customer, s.cloud.Graph.Scope()), graph.WithCloud(s.cloud), graph.WithHTTPClient(s.base)); err == nil {
		if org, err := g.Organization(ctx); err == nil {
			for _, d := range org.VerifiedDomains {
				accept = append(accept, strings.ToLower(d.Name))
			}
		}
	}
	printf(a.stdout, "This cannot be undone. Type the customer's tenant id or domain to confirm: ")
	// The read cannot be cancelled, so it runs aside: Ctrl-C at the prompt
	// ends samctl rather than waiting for a line.
	typed := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(a.stdin).ReadString('\n')
		typed <- line
	}()
	select {
	case line := <-typed:
		return slices.Contains(accept, strings.ToLower(strings.TrimSpace(line)))
	case <-ctx.Done():
		return false
	}
}
