package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/sam"
)

func (a *app) gdapCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "gdap",
		Short: "Manage GDAP relationships with customers",
		Long: `gdap manages the partner's GDAP (granular delegated admin) relationships:
role templates, invitations, their status, the assignment of each role to a
partner security group, auto-extension, and those about to end.

The SAM app needs the delegated Graph permissions
DelegatedAdminRelationship.ReadWrite.All and Group.ReadWrite.All (or
Directory.ReadWrite.All), and the admin must be in the partner's Admin
Agents group: 'samctl setup --gdap' asks for both permissions.`,
		Example: `  samctl gdap templates
  samctl gdap invite --name "Contoso samkit" --customer 6f1c3c1e-1111-4a2b-9c3d-222233334444
  samctl gdap expiring --days 30 -o json`,
		Args: subcommandArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(a.gdapTemplatesCommand(), a.gdapInviteCommand(), a.gdapStatusCommand(), a.gdapAssignCommand(),
		a.gdapExtendCommand(), a.gdapExpiringCommand(), a.gdapTerminateCommand(), a.gdapCoverageCommand(), a.gdapTraceCommand())
	return c
}

// gdap opens a session and its GDAP operations, with extra options.
func (a *app) gdap(ctx context.Context, extra ...sam.GDAPOption) (*sam.GDAP, error) {
	s, err := a.session(ctx)
	if err != nil {
		return nil, err
	}
	var opts []graph.Option
	if a.log != nil {
		opts = append(opts, graph.WithLogger(a.log))
	}
	return sam.NewGDAP(s.p, s.creds.TenantID, append([]sam.GDAPOption{sam.WithGDAPGraphOptions(opts...)}, extra...)...)
}

// loadTemplates reads --templates, when given.
func loadTemplates(path string) ([]sam.RoleTemplate, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, withFix(err, "give --templates the path of a JSON file of role templates")
	}
	defer f.Close()
	return sam.LoadRoleTemplates(f)
}

func (a *app) gdapTemplatesCommand() *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "templates",
		Short: "List the GDAP role templates",
		Long: `templates lists samkit's role templates, and those of --templates: the
Entra roles each asks customers for. The first, samkit-least-privilege, is
what samkit's own operations need, each role with the reason it is there.`,
		Example: `  samctl gdap templates
  samctl gdap templates --templates my-templates.json -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			extra, err := loadTemplates(file)
			if err != nil {
				return err
			}
			ts := append(extra, sam.RoleTemplates()...)
			if a.jsonOut {
				return a.printJSON(struct {
					Templates []sam.RoleTemplate `json:"templates"`
				}{ts})
			}
			for _, t := range ts {
				printf(a.stdout, "%s: %s\n", t.Name, t.Description)
				for _, r := range t.Roles {
					printf(a.stdout, "  %-42s %s\n", r.Name, r.ID)
					if r.Why != "" {
						printf(a.stdout, "    %s\n", r.Why)
					}
				}
				printLine(a.stdout)
			}
			return nil
		},
	}
	c.Flags().StringVar(&file, "templates", "", "a JSON file of more role templates")
	return c
}

// relationshipView is a relationship as samctl prints it in JSON: dates,
// ISO terms and roles by name.
type relationshipView struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Status      string    `json:"status"`
	Customer    string    `json:"customerTenantId,omitzero"`
	Term        string    `json:"term"`
	AutoExtend  string    `json:"autoExtend"`
	Roles       []string  `json:"roles"`
	Activated   time.Time `json:"activated,omitzero"`
	Ends        time.Time `json:"ends,omitzero"`
}

func viewOf(r graph.DelegatedAdminRelationship) relationshipView {
	v := relationshipView{ID: r.ID, DisplayName: r.DisplayName, Status: r.Status, Customer: r.Customer.TenantID,
		Term: r.Duration, AutoExtend: r.AutoExtendDuration, Activated: r.ActivatedDateTime, Ends: r.EndDateTime, Roles: []string{}}
	for _, role := range r.AccessDetails.UnifiedRoles {
		v.Roles = append(v.Roles, roleName(role.RoleDefinitionID))
	}
	return v
}

func roleName(id string) string {
	if n := sam.EntraRoleName(id); n != "" {
		return n
	}
	return id
}

func (a *app) gdapInviteCommand() *cobra.Command {
	var o sam.InviteOptions
	var template, file string
	c := &cobra.Command{
		Use:   "invite",
		Short: "Invite a customer to a GDAP relationship",
		Long: `invite creates a GDAP relationship from a role template, locks it for
approval and prints the link to send the customer's admin. Without
--customer, any customer whose admin opens the link can approve it.

