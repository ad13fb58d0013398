package exchange_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// sandbox starts the fake cloud with a consented SAM app and one customer,
// Fabrikam, reached through GDAP where the app is consented too; it
// returns a Provider of the partner's stored credentials.
func sandbox(spec testserver.CustomerSpec) (*testserver.Server, *token.Provider, string) {
	srv := testserver.New()
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		log.Fatal(err)
	}
	spec.Name, spec.GDAP = "Fabrikam", true
	customer := srv.AddCustomer(spec)
	if err := srv.GrantConsent(app.AppID, customer); err != nil {
		log.Fatal(err)
	}
	rt, err := srv.MintRefreshToken(app.AppID)
	if err != nil {
		log.Fatal(err)
	}
	exoRT, err := srv.MintRefreshToken(testserver.ExchangePowerShellID, testserver.MintPublic(),
		testserver.MintScope(testserver.ExchangeResource+"/.default offline_access"))
	if err != nil {
		log.Fatal(err)
	}
	p, err := token.NewProvider(token.Credentials{
		TenantID:             srv.Partner().TenantID,
		ApplicationID:        app.AppID,
		ClientSecret:         token.NewSecret(app.Secret),
		RefreshToken:         token.NewSecret(rt),
		ExchangeRefreshToken: token.NewSecret(exoRT),
	}, token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()))
	if err != nil {
		log.Fatal(err)
	}
	return srv, p, customer
}

// Listing a customer's mailboxes with the SAM refresh token. A page size
// of 2 in the fake makes the client follow @odata.nextLink.
func ExampleInvokeInto() {
	srv, p, customer := sandbox(testserver.CustomerSpec{Users: 2})
	defer srv.Close()
	srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })

	exo, err := exchange.New(p.Source(customer, p.Cloud().Exchange.Scope()), customer,
		exchange.WithCloud(p.Cloud()), exchange.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	type mailbox struct{ UserPrincipalName, RecipientTypeDetails string }
	for m, err := range exchange.InvokeInto[mailbox](context.Background(), exo, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.UserPrincipalName, m.RecipientTypeDetails)
	}
	// Output:
	// admin@fabrikam.onmicrosoft.com UserMailbox
	// user1@fabrikam.onmicrosoft.com UserMailbox
	// user2@fabrikam.onmicrosoft.com UserMailbox
}

// Scripts that kept an Exchange Online PowerShell refresh token can keep
// using it: LegacyExchangeSource redeems it as that public client.
func ExampleNew_legacyExchangeToken() {
	srv, p, customer := sandbox(testserver.CustomerSpec{})
	defer srv.Close()

	exo, err := exchange.New(p.LegacyExchangeSource(customer), customer,
		exchange.WithCloud(p.Cloud()), exchange.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	type domain struct {
		DomainName string
		Default    bool
	}
	for d, err := range exchange.InvokeInto[domain](context.Background(), exo, "Get-AcceptedDomain", nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d.DomainName, d.Default)
	}
	// Output:
	// fabrikam.onmicrosoft.com true
}

// Cmdlet errors carry Exchange's own message, and a hint.
func ExampleError() {
	srv, p, customer := sandbox(testserver.CustomerSpec{ExchangeDeny: true})
	defer srv.Close()

	exo, err := exchange.New(p.Source(customer, p.Cloud().Exchange.Scope()), customer,
		exchange.WithCloud(p.Cloud()), exchange.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	for _, err := range exo.Invoke(context.Background(), "Get-OrganizationConfig", nil) {
		var e *exchange.Error
		if errors.As(err, &e) {
			fmt.Println(e.StatusCode, e.Message)
		}
	}
	// Output:
	// 403 The user "admin@contosopartner.onmicrosoft.com" isn't assigned to any management roles. Assign an Exchange administrator role in tenant fabrikam.onmicrosoft.com and try again.
}
