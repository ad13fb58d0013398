package token_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestFaultNoSecretInLogsOrErrors takes every kind of token for many
// tenants, with the client secret and with the certificate, then fails in
// every way the identity platform and the wire allow, logging at debug
// level throughout: no secret, refresh token, access token, client
// assertion or private key may appear in a log line or in an error,
// printed with Error, %+v or %#v.
func TestFaultNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	w := faulttest.NewSecretWorld(t, 12)
	ctx := t.Context()
	c := w.Server.Cloud()
	certOnly := w.Creds
	certOnly.ClientSecret = token.Secret{}
	withCert := w.NewProvider(t, certOnly)

	var wg sync.WaitGroup
	for _, tenant := range append([]string{w.Partner}, w.Customers...) {
		wg.Go(func() {
			for _, scope := range []string{c.Graph.Scope(), c.Exchange.Scope(), c.PartnerCenter.Scope()} {
				_, err := w.Provider.Token(ctx, tenant, scope)
				w.Errors.Add(err)
				_, err = w.Provider.AppToken(ctx, tenant, scope)
				w.Errors.Add(err)
				_, err = withCert.AppToken(ctx, tenant, scope)
				w.Errors.Add(err)
			}
			_, err := w.Provider.LegacyExchangeToken(ctx, tenant)
			w.Errors.Add(err)
		})
	}
	wg.Wait()
	if n := w.Errors.Len(); n > 0 {
		t.Fatalf("%d token requests failed:\n%s", n, w.Errors.String())
	}

	// The identity platform's refusals.
	srv := w.Server
	unconsented := srv.AddCustomer(testserver.CustomerSpec{GDAP: true})
	mfa := srv.AddCustomer(testserver.CustomerSpec{GDAP: true, DemandMFA: true})
	outside := srv.AddCustomer(testserver.CustomerSpec{GDAP: true, AdminOutsideGDAPGroups: true})
	for _, id := range []string{mfa, outside} {
		if err := srv.GrantConsent(w.App.AppID, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, tenant := range []string{unconsented, mfa, outside, "unknown.example", "not a tenant"} {
		_, err := w.Provider.Token(ctx, tenant, c.Graph.Scope())
		w.Errors.Add(err)
		_, err = withCert.AppToken(ctx, tenant, c.Graph.Scope())
		w.Errors.Add(err)
	}
	wrong := w.Creds
	wrong.ClientSecret = token.NewSecret("Abc8Q~a-wrong-but-very-secret-looking-value")
	w.Wire.Keep(wrong.ClientSecret.Reveal())
	_, err := w.NewProvider(t, wrong).AppToken(ctx, w.Customers[0], c.Graph.Scope())
	w.Errors.Add(err)

	// Broken answers, each on a request that carries credentials.
	w.UnderFaults(t, "login", func(t *testing.T, fctx context.Context) {
		p := w.NewProvider(t, w.Creds)
		_, err := p.Token(fctx, w.Customers[1], c.Graph.Scope())
		w.Errors.Add(err)
		_, err = p.AppToken(fctx, w.Customers[1], c.Graph.Scope())
		w.Errors.Add(err)
		_, err = p.LegacyExchangeToken(fctx, w.Customers[1])
		w.Errors.Add(err)
	})

	// Revoked sessions, and a refresh token left idle too long.
	if err := srv.RevokeSessions(srv.Partner().AdminID); err != nil {
		t.Fatal(err)
	}
	_, err = w.NewProvider(t, w.Creds).Token(ctx, w.Customers[2], c.Graph.Scope())
	w.Errors.Add(err)
	srv.Clock().Advance(91 * 24 * time.Hour)
	_, err = w.NewProvider(t, w.Creds).LegacyExchangeToken(ctx, w.Customers[2])
	w.Errors.Add(err)

	w.Check(t, 40)
}
