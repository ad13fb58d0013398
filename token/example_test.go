package token_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

// Example obtains delegated tokens for a customer tenant from the SAM
// refresh token, against the sandbox cloud, and persists the rotated
// refresh token.
func Example() {
	srv, err := samtest.NewServer(samtest.World{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	customer, err := srv.AddCustomer(samtest.CustomerSpec{Domain: "fabrikam.example"})
	if err != nil {
		fmt.Println(err)
		return
	}

	saves := 0
	// The SAM app's credentials, as samctl setup stores them: the partner
	// tenant, the app's id and secret, and the admin's refresh token.
	p, err := token.NewProvider(srv.Credentials(),
		token.WithCloud(srv.Cloud()),
		token.WithHTTPClient(srv.Client()),
		token.WithRefreshTokenStore(token.RefreshTokenStoreFunc(func(context.Context, token.RefreshKind, token.Secret) error {
			saves++ // a real store writes the token to disk or a vault
			return nil
		})),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, scope := range []string{p.Cloud().Graph.Scope(), p.Cloud().Exchange.Scope()} {
		tok, err := p.Token(ctx, "fabrikam.example", scope)
		if err != nil {
			fmt.Println(err)
			return
		}
		claims, _ := tok.Claims()
		fmt.Println(claims.Audience, claims.TenantID == customer.ID, tok.AccessToken)
	}
	fmt.Println("rotated refresh tokens saved:", saves)
	// Output:
	// https://graph.microsoft.com true [redacted]
	// https://outlook.office365.com true [redacted]
	// rotated refresh tokens saved: 2
}

// ExampleError_Hint shows what a caller tells a person when a customer has
// not consented to the SAM app.
func ExampleError_Hint() {
	srv, _ := samtest.NewServer(samtest.World{})
	defer srv.Close()
	_, _ = srv.AddCustomer(samtest.CustomerSpec{Domain: "northwind.example", NotConsented: true})
	p, _ := token.NewProvider(srv.Credentials(), token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()))

	_, err := p.Token(context.Background(), "northwind.example", p.Cloud().Graph.Scope())
	var te *token.Error
	if errors.As(err, &te) && errors.Is(err, token.ErrConsentRequired) {
		fmt.Println(te.Hint())
	}
	// Output:
	// The SAM app has not been authorized in customer tenant northwind.example, so the partner's admins cannot use it there: push CPV consent to this customer (samctl consent push northwind.example); Partner Center's consent is what authorizes it.
}
