// Package token obtains Microsoft Entra ID access tokens for the Secure
// Application Model: delegated and app-only, for any customer tenant and
// resource, from one set of stored credentials.
//
// # Credentials
//
// A partner's SAM app is described by Credentials: the partner tenant, the
// app's application (client) ID, its client secret or certificate, and the
// refresh token of the admin's consent sign-in. Every secret is a Secret,
// which prints "[redacted]" in every format, in JSON and in logs; Reveal is
// the only way to read it. ParseCertificate reads a certificate from PEM
// or PFX.
//
// NewProvider checks the credentials and the options and fails with an
// error that names the missing or wrong field:
//
//	p, err := token.NewProvider(creds,
//		token.WithRefreshTokenStore(store),
//		token.WithLogger(logger))
//
// # Delegated tokens
//
// One refresh token is bound to the admin and the app, not to a tenant or
// a resource. Provider.Token redeems it at
// {login}/{tenant}/oauth2/v2.0/token with the scope asked for, so the same
// refresh token yields Graph, Exchange and Partner Center tokens in the
// partner's tenant and in every customer tenant the admin may reach
// (through GDAP):
//
//	tok, err := p.Token(ctx, customerTenantID, "https://graph.microsoft.com/.default")
//
// API clients take a Source, which binds a tenant and scope:
//
//	src := p.Source(customerTenantID, p.Cloud().Graph.Scope())
//
// OAuth2 adapts a Source to golang.org/x/oauth2.
//
// LegacyExchangeToken redeems Credentials.ExchangeRefreshToken as the
// Exchange Online PowerShell public client, for tools migrating from
// scripts that kept such a token. New code takes Exchange tokens from
// Token with the Exchange scope.
//
// # App-only tokens
//
// Provider.AppToken uses the client_credentials grant with the app's
// client secret or, without one, a client assertion signed with its
// certificate. It works in a customer tenant once the SAM app has been
// consented there (CPV consent); scope must be "{resource}/.default".
//
// # Caching
//
// Tokens are cached per kind, client, tenant and scope, and served until
// the expiry window (WithExpiryWindow, DefaultExpiryWindow) before they
// expire. A cached token costs a map lookup under a read lock, with no
// allocation; concurrent requests for a missing token share one request
// to the identity platform. A caller whose context ends stops waiting at
// once, while the shared request completes for the others; once no caller
// waits for it, it is cancelled, so that an answer that never comes
// cannot hold up the next caller. When an API rejects a token before its
// expiry, Invalidate drops it.
//
// # Rotation
//
// Every refresh response carries a new refresh token; the old one stays
// valid, and the chain expires after 90 days without use. The Provider
// uses the newest refresh token for every later redemption and hands it to
// the RefreshTokenStore before returning the access token that came with
// it. When redemptions race, a rotated token is kept only if no other was
// kept since its redemption began, so the tokens kept, and saved, follow
// the order the identity platform issued them in; the others stay valid
// and are let go. Saves are serialised, and an older token never
// overwrites a newer one. If the store fails, the token request fails
// with an error naming the store: an access token is not worth a refresh
// token lost without notice. The Provider keeps the new refresh token in
// memory and the next redemption saves again. A store that several
// processes share implements RefreshTokenObtainedStore: it is told when
// each token arrived, and keeps the newest whichever process saves last.
//
// # Errors
//
// A failed token request returns a *Error with the fields of Microsoft's
// error body (error, AADSTS codes, suberror, description, trace and
// correlation IDs, claims), the HTTP status, the tenant and the endpoint.
// A 200 with an error member, an HTML page from a proxy and an empty body
// are errors too. Its Error method is one line; Hint says what a person
// should do about it. errors.Is matches it against the sentinels callers
// branch on:
//
//	if errors.Is(err, token.ErrConsentRequired) {
//		// push CPV consent to this customer
//	}
//	var te *token.Error
//	if errors.As(err, &te) {
//		fmt.Println(te.Hint())
//	}
//
// Token requests are logged, at debug level and only through WithLogger's
// logger, with tenant, scope, grant, status, duration and trace ID; never
// a token, secret, assertion or code. Each carries the User-Agent
// samkit/<version>, after the caller's product when WithUserAgent names
// one, so that a customer's sign-in logs say who asked.
package token
