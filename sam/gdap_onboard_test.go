package sam_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onboardWorld is a fake cloud whose SAM app holds GDAPManifest's
// permissions, and a tenant that is no customer yet: its admin approves
// invitations when the onboarding waits for approval.
type onboardWorld struct {
	*accessWorld
	prospect testserver.SandboxCustomer
	// clock records every pause the onboarding asked for; each moves the
	// fake's clock instead of waiting.
	clock *sam.ClockWaits
}

func newOnboardWorld(t *testing.T) *onboardWorld {
	t.Helper()
	w := &onboardWorld{accessWorld: newAccessWorld(t)}
	grantManifest(t, w.accessWorld, sam.DefaultManifest().Merge(sam.GDAPManifest()))
	w.prospect = w.s.AddProspect("Contoso")
	w.clock = sam.NewClockWaits(w.s)
	return w
}

// approve plays the prospect's admin opening the invitation of name.
func (w *onboardWorld) approve(t *testing.T, name string) {
	t.Helper()
	var id string
	w.s.Read(func(world *testserver.World) {
		for _, r := range world.Partner.Relationships {
			if r.DisplayName == name {
				id = r.ID
			}
		}
	})
	require.NoError(t, w.s.ApproveRelationship(id, w.prospect.ID))
}

// setStatus sets the status of the relationship called name, as Microsoft
// shows statuses the fake passes straight through (approved, activating).
func (w *onboardWorld) setStatus(name, status string) {
	w.s.Mutate(func(world *testserver.World) {
		for _, r := range world.Partner.Relationships {
			if r.DisplayName == name {
				r.Status = status
			}
		}
	})
}

// options onboard the prospect as a new customer; its admin approves as
// soon as the onboarding waits, and every event lands in events.
func (w *onboardWorld) options(t *testing.T, events *[]sam.OnboardEvent) sam.OnboardOptions {
	return sam.OnboardOptions{DisplayName: "Contoso samkit", AutoExtend: true, Sleep: w.clock.Sleep,
		Timeout: time.Hour, Progress: func(e sam.OnboardEvent) {
			*events = append(*events, e)
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
				w.approve(t, "Contoso samkit")
			}
		}}
}

// final is the status each step ended with.
func final(res sam.OnboardResult) map[sam.OnboardStep]sam.StepStatus {
	out := map[sam.OnboardStep]sam.StepStatus{}
	for _, e := range res.Steps {
		out[e.Step] = e.Status
	}
	return out
}

// count counts the events of step with status.
func count(events []sam.OnboardEvent, step sam.OnboardStep, status sam.StepStatus) int {
	n := 0
	for _, e := range events {
		if e.Step == step && e.Status == status {
			n++
		}
	}
	return n
}

// gdapState is what an onboarding leaves in the partner tenant.
type gdapState struct {
	relationships int
	status        string
	customer      string
	assignments   map[string][]string // live assignments: group → roles
	groups        map[string]int      // GDAP groups by name → how many
	consented     bool
}

func (w *onboardWorld) state(name string) gdapState {
	st := gdapState{assignments: map[string][]string{}, groups: map[string]int{}}
	w.s.Read(func(world *testserver.World) {
		for _, r := range world.Partner.Relationships {
			if r.DisplayName != name {
				continue
			}
			st.relationships++
			st.status, st.customer = r.Status, r.CustomerTenantID
			for _, a := range r.GDAP.Assignments {
				if a.Status != "deleted" {
					st.assignments[a.GroupID] = append(st.assignments[a.GroupID], a.RoleIDs...)
				}
			}
		}
		for _, g := range world.Partner.Groups {
			if strings.HasPrefix(g.DisplayName, "GDAP - ") {
				st.groups[g.DisplayName]++
			}
		}
	})
	t, _ := w.tenantConsented()
	st.consented = t
	return st
}

func (w *onboardWorld) tenantConsented() (bool, error) {
	consented := false
	w.s.Read(func(world *testserver.World) {
		consented = world.Tenants[w.prospect.ID].ServicePrincipalByAppID(w.app.AppID) != nil
	})
	return consented, nil
}

