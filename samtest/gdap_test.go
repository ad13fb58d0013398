package samtest_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

// partnerOn opens a sam.Partner on the fake's credentials.
func partnerOn(t *testing.T, srv *samtest.Server) *sam.Partner {
	t.Helper()
	p, err := sam.New(srv.Credentials(), sam.WithCloud(srv.Cloud()), sam.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	return p
}

// clockSleep is an onboarding's or rotation's Sleep that moves the fake's
// clock instead of waiting, and adds up what it was asked to wait.
type clockSleep struct {
	srv   *samtest.Server
	mu    sync.Mutex
	total time.Duration
	calls int
}

func (c *clockSleep) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.total += d
	c.calls++
	c.mu.Unlock()
	c.srv.Advance(d)
	return ctx.Err()
}

func relationshipNamed(t *testing.T, srv *samtest.Server, name string) samtest.Relationship {
	t.Helper()
	rels := srv.Relationships()
	i := slices.IndexFunc(rels, func(r samtest.Relationship) bool { return r.DisplayName == name })
	require.GreaterOrEqual(t, i, 0, "a relationship named %q", name)
	return rels[i]
}

// TestOnboardAProspect onboards a tenant that is no customer yet, end to
// end through the public fake: the prospect's admin approves from the
// Progress callback, the access assignments turn active once GDAPDelay
// has passed on the fake's clock, and the new customer passes the check.
func TestOnboardAProspect(t *testing.T) {
	t.Parallel()
	const delay = 5 * time.Minute
	srv, _ := start(t, samtest.World{Customers: 1, Manifest: sam.GDAPManifest(), GDAPDelay: delay}, samtest.InMemory())
	prospect, err := srv.AddProspect("Tailwind Traders")
	require.NoError(t, err)
	assert.NotContains(t, srv.Customers(), prospect, "a prospect is no customer before it approves")
	tenant, ok := srv.Tenant(prospect.ID)
	require.True(t, ok)
	assert.False(t, tenant.Consented, "the SAM app is not in the prospect's tenant yet")

	clock := &clockSleep{srv: srv}
	var approveErr error
	var waiting []string
	res, err := partnerOn(t, srv).Onboard(t.Context(), sam.OnboardOptions{
		DisplayName: "Tailwind samkit", AutoExtend: true, Sleep: clock.sleep, Timeout: time.Hour,
		Progress: func(e sam.OnboardEvent) {
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
				rel := relationshipNamed(t, srv, "Tailwind samkit")
				waiting = append(waiting, rel.Status)
				approveErr = srv.ApproveRelationship(e.RelationshipID, prospect.ID)
			}
		},
	})
	require.NoError(t, approveErr, "the prospect's admin approves the invitation")
	require.NoError(t, err)
	assert.True(t, res.Complete(), "every step is done: %+v", res.Steps)
	assert.Equal(t, prospect.ID, res.Customer)
	assert.Equal(t, []string{"approvalPending"}, waiting, "the onboarding waited once, on an invitation locked for approval")
	assert.GreaterOrEqual(t, clock.total, delay, "the assignments were waited for GDAPDelay, on the fake's clock")

	rel := relationshipNamed(t, srv, "Tailwind samkit")
	assert.Equal(t, "active", rel.Status)
	assert.Equal(t, prospect.ID, rel.CustomerID)
	assert.Equal(t, "Tailwind Traders", rel.CustomerName)
	assert.True(t, rel.AutoExtend)
	assert.False(t, rel.End.IsZero(), "an approved relationship has an end")
	assert.NotEmpty(t, rel.RoleIDs)
	require.NotEmpty(t, rel.Assignments)
	for _, a := range rel.Assignments {
		assert.Equal(t, "active", a.Status, "assignment to %s", a.GroupName)
		assert.True(t, a.AdminIsMember, "the admin is in group %s", a.GroupName)
		assert.NotEmpty(t, a.GroupName)
	}
	assert.Contains(t, srv.Customers(), prospect, "the approved prospect is a customer")
	tenant, _ = srv.Tenant(prospect.ID)
	assert.True(t, tenant.Consented, "the onboarding pushed the SAM app's consent")

	rep, err := partnerOn(t, srv).Check(t.Context(), []sam.Tenant{{ID: prospect.ID, DisplayName: prospect.Name}}, sam.CheckOptions{})
	require.NoError(t, err)
	assert.Empty(t, rep.Failures(), "the new customer passes the access check")
}

