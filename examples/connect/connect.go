// Package connect gives the examples their credentials: by default a
// sandbox of the Microsoft cloud started inside the example (samtest), with
// a partner, its customers (a few broken on purpose) and a consented SAM
// app; with -credentials FILE (written by 'samctl setup') or the SAMKIT_
// environment variables, the partner's real credentials and Microsoft's
// cloud. It uses public packages only, as the examples do: copy it with
// them.
package connect

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

var (
	credentials = flag.String("credentials", "", "credentials file written by 'samctl setup' (default: SAMKIT_ variables if set, else a sandbox)")
	sandboxFlag = flag.Bool("sandbox", false, "run against a sandbox whatever -credentials and the SAMKIT_ variables say")
	sandboxOnly bool
)

// UseSandbox makes Open use a sandbox whatever the command line and the
// environment say: the examples' tests must never reach a real tenant.
func UseSandbox() { sandboxOnly = true }

// Env is what an example works with.
type Env struct {
	Provider    *token.Provider
	Credentials token.Credentials
	Cloud       cloud.Configuration
	// HTTPClient is the client API clients start from; for the sandbox it
	// trusts the sandbox's certificate.
	HTTPClient *http.Client
	// Sandbox is the sandbox the example runs against; nil with real
	// credentials.
	Sandbox *samtest.Server
}

// Open parses the command line and connects. Close the Env when done.
func Open(ctx context.Context) (*Env, error) {
	flag.Parse()
	if sandboxOnly || *sandboxFlag {
		return openSandbox()
	}
	var store sam.Store
	switch env := (&sam.EnvStore{}); {
	case *credentials != "":
		store = sam.NewFileStore(*credentials)
	default:
		if _, err := env.Load(ctx); err == nil {
			store = env
		} else if !errors.Is(err, sam.ErrNoCredentials) {
			return nil, err
		}
	}
	if store == nil {
		return openSandbox()
	}
	creds, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	c := cloud.Public
	var opts []token.Option
	if fs, ok := store.(*sam.FileStore); ok {
		if c, err = fs.Cloud(ctx); err != nil {
			return nil, err
		}
		// Every rotated refresh token goes back to the file.
		opts = append(opts, token.WithRefreshTokenStore(fs))
	}
	hc := &http.Client{}
	p, err := token.NewProvider(creds, append(opts, token.WithCloud(c), token.WithHTTPClient(hc))...)
	if err != nil {
		return nil, err
	}
	return &Env{Provider: p, Credentials: creds, Cloud: c, HTTPClient: hc}, nil
}

// sandboxHealthy is how many of the sandbox's customers are healthy,
// beside one broken customer for each samtest.Problem.
const sandboxHealthy = 19

func openSandbox() (*Env, error) {
	s, err := samtest.NewServer(samtest.World{Customers: sandboxHealthy, Broken: true})
	if err != nil {
		return nil, err
	}
	creds := s.Credentials()
	partner, _ := s.Tenant(creds.TenantID)
	fmt.Printf("(running against a sandbox of the Microsoft cloud: partner %q, %d customers; -credentials FILE for real ones)\n\n",
		partner.Name, len(s.Customers()))
	p, err := s.Provider()
	if err != nil {
		s.Close()
		return nil, err
	}
	return &Env{Provider: p, Credentials: creds, Cloud: s.Cloud(), HTTPClient: s.Client(), Sandbox: s}, nil
}

// Close stops the sandbox, if any.
func (e *Env) Close() {
	if e.Sandbox != nil {
		e.Sandbox.Close()
	}
}

// Tenants lists the partner's customer tenants, as examples/list-tenants
// shows step by step.
func (e *Env) Tenants(ctx context.Context) ([]sam.Tenant, error) {
	g, err := graph.New(e.Provider.Source(e.Credentials.TenantID, e.Cloud.Graph.Scope()),
		graph.WithCloud(e.Cloud), graph.WithHTTPClient(e.Provider.HTTPClient()))
	if err != nil {
		return nil, err
	}
	pc, err := partner.New(e.Provider.Source(e.Credentials.TenantID, e.Cloud.PartnerCenter.Scope()),
		partner.WithCloud(e.Cloud), partner.WithHTTPClient(e.Provider.HTTPClient()))
	if err != nil {
		return nil, err
	}
	return sam.ListTenants(ctx, sam.TenantSources{Graph: g, Partner: pc}, sam.ListOptions{})
}