func TestOnboardNewCustomerEndToEnd(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	res, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.NoError(t, err)
	require.True(t, res.Complete(), "every step done: %+v", res.Steps)
	assert.Equal(t, w.prospect.ID, res.Customer, "the tenant is learnt from the approval")
	for _, step := range sam.OnboardSteps() {
		assert.Equal(t, sam.StepDone, final(res)[step], "step %s", step)
	}
	// Every step was announced, in order.
	var started []sam.OnboardStep
	for _, e := range events {
		if e.Status == sam.StepStarted || e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
			started = append(started, e.Step)
		}
	}
	assert.Equal(t, sam.OnboardSteps(), started)

	st := w.state("Contoso samkit")
	assert.Equal(t, 1, st.relationships)
	assert.Equal(t, testserver.RelActive, st.status)
	assert.Equal(t, w.prospect.ID, st.customer)
	assert.Len(t, st.assignments, len(sam.DefaultRoleTemplate().Roles), "one assignment per role's group")
	assert.True(t, st.consented, "the CPV consent reached the new customer")
	require.NotNil(t, res.Access)
	assert.False(t, res.Access.Failed())
	// Waiting for the assignments to turn active cost fake time, not
	// real time: the pauses went through the injected sleep.
	slept, _ := w.clock.All()
	assert.NotEmpty(t, slept)
}

func TestOnboardAgainChangesNothing(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	_, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.NoError(t, err)
	before := w.state("Contoso samkit")
	w.s.ResetRequests()

	again, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.NoError(t, err)
	for _, step := range sam.OnboardSteps() {
		assert.Equal(t, sam.StepAlreadyDone, final(again)[step], "step %s on a re-run", step)
	}
	writes := w.s.Count(func(r testserver.Request) bool {
		// Exchange's InvokeCommand is a POST that reads here.
		return r.Service != "login" && r.Service != "exchange" && r.Method != "GET" && r.Status < 400
	})
	// The consent push asks Partner Center, which answers 409: the
	// consent exists. Nothing else is written.
	conflicts := w.s.Count(func(r testserver.Request) bool { return r.Service == "partner" && r.Status == 409 })
	assert.Zero(t, writes, "a finished onboarding writes nothing when run again")
	assert.Equal(t, 1, conflicts)
	assert.Equal(t, before, w.state("Contoso samkit"))
}

