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
	"strconv"
	"strings"

	"github.com/samkit/samkit/cloud"
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
	// Partner is the SAM app at work; Provider is its token provider.
	Partner     *sam.Partner
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
func Open(ctx context.Context) (*Env, error) { return OpenWithPermissions(ctx, sam.Manifest{}) }

// OpenWithPermissions is Open for an example that changes things: in a
// sandbox the SAM app also holds m's permissions (sam.GDAPManifest() to
// onboard customers), as `samctl setup` with a larger manifest gives them;
// real credentials hold what their setup consented.
func OpenWithPermissions(ctx context.Context, m sam.Manifest) (*Env, error) {
	flag.Parse()
	if sandboxOnly || *sandboxFlag {
		return openSandbox(m)
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
		return openSandbox(m)
	}
	creds, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	// The cloud is the one saved with the credentials, and every rotated
	// refresh token goes back to the file.
	hc := &http.Client{}
	p, err := sam.Open(ctx, store, sam.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	return &Env{Partner: p, Provider: p.Provider(), Credentials: creds, Cloud: p.Cloud(), HTTPClient: hc}, nil
}

// sandboxHealthy is how many of the sandbox's customers are healthy,
// beside one broken customer for each samtest.Problem.
const sandboxHealthy = 19

func openSandbox(m sam.Manifest) (*Env, error) {
	s, err := samtest.NewServer(samtest.World{Customers: sandboxHealthy, Broken: true, Manifest: m})
	if err != nil {
		return nil, err
	}
	creds := s.Credentials()
	partner, _ := s.Tenant(creds.TenantID)
	fmt.Printf("(running against a sandbox of the Microsoft cloud: partner %q, %d customers; -credentials FILE for real ones)\n\n",
		partner.Name, len(s.Customers()))
	p, err := sam.New(creds, sam.WithCloud(s.Cloud()), sam.WithHTTPClient(s.Client()))
	if err != nil {
		s.Close()
		return nil, err
	}
	return &Env{Partner: p, Provider: p.Provider(), Credentials: creds, Cloud: s.Cloud(), HTTPClient: s.Client(), Sandbox: s}, nil
}

// Close stops the sandbox, if any.
func (e *Env) Close() {
	if e.Sandbox != nil {
		e.Sandbox.Close()
	}
}

// Tenants lists the partner's customer tenants, as examples/list-tenants
// shows.
func (e *Env) Tenants(ctx context.Context) ([]sam.Tenant, error) {
	return e.Partner.Tenants(ctx, sam.ListOptions{})
}

// Plain spells out, as Go escapes, what a terminal would act on in text
// an example did not write (names and messages from Microsoft's services):
// control characters, which forge lines or send escape sequences, and
// bidi controls, which reverse what is read.
func Plain(s string) string {
	q := strconv.QuoteToGraphic(s)
	return strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
}