// TestGDAPDelayPassesOnlyWithAdvance: an access assignment stays pending,
// and a termination requested, until Advance moves the fake's clock past
// GDAPDelay; an onboarding whose waits let no time pass gives up.
func TestGDAPDelayPassesOnlyWithAdvance(t *testing.T) {
	t.Parallel()
	const delay = 10 * time.Minute
	srv, _ := start(t, samtest.World{Manifest: sam.GDAPManifest(), GDAPDelay: delay}, samtest.InMemory())
	prospect, err := srv.AddProspect("Wingtip Toys")
	require.NoError(t, err)
	p := partnerOn(t, srv)
	noTime := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	_, err = p.Onboard(t.Context(), sam.OnboardOptions{DisplayName: "Wingtip samkit", Sleep: noTime, Timeout: 10 * time.Minute,
		Progress: func(e sam.OnboardEvent) {
			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
				assert.NoError(t, srv.ApproveRelationship(e.RelationshipID, prospect.ID))
			}
		}})
	require.ErrorIs(t, err, sam.ErrWaitTimedOut, "no time passed: the assignments stayed pending")
	rel := relationshipNamed(t, srv, "Wingtip samkit")
	require.Equal(t, "active", rel.Status)
	require.NotEmpty(t, rel.Assignments)
	for _, a := range rel.Assignments {
		assert.Equal(t, "pending", a.Status)
	}
	srv.Advance(delay)
	for _, a := range relationshipNamed(t, srv, "Wingtip samkit").Assignments {
		assert.Equal(t, "active", a.Status, "GDAPDelay passed on the fake's clock")
	}

	d, err := p.GDAP()
	require.NoError(t, err)
	_, err = d.Terminate(t.Context(), rel.ID)
	require.NoError(t, err)
	assert.Equal(t, "terminationRequested", relationshipNamed(t, srv, "Wingtip samkit").Status)
	srv.Advance(delay)
	assert.Equal(t, "terminated", relationshipNamed(t, srv, "Wingtip samkit").Status)
}

func TestApproveRelationshipRefuses(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, samtest.World{Customers: 1, Manifest: sam.GDAPManifest()}, samtest.InMemory())
	_, err := srv.AddProspect(" ")
	assert.ErrorContains(t, err, "name")
	prospect, err := srv.AddProspect("Alpine Ski House")
	require.NoError(t, err)
	other := srv.Customers()[0]

	d, err := partnerOn(t, srv).GDAP()
	require.NoError(t, err)
	inv, err := d.Invite(t.Context(), sam.InviteOptions{Customer: prospect.ID, DisplayName: "Alpine samkit"})
	require.NoError(t, err)
	rel := inv.Relationship
	open, err := d.Invite(t.Context(), sam.InviteOptions{DisplayName: "Open samkit"})
	require.NoError(t, err)
	assert.ErrorContains(t, srv.ApproveRelationship(open.Relationship.ID, ""), "customer", "an invitation naming no customer needs the approving tenant")
	assert.ErrorContains(t, srv.ApproveRelationship("no-such-id", prospect.ID), "no relationship")
	assert.ErrorContains(t, srv.ApproveRelationship(rel.ID, other.ID), prospect.ID, "only the customer it names approves it")
	assert.Equal(t, "approvalPending", relationshipNamed(t, srv, "Alpine samkit").Status, "a refused approval changes nothing")
	require.NoError(t, srv.ApproveRelationship(rel.ID, ""), "the customer it names, by default")
	assert.Equal(t, "active", relationshipNamed(t, srv, "Alpine samkit").Status)
	assert.ErrorContains(t, srv.ApproveRelationship(rel.ID, prospect.ID), "active", "an active relationship cannot be approved again")
}