func TestOnboardInterruptedAtEachStepResumes(t *testing.T) {
	t.Parallel()
	for _, stop := range []struct {
		step   sam.OnboardStep
		status sam.StepStatus
	}{
		{sam.OnboardInvite, sam.StepDone},      // created, not locked
		{sam.OnboardLock, sam.StepDone},        // locked, link sent
		{sam.OnboardApproval, sam.StepWaiting}, // the customer has yet to approve
		{sam.OnboardAssign, sam.StepWaiting},   // assignments pending
		{sam.OnboardConsent, sam.StepDone},     // consented, not checked
		{sam.OnboardCheck, sam.StepStarted},    // check under way
	} {
		t.Run(string(stop.step), func(t *testing.T) {
			t.Parallel()
			w := newOnboardWorld(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var events []sam.OnboardEvent
			o := w.options(t, &events)
			approve := o.Progress
			o.Progress = func(e sam.OnboardEvent) {
				if e.Step == stop.step && e.Status == stop.status {
					cancel() // the process dies here
					return
				}
				approve(e)
			}
			_, err := w.sp.Onboard(ctx, o)
			require.ErrorIs(t, err, context.Canceled, "the run stopped at %s", stop.step)

			events = nil
			res, err := w.sp.Onboard(t.Context(), w.options(t, &events))
			require.NoError(t, err, "the run resumes")
			require.True(t, res.Complete())
			assert.Equal(t, sam.StepAlreadyDone, final(res)[sam.OnboardInvite], "the relationship is found again, not made twice")

			st := w.state("Contoso samkit")
			assert.Equal(t, 1, st.relationships, "no second relationship")
			assert.Equal(t, testserver.RelActive, st.status)
			assert.Len(t, st.assignments, len(sam.DefaultRoleTemplate().Roles), "one assignment per group")
			for g, roles := range st.assignments {
				assert.Len(t, roles, 1, "group %s holds its one role once", g)
			}
			for name, n := range st.groups {
				assert.Equal(t, 1, n, "group %q exists once", name)
			}
			assert.True(t, st.consented)
		})
	}
}

func TestOnboardWaitsOutConsentPropagation(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	o := w.options(t, &events)
	o.ConsentBackoff = 10 * time.Second
	// Right after the consent, the customer's sign-in answers AADSTS65001
	// twice, then issues tokens.
	w.s.Inject(testserver.Fault{Kind: testserver.IdentityError, Service: "login", Path: "/oauth2/v2.0/token",
		Tenant: w.prospect.ID, AADSTS: 65001, Count: 2})
	res, err := w.sp.Onboard(t.Context(), o)
	require.NoError(t, err)
	require.True(t, res.Complete())
	waits := 0
	for _, e := range events {
		if e.Step == sam.OnboardConsent && e.Status == sam.StepWaiting {
			waits++
			assert.Contains(t, e.Detail, "AADSTS65001")
		}
	}
	assert.Equal(t, 2, waits, "one wait per AADSTS65001")
	slept, _ := w.clock.All()
	assert.Subset(t, slept, []time.Duration{10 * time.Second, 20 * time.Second}, "the pauses double")
}

func TestOnboardGivesUpOnConsentAfterBoundedAttempts(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	o := w.options(t, &events)
	o.ConsentAttempts = 3
	w.s.Inject(testserver.Fault{Kind: testserver.IdentityError, Service: "login", Path: "/oauth2/v2.0/token",
		Tenant: w.prospect.ID, AADSTS: 65001})
	res, err := w.sp.Onboard(t.Context(), o)
	require.ErrorIs(t, err, token.ErrConsentRequired)
	assert.ErrorContains(t, err, "step consent")
	assert.Equal(t, sam.StepFailed, final(res)[sam.OnboardConsent])
	assert.Equal(t, 2, count(events, sam.OnboardConsent, sam.StepWaiting), "three attempts, two pauses between them")
}

func TestOnboardNoWaitStopsAtTheInvitation(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	res, err := w.sp.Onboard(t.Context(), sam.OnboardOptions{DisplayName: "Later", NoWait: true, Sleep: w.clock.Sleep})
	require.ErrorIs(t, err, sam.ErrAwaitingApproval)
	assert.Contains(t, res.Link, "/granularAdminRelationships/"+res.Relationship.ID)
	assert.Equal(t, graph.RelationshipApprovalPending, res.Relationship.Status)
	assert.False(t, res.Complete())
}

func TestOnboardRejectsBadInput(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	_, err := w.sp.Onboard(t.Context(), sam.OnboardOptions{Customer: "contoso.com"})
	assert.ErrorContains(t, err, "not a tenant id")
	_, err = w.sp.Onboard(t.Context(), sam.OnboardOptions{})
	assert.ErrorContains(t, err, "needs a display name")
}

func TestOffboardEndsRelationshipsAndConsent(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	_, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.NoError(t, err)

	plan, err := w.sp.PlanOffboard(t.Context(), w.prospect.ID)
	require.NoError(t, err)
	require.Len(t, plan.Actions, 2, "the consent and the one relationship")
	assert.Equal(t, sam.OffboardRemoveConsent, plan.Actions[0].Kind, "the consent goes first, while the partner still has rights")
	assert.Equal(t, 2, plan.ToDo())
	assert.True(t, w.state("Contoso samkit").consented, "a plan changes nothing")

	var heard []sam.OffboardAction
	done, err := w.sp.Offboard(t.Context(), w.prospect.ID, func(a sam.OffboardAction) { heard = append(heard, a) })
	require.NoError(t, err)
	assert.Len(t, heard, 2)
	assert.Zero(t, done.ToDo())
	st := w.state("Contoso samkit")
	assert.False(t, st.consented, "the SAM app is gone from the customer")
	assert.Equal(t, testserver.RelTerminationRequested, st.status)
	w.s.Clock().Advance(2 * time.Minute)
	again, err := w.sp.Offboard(t.Context(), w.prospect.ID, nil)
	require.NoError(t, err)
	for _, a := range again.Actions {
		assert.Equal(t, sam.OffboardAlreadyDone, a.State, "%s %s on a re-run", a.Kind, a.Target)
	}
	assert.Equal(t, testserver.RelTerminated, w.state("Contoso samkit").status)
}

func TestAssignUsesTheTemplatesGroupsAndUpdatesAnAssignment(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	d, err := w.sp.GDAP()
	require.NoError(t, err)
	tpl := sam.RoleTemplate{Name: "two", Roles: []sam.EntraRole{
		{ID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", Group: "Tier 1"}, // Directory Readers
		{ID: "29232cdf-9323-42fd-ade2-1d097af3e4de", Group: "Tier 1"}, // Exchange Administrator
	}}
	inv, err := d.Invite(t.Context(), sam.InviteOptions{DisplayName: "Groups", Template: tpl})
	require.NoError(t, err)
	require.NoError(t, w.s.ApproveRelationship(inv.Relationship.ID, w.prospect.ID))
	id := inv.Relationship.ID

	// A first run gives the group one role (as an older template did)…
	first, err := d.Assign(t.Context(), id, sam.AssignOptions{Groups: map[string]string{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Tier 1",
		"29232cdf-9323-42fd-ade2-1d097af3e4de": "Tier 2"}})
	require.NoError(t, err)
	require.Len(t, first, 2)
	// …the template now puts both roles in Tier 1: its assignment is updated.
	tplGroups := sam.RoleTemplate{Name: "two", Roles: tpl.Roles}
	second, err := d.Assign(t.Context(), id, sam.AssignOptions{Groups: tplGroups.Groups()})
	require.NoError(t, err)
	require.Len(t, second, 2)
	assert.Equal(t, "Tier 1", second[0].GroupName)
	assert.Equal(t, second[0].GroupID, second[1].GroupID, "both roles in one group")
	assert.True(t, second[0].AlreadyAssigned)
	assert.True(t, second[1].Updated, "Exchange Administrator added to Tier 1's assignment")

	w.s.Clock().Advance(2 * time.Minute)
	st, err := d.Status(t.Context(), id)
	require.NoError(t, err)
	for _, a := range st.Assignments {
		if a.AccessContainer.AccessContainerID == second[0].GroupID {
			assert.Len(t, a.AccessDetails.UnifiedRoles, 2, "the long-running update completed")
		}
	}
	third, err := d.Assign(t.Context(), id, sam.AssignOptions{Groups: tplGroups.Groups()})
	require.NoError(t, err)
	for _, ra := range third {
		assert.True(t, ra.AlreadyAssigned, ra.RoleName)
	}
}

func TestUpdateAccessAssignmentNeedsTheCurrentETag(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	d, err := w.sp.GDAP()
	require.NoError(t, err)
	inv, err := d.Invite(t.Context(), sam.InviteOptions{DisplayName: "ETag"})
	require.NoError(t, err)
	require.NoError(t, w.s.ApproveRelationship(inv.Relationship.ID, w.prospect.ID))
	out, err := d.Assign(t.Context(), inv.Relationship.ID, sam.AssignOptions{})
	require.NoError(t, err)

	g := newGDAPGraph(t, w.accessWorld)
	as, err := graph.Collect(g.DelegatedAdminAccessAssignments(t.Context(), inv.Relationship.ID))
	require.NoError(t, err)
	require.NotEmpty(t, as)
	a := as[0]
	same, accepted, err := g.UpdateDelegatedAdminAccessAssignment(t.Context(), inv.Relationship.ID, a.ID, a.ETag, a.AccessDetails.UnifiedRoles[0].RoleDefinitionID)
	require.NoError(t, err)
	assert.False(t, accepted, "the same roles: 200 with the assignment")
	assert.Equal(t, a.ID, same.ID)

	_, _, err = g.UpdateDelegatedAdminAccessAssignment(t.Context(), inv.Relationship.ID, a.ID, a.ETag, "62e90394-69f5-4237-9190-012177145e10")
	require.ErrorContains(t, err, "not part of the relationship's roles", "Global Administrator is not in the default template")

	w.s.Clock().Advance(2 * time.Minute) // pending → active: a new ETag
	_, _, err = g.UpdateDelegatedAdminAccessAssignment(t.Context(), inv.Relationship.ID, a.ID, a.ETag, out[1].RoleID)
	require.ErrorIs(t, err, graph.ErrPreconditionFailed, "a stale ETag changes nothing")
}

// newGDAPGraph is a Graph client of the partner's admin with GDAP's rights.
func newGDAPGraph(t *testing.T, w *accessWorld) *graph.Client {
	t.Helper()
	g, err := graph.New(w.adminSource(testserver.GraphResource, true, "DelegatedAdminRelationship.ReadWrite.All", "Group.ReadWrite.All"),
		graph.WithCloud(w.s.Cloud()), graph.WithHTTPClient(w.s.Client()), graph.WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	return g
}

func TestOnboardExistingCustomer(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	// A customer of the partner in Partner Center, with no relationship.
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam", PartnerCenter: true})
	var events []sam.OnboardEvent
	res, err := w.sp.Onboard(t.Context(), sam.OnboardOptions{Customer: cust, Sleep: w.clock.Sleep, Progress: func(e sam.OnboardEvent) {
		events = append(events, e)
		if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
			require.NoError(t, w.s.ApproveRelationship(e.RelationshipID, ""), "the invitation names the customer")
		}
	}})
	require.NoError(t, err)
	require.True(t, res.Complete())
	assert.Equal(t, sam.OnboardName(cust), res.Relationship.DisplayName)
	assert.Equal(t, cust, res.Customer)
	assert.LessOrEqual(t, len([]rune(res.Relationship.DisplayName)), 50, "Microsoft's limit for a relationship's name")
}

func TestOnboardRefusesARelationshipThatEnded(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	_, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.NoError(t, err)
	_, err = w.sp.Offboard(t.Context(), w.prospect.ID, nil)
	require.NoError(t, err)
	res, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.ErrorContains(t, err, "will not become active")
	assert.Equal(t, sam.StepFailed, final(res)[sam.OnboardLock])
}

// BenchmarkOnboardNewCustomer reports what an onboarding costs in
// requests, and what running it again on a finished one costs.
func BenchmarkOnboardNewCustomer(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		w := &onboardWorld{accessWorld: newAccessWorld(b)}
		grantManifest(b, w.accessWorld, sam.DefaultManifest().Merge(sam.GDAPManifest()))
		w.prospect = w.s.AddProspect("Contoso")
		o := sam.OnboardOptions{DisplayName: "Contoso samkit", Sleep: w.clock.Sleep, Progress: func(e sam.OnboardEvent) {
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
				if err := w.s.ApproveRelationship(e.RelationshipID, w.prospect.ID); err != nil {
					b.Fatal(err)
				}
			}
		}}
		w.s.ResetRequests()
		b.StartTimer()
		if _, err := w.sp.Onboard(b.Context(), o); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		first := w.s.TotalRequests()
		w.s.ResetRequests()
		if _, err := w.sp.Onboard(b.Context(), o); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(first), "requests/onboarding")
		b.ReportMetric(float64(w.s.TotalRequests()), "requests/re-run")
		b.StartTimer()
	}
}