Run it again with the same --name to continue an interrupted invitation.
--auto-extend is refused for a template holding Global Administrator:
Microsoft does not auto-extend such relationships.`,
		Example: `  samctl gdap invite --name "Contoso samkit" --customer 6f1c3c1e-1111-4a2b-9c3d-222233334444 --auto-extend
  samctl gdap invite --name "New customer helpdesk" --template helpdesk --duration P365D -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if o.DisplayName == "" {
				return usageError{err: errors.New("invite needs --name, unique among your GDAP relationships (at most 50 characters)"), cmd: c.CommandPath()}
			}
			extra, err := loadTemplates(file)
			if err != nil {
				return err
			}
			if o.Template, err = sam.RoleTemplateByName(template, extra...); err != nil {
				return usageError{err: err, cmd: c.CommandPath()}
			}
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			inv, err := d.Invite(c.Context(), o)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(struct {
					Relationship relationshipView `json:"relationship"`
					Link         string           `json:"link"`
					Resumed      bool             `json:"resumed"`
				}{viewOf(inv.Relationship), inv.Link, inv.Resumed})
			}
			printf(a.stdout, "Relationship %s (%s) awaits the customer's approval.\nSend the customer's admin this link:\n\n  %s\n",
				inv.Relationship.DisplayName, inv.Relationship.ID, inv.Link)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.DisplayName, "name", "", "the relationship's display name (unique, at most 50 characters)")
	f.StringVar(&o.Customer, "customer", "", "the customer's tenant id (empty: any customer who approves)")
	f.StringVar(&template, "template", sam.DefaultRoleTemplateName, "the role template ('samctl gdap templates' lists them)")
	f.StringVar(&file, "templates", "", "a JSON file of more role templates")
	f.StringVar(&o.Duration, "duration", "P730D", "how long the relationship lasts, P1D to P2Y (ISO 8601)")
	f.BoolVar(&o.AutoExtend, "auto-extend", false, "extend by 180 days at the end, automatically")
	return c
}

func (a *app) gdapStatusCommand() *cobra.Command {
	var wait time.Duration
	c := &cobra.Command{
		Use:   "status RELATIONSHIP-ID",
		Short: "Show a GDAP relationship and its role assignments",
		Long: `status shows a GDAP relationship: its status, roles and dates, the
invitation link while the customer has yet to approve, and, once active,
which partner groups hold which roles. With --wait it first waits, reading
every 30 seconds, until the customer has approved and the relationship is
active (exit code 1 if it is not within the time given).`,
		Example: `  samctl gdap status 5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836
  samctl gdap status $ID --wait 24h -o json`,
		Args: exactArgs(1, "a relationship id"),
		RunE: func(c *cobra.Command, args []string) error {
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			if wait > 0 {
				last := ""
				_, err := d.WaitActive(c.Context(), args[0], sam.WaitOptions{Timeout: wait, Progress: func(s string) {
					if s != last {
						printf(a.stderr, "%s: %s\n", args[0], s)
						last = s
					}
				}})
				if err != nil {
					return err
				}
			}
			st, err := d.Status(c.Context(), args[0])
			if err != nil {
				return err
			}
			type assignment struct {
				ID      string   `json:"id"`
				GroupID string   `json:"groupId"`
				Status  string   `json:"status"`
				Roles   []string `json:"roles"`
			}
			as := []assignment{}
			for _, x := range st.Assignments {
				v := assignment{ID: x.ID, GroupID: x.AccessContainer.AccessContainerID, Status: x.Status}
				for _, r := range x.AccessDetails.UnifiedRoles {
					v.Roles = append(v.Roles, roleName(r.RoleDefinitionID))
				}
				as = append(as, v)
			}
			v := viewOf(st.Relationship)
			if a.jsonOut {
				return a.printJSON(struct {
					Relationship relationshipView `json:"relationship"`
					Link         string           `json:"link,omitzero"`
					Assignments  []assignment     `json:"accessAssignments"`
				}{v, st.Link, as})
			}
			printf(a.stdout, "%s (%s): %s\n  roles: %s\n", v.DisplayName, v.ID, v.Status, strings.Join(v.Roles, ", "))
			if !v.Ends.IsZero() {
				printf(a.stdout, "  ends: %s (auto-extend %s)\n", v.Ends.Format(time.DateOnly), v.AutoExtend)
			}
			if st.Link != "" {
				printf(a.stdout, "  invitation: %s\n", st.Link)
			}
			for _, x := range as {
				printf(a.stdout, "  group %s: %s (%s)\n", x.GroupID, strings.Join(x.Roles, ", "), x.Status)
			}
			return nil
		},
	}
	c.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the relationship to become active")
	return c
}

