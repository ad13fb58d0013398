// exchange-cmdlet runs an Exchange Online cmdlet in every customer tenant
// through the Exchange admin API (the REST endpoint behind the
// ExchangeOnlineManagement module), with no PowerShell: Get-Mailbox by
// default, any Get-* cmdlet with -cmdlet and -params.
//
//	go run ./examples/exchange-cmdlet                                     # against a sandbox
//	go run ./examples/exchange-cmdlet -cmdlet Get-AcceptedDomain -params '{}'
//	go run ./examples/exchange-cmdlet -credentials sam.json              # your customers
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/exchange"
)

var (
	cmdlet = flag.String("cmdlet", "Get-Mailbox", "the cmdlet to run")
	params = flag.String("params", `{"ResultSize": 3}`, "its parameters, as a JSON object")
)

// row is what this example prints of each output row; rows carry many
// more fields, which InvokeInto leaves out.
type row struct {
	Identity           string
	PrimarySmtpAddress string
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "exchange-cmdlet:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	var p map[string]any
	if err := json.Unmarshal([]byte(*params), &p); err != nil {
		return fmt.Errorf("-params: %w", err)
	}
	tenants, err := env.Tenants(ctx)
	if err != nil {
		return err
	}

	out := make([]string, len(tenants))
	var g errgroup.Group
	g.SetLimit(8)
	for i, t := range tenants {
		g.Go(func() error {
			// A delegated Exchange token in the customer tenant: the
			// partner's admin, through GDAP.
			c, err := exchange.New(env.Provider.Source(t.ID, env.Cloud.Exchange.Scope()), t.ID,
				exchange.WithCloud(env.Cloud), exchange.WithHTTPClient(env.HTTPClient))
			if err != nil {
				return err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%s\n", t.DisplayName)
			for r, err := range exchange.InvokeInto[row](ctx, c, *cmdlet, p) {
				if err != nil {
					fmt.Fprintf(&b, "  ✗ %v\n", err)
					break
				}
				fmt.Fprintf(&b, "  %s %s\n", r.Identity, r.PrimarySmtpAddress)
			}
			out[i] = b.String()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Print(strings.Join(out, ""))
	return nil
}