func TestOnboardReportsAFailedCheckAndPassesOnceMended(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	w.s.Inject(testserver.Fault{Kind: testserver.Status, Status: 503, Service: "exchange", Tenant: w.prospect.ID})
	res, err := w.sp.Onboard(t.Context(), w.options(t, &events))
	require.ErrorIs(t, err, sam.ErrOnboardCheckFailed)
	require.NotNil(t, res.Access)
	assert.True(t, res.Access.Failed())
	assert.Equal(t, sam.StepFailed, final(res)[sam.OnboardCheck])
	assert.Equal(t, sam.StepDone, final(res)[sam.OnboardConsent], "every step before the check went through")

	w.s.ClearFaults()
	res, err = w.sp.Onboard(t.Context(), w.options(t, &events))
	require.NoError(t, err)
	assert.True(t, res.Complete())
}

func TestOnboardWithoutGDAPPermissionsSaysWhatToAdd(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	fakeManifest(t, w) // the default manifest: GDAP read only
	_, err := w.sp.Onboard(t.Context(), sam.OnboardOptions{DisplayName: "Denied", Sleep: func(context.Context, time.Duration) error { return nil }})
	require.ErrorIs(t, err, graph.ErrForbidden, "the fake enforces DelegatedAdminRelationship.ReadWrite.All")
	assert.ErrorContains(t, err, "step invite")
	assert.ErrorContains(t, err, "samctl setup --gdap")
	var rels int
	w.s.Read(func(world *testserver.World) { rels = len(world.Partner.Relationships) })
	assert.Zero(t, rels, "nothing was created")
}

