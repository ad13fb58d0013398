// Package sam implements Microsoft's Secure Application Model for partners:
// the multi-tenant app a partner registers once, the permissions it asks
// for, the consent that yields its refresh token, and the credentials that
// keep it alive.
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
// DefaultManifest is the smallest set with which the access check passes.
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
// atomically so that a crash never leaves half a file. EnvStore reads them
// from environment variables, for CI and containers; it cannot save a
// rotated token on its own.
//
//	store := sam.NewFileStore(path)
//	creds, err := store.Load(ctx)
//	if err != nil {
//		return err
//	}
//	p, err := token.NewProvider(creds, token.WithRefreshTokenStore(store))
package sam
