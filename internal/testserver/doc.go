// Package testserver is a stateful fake of the Microsoft cloud as samkit sees
// it: login.microsoftonline.com (the identity platform), Microsoft Graph,
// Partner Center and the Exchange Online admin API, served by one TLS server.
//
// It is the far side of the wire for every samkit test, for the examples and
// for `samctl sandbox`, so its fidelity is the product's: it keeps real state
// (tenants, users, apps, service principals, grants, refresh tokens, codes)
// behind a mutex, issues RS256-signed JWTs, enforces consent per tenant,
// rotates refresh tokens, pages collections and answers with Microsoft's own
// error bodies. Microsoft's own client, MSAL Go, accepts it.
//
// # Layout
//
// The identity platform is served at the root ({URL}/{tenant}/oauth2/v2.0/…),
// because MSAL reads the tenant from the first path segment of an authority.
// Graph is served under {URL}/graph, Partner Center under {URL}/partner and
// Exchange under {URL}/exchange; Server.Cloud returns a cloud.Configuration
// that points each service there while tokens keep the real resource
// identifiers as their audience.
//
// # State
//
// A new Server holds a partner tenant whose admin is a Global Administrator,
// a member of AdminAgents and signs in with MFA. Tests add customers with
// AddCustomer and change anything else with Mutate, which runs a function
// over the World under the server's lock.
//
// # Faults and time
//
// Inject queues a Fault (latency, throttling, 5xx, reset, malformed bodies…)
// for the next N requests that match a path, method and tenant; an
// IdentityError fault answers with any AADSTS code of Microsoft's reference
// (IdentityErrorCodes). The Clock is settable: Advance it to expire tokens,
// secrets and idle refresh tokens. Access token lifetimes are picked
// between 60 and 90 minutes, as Entra's are, from a generator WithSeed
// fixes. World.TokenThrottle makes the token endpoint throttle a client
// per tenant (429, or AADSTS50196 for a refresh loop).
//
// # Rehearsals and saved state
//
// Rehearse stages a change Microsoft has announced or a failure users must
// be ready for (Partner Center's MFA enforcement, a retired client, revoked
// sessions, hung APIs…; RehearsalCatalog lists them), from the world's state
// where it can hold it. A server serves them to loopback callers at
// /_sandbox/rehearsals. SaveState and LoadState carry a world across
// processes (samctl sandbox --state).
//
// # Recording
//
// Every request is recorded (Requests, Count) with credentials replaced by
// fingerprints, so tests assert on what went over the wire without holding
// a secret.
package testserver