// Between the customer's approval and active, Microsoft shows a
// relationship as approved, then activating, for minutes
// (https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship,
// delegatedAdminRelationshipStatus); an onboarding run again then waits for
// it instead of calling it dead.
func TestOnboardResumesAnApprovedRelationshipStillActivating(t *testing.T) {
	t.Parallel()
	for _, status := range []string{graph.RelationshipApproved, graph.RelationshipActivating} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			w := newOnboardWorld(t)
			var events []sam.OnboardEvent
			o := w.options(t, &events)
			o.NoWait = true
			_, err := w.sp.Onboard(t.Context(), o)
			require.ErrorIs(t, err, sam.ErrAwaitingApproval, "the customer approves as the run stops")
			w.setStatus("Contoso samkit", status)

			events = nil
			o = w.options(t, &events)
			o.NoWait = true // the customer has approved: nothing left to stop for
			o.Progress = func(e sam.OnboardEvent) { events = append(events, e) }
			activated := false
			o.Sleep = func(ctx context.Context, d time.Duration) error {
				if !activated {
					activated = true
					w.setStatus("Contoso samkit", testserver.RelActive)
				}
				return w.clock.Sleep(ctx, d)
			}
			res, err := w.sp.Onboard(t.Context(), o)
			require.NoError(t, err, "a relationship %s is on its way to active", status)
			require.True(t, res.Complete())
			assert.True(t, activated, "the onboarding waited for the relationship to turn active")
			assert.Equal(t, sam.StepAlreadyDone, final(res)[sam.OnboardLock])
			assert.Equal(t, 1, w.state("Contoso samkit").relationships, "no second relationship")
		})
	}
}

