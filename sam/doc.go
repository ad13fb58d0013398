// Package sam implements Microsoft's Secure Application Model for partners:
// the multi-tenant app a partner registers once, the permissions it asks
// for, the consent that yields its refresh token, and the credentials that
// keep it alive.
//
// A Partner is that app at work. Open one from the store Setup saved the
// credentials to, once, and call its methods:
//
//	p, err := sam.Open(ctx, sam.NewFileStore(path))
//	if err != nil {
//		return err
//	}
//	tenants, err := p.Tenants(ctx, sam.ListOptions{})
//	if err != nil {
//		return err // see ListOptions: the tenants listed may come with it
//	}
//	report, err := p.Check(ctx, tenants, sam.CheckOptions{})
//	if err != nil {
//		return err
//	}
//	fmt.Println(report.Summary()) // "N total tenants, with F failures"
//
// Options set what every call shares: WithCloud, WithHTTPClient,
// WithLogger, WithRetryPolicy, WithConcurrency and WithUserAgent. New builds a Partner
// from Credentials held elsewhere; Provider gives its token provider to
// other clients (graph, exchange, partner, azsam), so that they share its
// cached tokens.
//
// # The model
//
// A partner registers one multi-tenant application, the SAM app, in its own
// tenant. An admin of the partner tenant, holding delegated admin rights over
// the customer tenants, signs in once with MFA through that app; the sign-in
// yields a refresh token. Redeemed at a customer tenant's token endpoint, the
// refresh token gives an access token for that customer (the app acting as
// the admin). Where a service refuses a foreign user, the app's own secret or
// certificate gives app-only tokens instead, once the app is consented in the
// customer tenant.
//
// # Permissions
//
// A Manifest lists what the app asks of each resource (Microsoft Graph,
// Exchange Online, Partner Center): delegated permissions, used when the app
// acts as the admin, and application permissions, used with app-only tokens.
// DefaultManifest is the smallest set with which every part of the model
// works: the access check, listing GDAP relationships, and pushing consent.
// LoadManifest reads a larger one from the JSON of an application's
// requiredResourceAccess, where permissions may also be written by name;
// merge it into the default with Manifest.Merge.
//
//	extra, err := sam.LoadManifest(f)
//	if err != nil {
//		return err // names the entry and its line
//	}
//	m := sam.DefaultManifest().Merge(extra)
//
// # Credentials
//
// A Store keeps the tenant id, application id, client secret or certificate
// and the refresh tokens. Give the store to the token provider
// (token.WithRefreshTokenStore) so that every rotated refresh token is saved:
// a refresh token that is never replaced dies after 90 days of disuse, one
// that is replaced at every use lives as long as it is used.
//
// FileStore keeps them in a JSON file readable only by its owner, replaced
// atomically so that a crash never leaves half a file, and locked around
// each write so that processes sharing it never step it back to an older
// refresh token. EnvStore reads them
// from environment variables, for CI and containers; it cannot save a
// rotated token on its own. KeyVaultStore keeps each credential as a
// secret in Azure Key Vault, every rotated refresh token a new version
// that never steps back; the identity it signs in to the vault as needs
// the Key Vault Secrets Officer role there.
//
//	p, err := sam.Open(ctx, sam.NewFileStore(path))
//
// # Setup
//
// Setup does what the old SecureAppModel script and a portal tour did: the
// admin signs in (device code or browser), the preflight checks Global
// Administrator, AdminAgents and MFA, the app is found by display name or
// created with its service principals, a client secret and admin consent,
// the admin consents through the new app (PKCE on a loopback listener, or a
// pasted redirect URL), the refresh token is verified and the credentials
// saved. Progress reports each step. A failure is a *SetupError naming the
// step and the fix, after the run's journal has been undone: nothing the
// run created is left behind, and an app that existed before is never
// deleted. Running it again is safe. Setup is a function, not a method:
// there is no Partner before it has run; SetupResult.Partner is the one it
// made.
//
// # Customers
//
// Partner.Tenants merges the partner's active GDAP relationships, its
// contracts and its Partner Center customers into one Tenant per tenant id.
// Partner.PushConsent pushes CPV consent to customers through Partner
// Center and completes the grants and app role assignments inside them.
// Partner.Check proves, tenant by tenant and concurrently, that Graph and Exchange can be
// reached, and says for each failure what a person should do; its
// AccessReport ends with the old test script's line, "N total tenants, with
// F failures".
//
// # Upkeep
//
// Partner.Inspect shows the app's secrets and certificates and their
// expiry, its redirect URIs and which permissions really have consent.
// Partner.RotateCredentials replaces the client secret or the certificate
// without ever leaving a store with a credential that does not work, after
// an admin's sign-in or, with RotateOptions.Unattended and the delegated
// permission UnattendedRotationManifest adds, through the refresh token
// alone. SetupOptions.Certificate makes a certificate-only app, with no
// client secret at all.
package sam
