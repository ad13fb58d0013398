// list-tenants lists a partner's customer tenants as samkit sees them: from
// the active GDAP relationships, the contracts and Partner Center's customer
// list, merged by tenant id, with the sources that name each one.
//
//	go run ./examples/list-tenants                        # against a sandbox
//	go run ./examples/list-tenants -credentials sam.json  # your partner tenant
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/samkit/samkit/examples/connect"
	"github.com/samkit/samkit/sam"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "list-tenants:", connect.Plain(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := connect.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	// GDAP relationships, contracts and Partner Center's customers, read
	// as the partner's admin in the partner tenant and merged by tenant id.
	tenants, err := env.Partner.Tenants(ctx, sam.ListOptions{IncludeMLT: true})
	// A source that cannot be read does not hide what the others list.
	var se *sam.SourceError
	if errors.As(err, &se) {
		fmt.Fprintln(os.Stderr, "warning:", connect.Plain(err.Error()))
	} else if err != nil {
		return err
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTENANT ID\tDOMAIN\tSOURCES\tGDAP RELATIONSHIPS")
	for _, t := range tenants {
		var sources, rels []string
		for _, s := range t.Sources {
			sources = append(sources, string(s))
		}
		for _, r := range t.Relationships {
			rels = append(rels, r.DisplayName)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.DisplayName, t.ID, t.DefaultDomain, strings.Join(sources, ","), strings.Join(rels, ", "))
	}
	w.Flush()
	fmt.Printf("\n%d tenants\n", len(tenants))
	return nil
}