// A relationship the customer approved that Microsoft is still activating
// gives the partner its roles within minutes: offboarding cannot end it
// yet, and must not report it ended.
func TestPlanOffboardLeavesARelationshipStillActivating(t *testing.T) {
	t.Parallel()
	for _, status := range []string{graph.RelationshipApproved, graph.RelationshipActivating} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			w := newOnboardWorld(t)
			var events []sam.OnboardEvent
			_, err := w.sp.Onboard(t.Context(), w.options(t, &events))
			require.NoError(t, err)
			w.setStatus("Contoso samkit", status)

			plan, err := w.sp.PlanOffboard(t.Context(), w.prospect.ID)
			require.NoError(t, err)
			require.Len(t, plan.Actions, 2, "the consent and the one relationship")
			rel := plan.Actions[1]
			assert.Equal(t, status, rel.Status)
			assert.Equal(t, sam.OffboardLeft, rel.State, "a relationship about to turn active is not ended")
			assert.Contains(t, rel.Detail, "run offboard again once it is active")
		})
	}
}

// An access assignment that Microsoft puts in error never turns active
// (https://learn.microsoft.com/graph/api/resources/delegatedadminaccessassignment,
// delegatedAdminAccessAssignmentStatus): the onboarding stops at once and
// names it, instead of polling until its timeout.
func TestOnboardStopsAtAnAccessAssignmentInError(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	o := w.options(t, &events)
	approve := o.Progress
	o.Progress = func(e sam.OnboardEvent) {
		if e.Step == sam.OnboardAssign && e.Status == sam.StepWaiting {
			w.s.Mutate(func(world *testserver.World) {
				for _, r := range world.Partner.Relationships {
					if r.DisplayName == "Contoso samkit" {
						r.GDAP.Assignments[0].Status = "error"
					}
				}
			})
		}
		approve(e)
	}
	res, err := w.sp.Onboard(t.Context(), o)
	require.Error(t, err)
	assert.NotErrorIs(t, err, sam.ErrWaitTimedOut, "an assignment in error is not waited for")
	assert.ErrorContains(t, err, "is error and will not turn active")
	assert.Equal(t, sam.StepFailed, final(res)[sam.OnboardAssign])
	assert.Equal(t, 1, count(events, sam.OnboardAssign, sam.StepWaiting), "one wait, then the next read finds the error")
}