func (a *app) gdapAssignCommand() *cobra.Command {
	var o sam.AssignOptions
	c := &cobra.Command{
		Use:   "assign RELATIONSHIP-ID",
		Short: "Give each role of a relationship to its own partner security group",
		Long: `assign gives each role of an active GDAP relationship to one partner
security group, named "<prefix> - <role name>" ("GDAP - Exchange
Administrator"), creating the groups it does not find. A re-run changes
nothing that is in place. Put your staff in the groups to give them the
roles.`,
		Example: `  samctl gdap assign 5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836
  samctl gdap assign $ID --group-prefix "M365 GDAP" -o json`,
		Args: exactArgs(1, "a relationship id"),
		RunE: func(c *cobra.Command, args []string) error {
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			out, err := d.Assign(c.Context(), args[0], o)
			if err != nil {
				return err
			}
			if a.jsonOut {
				if out == nil {
					out = []sam.RoleAssignment{}
				}
				return a.printJSON(struct {
					Assignments []sam.RoleAssignment `json:"assignments"`
				}{out})
			}
			tw := table(a.stdout)
			printLine(tw, "ROLE\tGROUP\tASSIGNMENT")
			for _, ra := range out {
				what := ra.Status
				switch {
				case ra.AlreadyAssigned:
					what += " (already)"
				case ra.GroupCreated:
					what += " (group created)"
				}
				printf(tw, "%s\t%s\t%s\n", roleName(ra.RoleID), ra.GroupName, what)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&o.GroupPrefix, "group-prefix", "GDAP", "how the groups' names start")
	c.Flags().StringSliceVar(&o.Members, "add-member", nil, "a partner user's object id to put in every group (repeatable)")
	return c
}

func (a *app) gdapExtendCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "extend RELATIONSHIP-ID",
		Short: "Turn on 180-day auto-extension of a relationship",
		Long: `extend sets a GDAP relationship to extend itself by 180 days at its end.
Microsoft refuses it for a relationship holding Global Administrator; extend
then says so, and the exit code is 1.`,
		Example: `  samctl gdap extend 5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836`,
		Args:    exactArgs(1, "a relationship id"),
		RunE: func(c *cobra.Command, args []string) error {
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			ext, err := d.Extend(c.Context(), args[0])
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(struct {
					Relationship relationshipView `json:"relationship"`
					Changed      bool             `json:"changed"`
				}{viewOf(ext.Relationship), ext.Changed})
			}
			if ext.Changed {
				printf(a.stdout, "%s now extends itself by 180 days at its end.\n", ext.Relationship.DisplayName)
			} else {
				printf(a.stdout, "%s already extends itself.\n", ext.Relationship.DisplayName)
			}
			return nil
		},
	}
}

func (a *app) gdapExpiringCommand() *cobra.Command {
	var days int
	c := &cobra.Command{
		Use:   "expiring",
		Short: "List the GDAP relationships that end soon",
		Long: `expiring lists the active GDAP relationships that end within --days days,
soonest first, whether each will extend itself, and why not.`,
		Example: `  samctl gdap expiring --days 30
  samctl gdap expiring --days 90 -o json | jq '.relationships[] | select(.autoExtends | not)'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if days < 0 {
				return usageError{err: fmt.Errorf("--days must be 0 or more, not %d", days), cmd: c.CommandPath()}
			}
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			exp, err := d.Expiring(c.Context(), time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			type row struct {
				relationshipView
				AutoExtends bool   `json:"autoExtends"`
				WhyNot      string `json:"whyNot,omitzero"`
			}
			rows := []row{}
			for _, e := range exp {
				rows = append(rows, row{viewOf(e.Relationship), e.AutoExtends, e.WhyNot})
			}
			if a.jsonOut {
				return a.printJSON(struct {
					Relationships []row `json:"relationships"`
				}{rows})
			}
			tw := table(a.stdout)
			printLine(tw, "NAME\tCUSTOMER\tENDS\tAUTO-EXTENDS")
			for _, r := range rows {
				ext := "yes"
				if !r.AutoExtends {
					ext = "no"
				}
				printf(tw, "%s\t%s\t%s\t%s\n", r.DisplayName, orDash(r.Customer), r.Ends.Format(time.DateOnly), ext)
			}
			tw.Flush()
			for _, r := range rows {
				if r.WhyNot != "" {
					printf(a.stdout, "%s cannot auto-extend: %s\n", r.DisplayName, r.WhyNot)
				}
			}
			printf(a.stdout, "\n%s ending within %d days\n", plural(len(rows), "relationship", "relationships"), days)
			return nil
		},
	}
	c.Flags().IntVar(&days, "days", 30, "the window, in days")
	return c
}

func (a *app) gdapTerminateCommand() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "terminate RELATIONSHIP-ID",
		Short: "End a GDAP relationship",
		Long: `terminate ends an active GDAP relationship: its roles stop working in the
customer at once, and only a new invitation the customer approves brings
them back. A relationship not yet locked for approval is deleted instead.
It asks for --yes.`,
		Example: `  samctl gdap terminate 5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836 --yes`,
		Args:    exactArgs(1, "a relationship id"),
		RunE: func(c *cobra.Command, args []string) error {
			if !yes {
				return usageError{err: fmt.Errorf("terminating %s cannot be undone: add --yes to confirm", args[0]), cmd: c.CommandPath()}
			}
			d, err := a.gdap(c.Context())
			if err != nil {
				return err
			}
			rel, err := d.Terminate(c.Context(), args[0])
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(struct {
					Relationship relationshipView `json:"relationship"`
				}{viewOf(rel)})
			}
			printf(a.stdout, "%s (%s): %s\n", rel.DisplayName, rel.ID, rel.Status)
			return nil
		},
	}
	c.Flags().BoolVar(&yes, "yes", false, "confirm the termination")
	return c
}
