// Package samtest starts a fake Microsoft cloud in your tests, so that code
// built on samkit (or on any client of Microsoft Graph, Partner Center,
// Exchange Online and the identity platform) runs end to end with no
// account and no network.
//
// The fake keeps real state: a partner tenant, its customers with GDAP
// relationships, contracts and Partner Center records, users, a consented
// SAM app, refresh tokens that rotate, signed tokens that each service
// checks, and Microsoft's own error bodies. It is the fake samkit's own
// tests, examples and `samctl sandbox` run against.
//
// # A world
//
// NewServer starts a fake holding a World: a partner with a SAM app
// consented in every customer, and as many healthy customers as asked,
// plus, with World.Broken, one customer for each Problem partners meet
// (consent refused, admin outside the GDAP groups, MFA demanded, no Exchange
// role, throttling, a deleted tenant). Credentials returns the app's
// credentials and Provider a *token.Provider wired to the fake:
//
//	srv, err := samtest.NewServer(samtest.World{Customers: 3, Broken: true})
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer srv.Close()
//	p, err := srv.Provider()
//	…
//	for _, c := range srv.Customers() {
//		tok, err := p.Token(ctx, c.ID, p.Cloud().Graph.Scope())
//		…
//	}
//
// Clients other than samkit's reach the fake through Client, an
// *http.Client that trusts its certificate, at the endpoints of Cloud.
//
// # Reading the world
//
// Tenant returns a snapshot of a tenant (its users, whether the SAM app is
// consented there) and Requests every request the fake received, with the
// tenant it addressed and the status it answered, so that a test asserts on
// what its code did rather than on what it printed. Credentials never
// appear in either.
//
// # Faults and time
//
// Inject makes matching requests fail as Microsoft's services do (429 with
// Retry-After, 5xx, a reset connection, a hang, a truncated or HTML body);
// World.Latency delays every request; ExpireSecret and RevokeSessions break
// the credentials themselves; Advance moves the fake's clock forward, to
// expire tokens.
//
// # GDAP and credential rotation
//
// World.Manifest gives the SAM app the permissions of code that changes
// things: sam.GDAPManifest() to invite, onboard and offboard customers,
// sam.UnattendedRotationManifest to rotate its own secret or certificate
// with no sign-in. AddProspect adds a tenant that is no customer yet;
// ApproveRelationship plays its admin approving an invitation, typically
// from an onboarding's Progress callback; Relationships reads the GDAP
// relationships and their access assignments as Graph shows them. GDAP's
// asynchronous work (assignments turning active, terminations) takes
// World.GDAPDelay, and a new secret or certificate World.CredentialDelay
// to work, both on the fake's clock: give the code under test a Sleep that
// calls Advance, and minutes pass at once:
//
//	srv, err := samtest.NewServer(samtest.World{Manifest: sam.GDAPManifest()}, samtest.InMemory())
//	…
//	prospect, err := srv.AddProspect("Tailwind Traders")
//	…
//	res, err := partner.Onboard(ctx, sam.OnboardOptions{DisplayName: "Tailwind samkit",
//		Sleep: func(ctx context.Context, d time.Duration) error { srv.Advance(d); return ctx.Err() },
//		Progress: func(e sam.OnboardEvent) {
//			if e.Step == sam.OnboardApproval && e.Status == sam.StepWaiting {
//				approveErr = srv.ApproveRelationship(e.RelationshipID, prospect.ID)
//			}
//		}})
//
// # Without a socket
//
// With the InMemory option the fake opens no socket: Client's transport
// hands each request to the fake's handler directly. Nothing then waits on
// the network, so a test can run inside a testing/synctest bubble, where
// latency, Retry-After waits and token lifetimes pass in fake time and a
// test of a slow, throttled world takes milliseconds:
//
//	synctest.Test(t, func(t *testing.T) {
//		srv, err := samtest.NewServer(samtest.World{Customers: 2, Latency: time.Second}, samtest.InMemory())
//		…
//	})
package samtest