// TestGDAPWritesNeedTheManifest: without World.Manifest the SAM app lacks
// the GDAP write permissions and Graph refuses the invitation.
func TestGDAPWritesNeedTheManifest(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, samtest.World{}, samtest.InMemory())
	_, err := partnerOn(t, srv).Onboard(t.Context(), sam.OnboardOptions{DisplayName: "Refused samkit",
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	require.ErrorIs(t, err, graph.ErrForbidden)
	assert.ErrorContains(t, err, "GDAPManifest")
	assert.Empty(t, srv.Relationships(), "nothing was created")
}

// rotating opens a sam.Partner on a file store holding the fake's
// credentials: a rotation saves the new secret there.
func rotating(t *testing.T, srv *samtest.Server) (*sam.Partner, *sam.FileStore) {
	t.Helper()
	store := sam.NewFileStore(filepath.Join(t.TempDir(), "credentials.json"), sam.WithFileCloud(srv.Cloud()))
	require.NoError(t, store.Save(t.Context(), srv.Credentials()))
	p, err := sam.Open(t.Context(), store, sam.WithCloud(srv.Cloud()), sam.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	return p, store
}

// appOnly asks for an app-only Graph token in the partner tenant with c.
func appOnly(t *testing.T, srv *samtest.Server, c token.Credentials) error {
	t.Helper()
	c.RefreshToken = token.Secret{}
	p, err := token.NewProvider(c, token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	_, err = p.AppToken(t.Context(), c.TenantID, srv.Cloud().Graph.Scope())
	return err
}

// TestRotateSecretUnattended rotates the SAM app's secret through the
// public fake with the refresh token alone, while the new secret takes
// CredentialDelay to replicate: the rotation retries until Advance (in
// its Sleep) has let the delay pass; a rotation whose waits let no time
// pass keeps the old secret.
func TestRotateSecretUnattended(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Second
	srv, _ := start(t, samtest.World{Manifest: sam.UnattendedRotationManifest(sam.Manifest{}), CredentialDelay: delay}, samtest.InMemory())
	p, store := rotating(t, srv)
	old := srv.Credentials()

	noTime := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	_, err := p.RotateSecret(t.Context(), sam.RotateOptions{Unattended: true, Sleep: noTime})
	require.ErrorIs(t, err, token.ErrInvalidClient, "the new secret never works while no time passes")
	kept, err := store.Load(t.Context())
	require.NoError(t, err)
	assert.True(t, kept.ClientSecret.Equal(old.ClientSecret), "the store keeps the working secret")

	clock := &clockSleep{srv: srv}
	res, err := p.RotateSecret(t.Context(), sam.RotateOptions{Unattended: true, Sleep: clock.sleep})
	require.NoError(t, err)
	assert.Equal(t, sam.CredentialSecret, res.Kind)
	assert.NotEmpty(t, res.RemovedKeyID, "the old secret was removed")
	assert.Positive(t, clock.calls, "the rotation had to wait for the new secret")
	assert.GreaterOrEqual(t, clock.total, delay, "it waited CredentialDelay on the fake's clock")

	now, err := store.Load(t.Context())
	require.NoError(t, err)
	assert.False(t, now.ClientSecret.Equal(old.ClientSecret), "the store holds the new secret")
	assert.NoError(t, appOnly(t, srv, now), "the new secret works")
	assert.ErrorIs(t, appOnly(t, srv, old), token.ErrInvalidClient, "the old secret is gone")
}

// TestRotateUnattendedNeedsTheManifest: without World.Manifest the SAM
// app may not change its own credentials.
func TestRotateUnattendedNeedsTheManifest(t *testing.T) {
	t.Parallel()
	srv, _ := start(t, samtest.World{}, samtest.InMemory())
	p, _ := rotating(t, srv)
	_, err := p.RotateSecret(t.Context(), sam.RotateOptions{Unattended: true})
	require.ErrorIs(t, err, sam.ErrRotationPermission)
	assert.NoError(t, appOnly(t, srv, srv.Credentials()), "the secret is untouched")
}

// TestRotateCertificateUnattended gives the app a certificate through the
// public fake, waiting out CredentialDelay on the fake's clock.
func TestRotateCertificateUnattended(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Second
	srv, _ := start(t, samtest.World{Manifest: sam.UnattendedRotationManifest(sam.Manifest{}), CredentialDelay: delay}, samtest.InMemory())
	p, store := rotating(t, srv)
	clock := &clockSleep{srv: srv}
	res, err := p.RotateCredentials(t.Context(), sam.RotateOptions{Kind: sam.CredentialCertificate, Unattended: true, Sleep: clock.sleep})
	require.NoError(t, err)
	assert.Equal(t, sam.CredentialCertificate, res.Kind)
	assert.GreaterOrEqual(t, clock.total, delay, "it waited CredentialDelay on the fake's clock")
	now, err := store.Load(t.Context())
	require.NoError(t, err)
	require.NotNil(t, now.Certificate, "the store holds the certificate")
	assert.Equal(t, res.Thumbprint, now.Certificate.SHA1Thumbprint())
	now.ClientSecret = token.Secret{}
	assert.NoError(t, appOnly(t, srv, now), "the certificate alone gets an app-only token")
}