// Without a timeout, the wait for approval ends when the invitation lapses
// unanswered (90 days), with an error saying the relationship will not
// become active.
func TestOnboardWaitEndsWhenTheInvitationLapses(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	var events []sam.OnboardEvent
	o := w.options(t, &events)
	o.Timeout, o.Poll = 0, 24*time.Hour
	o.Progress = func(e sam.OnboardEvent) { events = append(events, e) } // nobody approves
	res, err := w.sp.Onboard(t.Context(), o)
	require.ErrorContains(t, err, "is expired and will not become active")
	assert.Equal(t, sam.StepFailed, final(res)[sam.OnboardApproval])
	_, waited := w.clock.All()
	assert.InDelta(t, 90, waited.Hours()/24, 1, "polled until the invitation lapsed, 90 days on")
}

// TestOnboardStopsAtAFailedAssignmentUpdate: a role added to an existing
// access assignment comes through a long-running operation; when it fails
// the role never arrives, and the onboarding says so instead of waiting
// until its timeout.
func TestOnboardStopsAtAFailedAssignmentUpdate(t *testing.T) {
	t.Parallel()
	w := newOnboardWorld(t)
	tpl := sam.RoleTemplate{Name: "one group", Roles: []sam.EntraRole{
		{ID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", Group: "Tier 1"},
		{ID: "29232cdf-9323-42fd-ade2-1d097af3e4de", Group: "Tier 1"}}}
	var events []sam.OnboardEvent
	o := w.options(t, &events)
	o.Template = tpl
	// An earlier run gave Tier 1 only the first role.
	approve := o.Progress
	o.Progress = func(e sam.OnboardEvent) {
		if e.Step == sam.OnboardAssign && e.Status == sam.StepStarted {
			d, err := w.sp.GDAP()
			require.NoError(t, err)
			_, err = d.Assign(t.Context(), e.RelationshipID, sam.AssignOptions{Groups: map[string]string{tpl.Roles[0].ID: "Tier 1"}})
			require.NoError(t, err)
			w.s.Clock().Advance(2 * time.Minute) // that assignment is active
		}
		if e.Step == sam.OnboardAssign && e.Status == sam.StepWaiting {
			w.s.Mutate(func(world *testserver.World) {
				for _, r := range world.Partner.Relationships {
					for _, op := range r.GDAP.Operations {
						op.Status = graph.OperationFailed
					}
				}
			})
		}
		approve(e)
	}
	res, err := w.sp.Onboard(t.Context(), o)
	require.Error(t, err)
	assert.NotErrorIs(t, err, sam.ErrWaitTimedOut, "a failed operation is not waited for")
	assert.ErrorContains(t, err, `adding Exchange Administrator to the access assignment of group "Tier 1"`)
	assert.ErrorContains(t, err, "failed: run again")
	assert.Equal(t, sam.StepFailed, final(res)[sam.OnboardAssign])
	assert.Equal(t, 1, count(events, sam.OnboardAssign, sam.StepWaiting), "one wait, then the next read finds the failure")
}
