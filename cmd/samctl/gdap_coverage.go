package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

func (a *app) gdapCoverageCommand() *cobra.Command {
	var (
		user, template, file string
		tenants              []string
		concurrency          int
	)
	c := &cobra.Command{
		Use:   "coverage",
		Short: "Show, per customer, which roles the admin holds through GDAP and what is missing",
		Long: `coverage checks, for every customer with a GDAP relationship (or those of
--tenant), that the partner user holds each role samkit's operations need
(the samkit-least-privilege template, or --template's): an active
relationship including the role, an active access assignment of it to a
partner security group, and the user in that group. For each missing role it
names the missing link and the command that adds it.

It reads the partner's state once, whatever the number of customers: the
user, the user's groups, every relationship (300 a page) and the access
assignments of the active ones (20 relationships a request). The exit code
is 1 when a role is missing somewhere.

The SAM app needs DelegatedAdminRelationship.Read.All and, for --user,
User.Read.All (or GroupMember.Read.All).`,
		Example: `  samctl gdap coverage
  samctl gdap coverage --user alice@partner.example --tenant 6f1c3c1e-1111-4a2b-9c3d-222233334444
  samctl gdap coverage --template helpdesk -o json | jq '.tenants[] | select(.missing != [])'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if concurrency < 0 {
				return usageError{err: fmt.Errorf("--concurrency %d is negative", concurrency), cmd: c.CommandPath()}
			}
			extra, err := loadTemplates(file)
			if err != nil {
				return err
			}
			tpl, err := sam.RoleTemplateByName(template, extra...)
			if err != nil {
				return usageError{err: err, cmd: c.CommandPath()}
			}
			d, err := a.gdap(c.Context(), sam.WithGDAPConcurrency(concurrency))
			if err != nil {
				return err
			}
			rep, err := d.Coverage(c.Context(), sam.CoverageOptions{User: user, Template: tpl, Tenants: tenants})
			if err != nil {
				return err
			}
			return a.verdict(rep, func() { a.writeCoverage(rep) }, rep.Complete())
		},
	}
	f := c.Flags()
	f.StringVar(&user, "user", "", "the partner user, by userPrincipalName or object id (default: the signed-in admin)")
	f.StringSliceVar(&tenants, "tenant", nil, "a customer tenant id to look at (repeatable; default: every customer with a relationship)")
	f.StringVar(&template, "template", sam.DefaultRoleTemplateName, "the roles needed, as a role template ('samctl gdap templates' lists them)")
	f.StringVar(&file, "templates", "", "a JSON file of more role templates")
	f.IntVar(&concurrency, "concurrency", sam.DefaultConcurrency, "requests sent at once")
	return c
}

// verdict prints rep, as JSON or through write, and fails with exit code
// 1 unless ok.
func (a *app) verdict(rep any, write func(), ok bool) error {
	if a.jsonOut {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		write()
	}
	if !ok {
		return silentFailure{code: exitFailed}
	}
	return nil
}

func (a *app) writeCoverage(rep *sam.CoverageReport) {
	complete := 0
	for _, t := range rep.Tenants {
		if t.Complete() {
			complete++
		}
	}
	printf(a.stdout, "Roles of %s for %s: %d of %s complete.\n", rep.Template, userLabel(rep.User), complete, plural(len(rep.Tenants), "tenant", "tenants"))
	for _, t := range rep.Tenants {
		name := t.TenantID
		if t.DisplayName != "" {
			name = t.DisplayName + " (" + t.TenantID + ")"
		}
		if t.Complete() {
			printf(a.stdout, "%s %s: %d/%d roles\n", markOK, name, len(t.Covered), len(rep.Roles))
			continue
		}
		printf(a.stdout, "%s %s: %d/%d roles; missing:\n", markFail, name, len(t.Covered), len(rep.Roles))
		for _, m := range t.Missing {
			printf(a.stdout, "    %s (%s link): %s\n      fix: %s\n", m.Role.Name, m.Link, m.Why, m.Fix)
		}
	}
}

func userLabel(u sam.GDAPUser) string {
	if u.UserPrincipalName != "" {
		return u.UserPrincipalName
	}
	return u.ID
}

func (a *app) gdapTraceCommand() *cobra.Command {
	var o sam.TraceOptions
	c := &cobra.Command{
		Use:   "trace",
		Short: "Explain why a partner user can or cannot do something in a customer tenant",
		Long: `trace follows, for a samkit operation (--operation: ListTenants,
CheckAccess, PushConsent, Exchange) or one role (--role, by name or id), the
chain through which the user holds each role in the tenant: the tenant's
relationships (an expired or terminated one says when), whether an active one
includes the role, the access assignments giving it to partner groups, and
the user's membership. Each chain stops at its first missing link, with the
command that adds it. The exit code is 1 when a link is missing.`,
		Example: `  samctl gdap trace --tenant 6f1c3c1e-1111-4a2b-9c3d-222233334444 --operation PushConsent
  samctl gdap trace --tenant 6f1c3c1e-1111-4a2b-9c3d-222233334444 --user alice@partner.example --role "Exchange Administrator" -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case o.Tenant == "":
				return usageError{err: errors.New("trace needs --tenant, the customer's tenant id"), cmd: c.CommandPath()}
			case (o.Operation == "") == (o.Role == ""):
				return usageError{err: errors.New("trace needs --operation or --role, one of the two"), cmd: c.CommandPath()}
			}
			if o.Operation != "" {
				if _, _, err := sam.OperationRoles(o.Operation); err != nil {
					return usageError{err: err, cmd: c.CommandPath()}
				}
			}
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			rep, err := d.Trace(c.Context(), o)
			if err != nil {
				return err
			}
			return a.verdict(rep, func() { a.writeTrace(rep) }, rep.Covered())
		},
	}
	f := c.Flags()
	f.StringVar(&o.Tenant, "tenant", "", "the customer's tenant id")
	f.StringVar(&o.User, "user", "", "the partner user, by userPrincipalName or object id (default: the signed-in admin)")
	f.StringVar(&o.Operation, "operation", "", "a samkit operation: "+strings.Join(operationNames(), ", "))
	f.StringVar(&o.Role, "role", "", "an Entra role, by name or role template id")
	_ = c.RegisterFlagCompletionFunc("operation", fixedCompletion(operationNames()...))
	return c
}

func operationNames() []string {
	var out []string
	for _, op := range sam.Operations() {
		out = append(out, string(op))
	}
	return out
}

func (a *app) writeTrace(rep *sam.TraceReport) {
	what := string(rep.Operation)
	if what == "" && len(rep.Roles) > 0 {
		what = rep.Roles[0].Role.Name
	}
	printf(a.stdout, "Trace of %s for %s in tenant %s:\n", what, userLabel(rep.User), rep.Tenant)
	if len(rep.Roles) == 0 {
		printf(a.stdout, "%s needs no role in a customer tenant.\n", markOK)
	}
	for _, rt := range rep.Roles {
		mark := markOK
		if !rt.Covered {
			mark = markFail
		}
		printf(a.stdout, "%s %s\n", mark, rt.Role.Name)
		for i, s := range rt.Steps {
			// Only the last step can be the missing link: a relationship
			// not active before it is one of several with the tenant.
			m := "found"
			switch {
			case s.Found:
			case i == len(rt.Steps)-1:
				m = "MISSING"
			default:
				m = "ended"
			}
			printf(a.stdout, "    %-12s %-7s %s\n", s.Link, m, s.Detail)
		}
		if rt.Fix != "" {
			printf(a.stdout, "    fix: %s\n", rt.Fix)
		}
	}
}
