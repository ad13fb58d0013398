// tokens-all-tenants gets a Microsoft Graph token in every customer tenant
// from one refresh token: the heart of the Secure Application Model. A
// tenant that refuses says why, with the identity platform's code and what
// to do about it.
//
//	go run ./examples/tokens-all-tenants                        # against a sandbox
//	go run ./examples/tokens-all-tenants -credentials sam.json  # your customers
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/token"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "tokens-all-tenants:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	tenants, err := env.Tenants(ctx)
	if err != nil {
		return err
	}

	// The Provider is safe for concurrent use: it caches each token and
	// sends one request per tenant and resource however many ask.
	lines := make([]string, len(tenants))
	var g errgroup.Group
	g.SetLimit(8)
	for i, t := range tenants {
		g.Go(func() error {
			tok, err := env.Provider.Token(ctx, t.ID, env.Cloud.Graph.Scope())
			var te *token.Error
			switch {
			case errors.As(err, &te):
				lines[i] = fmt.Sprintf("✗ %s: %s\n    %s", t.DisplayName, te.Error(), te.Hint())
			case err != nil:
				lines[i] = fmt.Sprintf("✗ %s: %v", t.DisplayName, err)
			default:
				c, _ := tok.Claims()
				lines[i] = fmt.Sprintf("✓ %s: token for %s as %s, valid until %s", t.DisplayName, c.Audience, c.UPN, tok.Expiry.Format(time.Kitchen))
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}
