package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// sandboxCloudName is the cloud name recorded with credentials saved from
// a sandbox, so that using them without --sandbox fails with advice
// instead of sending sandbox secrets to Microsoft.
const sandboxCloudName = "sandbox"

// session is what the commands that use stored credentials share.
type session struct {
	creds token.Credentials
	cloud cloud.Configuration
	// base is the HTTP client every request goes through, under the
	// retrying layers of each client; counter counts what it sends.
	base    *http.Client
	counter *sam.CountingTransport
	sp      *sam.Partner
	p       *token.Provider // sp's
}

// openStore finds the credential store: the vault of --store (or
// SAMKIT_STORE) when given, else the file of --credentials when given, else the environment when it holds SAMKIT_ (or the PowerShell
// scripts') variables, else the default file.
func (a *app) openStore(ctx context.Context) (sam.Store, string, token.Credentials, error) {
	if spec := a.storeSpec(); spec != "" {
		return a.openKeyVault(ctx, spec)
	}
	if a.credentials == "" {
		env := &sam.EnvStore{}
		c, err := env.Load(ctx)
		switch {
		case err == nil:
			return env, "environment variables", c, nil
		case !errors.Is(err, sam.ErrNoCredentials):
			return nil, "", token.Credentials{}, withFix(err, "set every SAMKIT_ variable the credentials need, or unset them all to use the credentials file")
		}
	}
	path, err := a.credentialsPath()
	if err != nil {
		return nil, "", token.Credentials{}, err
	}
	fs := sam.NewFileStore(path)
	c, err := fs.Load(ctx)
	if err != nil {
		return nil, "", token.Credentials{}, err
	}
	return fs, path, c, nil
}

func (a *app) credentialsPath() (string, error) {
	if a.credentials != "" {
		return a.credentials, nil
	}
	return sam.DefaultPath()
}

// session loads the credentials and opens the Partner they make, with
// opts (the command's concurrency).
func (a *app) session(ctx context.Context, opts ...sam.Option) (*session, error) {
	store, where, creds, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	c, err := a.cloudFor(ctx, store)
	if err != nil {
		return nil, err
	}
	a.cloud, a.partnerTenant = c, creds.TenantID
	base, err := a.httpClient()
	if err != nil {
		return nil, err
	}
	base.Transport = a.watch(base.Transport)
	counter := &sam.CountingTransport{Base: base.Transport}
	// Every request of a session carries a credential: none follows a
	// redirect, whichever client carries it.
	hc := &http.Client{Transport: counter, CheckRedirect: httpx.RefuseRedirect}
	// Every rotated refresh token goes back to the file, so the chain
	// never expires while samctl is used. Environment variables cannot be
	// written: rotations then live only as long as the process (Open
	// leaves an EnvStore out).
	sp, err := sam.Open(ctx, store, append(a.partnerOptions(c, hc), opts...)...)
	if err != nil {
		return nil, withFix(fmt.Errorf("the credentials in %s: %w", where, err), "run 'samctl setup' again to write complete credentials")
	}
	return newSession(creds, sp, hc, counter), nil
}

// partnerOptions are the options of every Partner samctl opens: the cloud
// chosen, hc under every request, samctl's name in their User-Agent, and
// --debug's logger.
func (a *app) partnerOptions(c cloud.Configuration, hc *http.Client) []sam.Option {
	opts := []sam.Option{sam.WithCloud(c), sam.WithHTTPClient(hc), sam.WithUserAgent(userAgentProduct())}
	if a.log != nil {
		opts = append(opts, sam.WithLogger(a.log))
	}
	return opts
}

func newSession(creds token.Credentials, sp *sam.Partner, hc *http.Client, counter *sam.CountingTransport) *session {
	return &session{creds: creds, cloud: sp.Cloud(), base: hc, counter: counter, sp: sp, p: sp.Provider()}
}

// cloudFor picks the Microsoft cloud: --sandbox, else --cloud or
// --cloud-file, else the one saved with the credentials.
func (a *app) cloudFor(ctx context.Context, store sam.Store) (cloud.Configuration, error) {
	switch {
	case a.sandboxURL != "":
		return sandboxCloud(a.sandboxURL)
	case a.cloudName != "":
		return cloud.ByName(a.cloudName)
	case a.custom != nil:
		return *a.custom, nil
	}
	c, err := store.Cloud(ctx)
	// A sandbox's credentials record its endpoints, or, saved by an older
	// samctl, its name alone.
	if c.Name == sandboxCloudName || err != nil && strings.Contains(err.Error(), `"`+sandboxCloudName+`"`) {
		return c, withFix(errors.New("these credentials belong to a sandbox, not to Microsoft's cloud"), "add --sandbox URL (the address 'samctl sandbox' printed)")
	}
	return c, err
}

// sandboxCloud points every service at a sandbox, which serves them all
// from one address while issuing tokens for Microsoft's resource ids.
func sandboxCloud(raw string) (cloud.Configuration, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	// The sandbox listens on loopback only: an address elsewhere is not one.
	if err != nil || u.Scheme != "https" || !cloud.IsLoopbackHost(u.Hostname()) || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return cloud.Configuration{}, withFix(fmt.Errorf("--sandbox %q is not a sandbox address", raw), "pass the https://127.0.0.1:PORT address 'samctl sandbox' printed")
	}
	base := u.Scheme + "://" + u.Host
	c := cloud.Configuration{
		Name:          sandboxCloudName,
		LoginEndpoint: base,
		Graph:         cloud.Service{Endpoint: base + "/graph", Resource: cloud.Public.Graph.Resource},
		PartnerCenter: cloud.Service{Endpoint: base + "/partner", Resource: cloud.Public.PartnerCenter.Resource},
		Exchange:      cloud.Service{Endpoint: base + "/exchange", Resource: cloud.Public.Exchange.Resource},
	}
	return c, c.Validate()
}

// sandboxCAPath is where 'samctl sandbox' writes the certificate of the
// sandbox listening at hostport, so that --sandbox finds it alone.
func sandboxCAPath(hostport string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory for the sandbox's certificate: %w", err)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("sandbox address %q: %w", hostport, err)
	}
	return filepath.Join(dir, "samkit", "sandbox-"+strings.ReplaceAll(host, ":", "_")+"-"+port+".pem"), nil
}

// httpClient is the client every request starts from. With --sandbox it
// trusts the sandbox's certificate, and only it.
func (a *app) httpClient() (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// An access check keeps a connection per worker.
	t.MaxIdleConnsPerHost = 2 * sam.DefaultConcurrency
	if a.sandboxURL == "" {
		return &http.Client{Transport: t}, nil
	}
	u, err := url.Parse(a.sandboxURL)
	if err != nil || u.Host == "" {
		return nil, withFix(fmt.Errorf("--sandbox %q is not a sandbox address", a.sandboxURL), "pass the https://127.0.0.1:PORT address 'samctl sandbox' printed")
	}
	path := a.sandboxCA
	if path == "" {
		if path, err = sandboxCAPath(u.Host); err != nil {
			return nil, err
		}
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, withFix(fmt.Errorf("reading the sandbox's certificate: %w", err),
			"start the sandbox with 'samctl sandbox' on this machine, or pass the certificate it wrote with --sandbox-ca FILE")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, withFix(fmt.Errorf("%s holds no PEM certificate", path), "pass the certificate file 'samctl sandbox' printed with --sandbox-ca FILE")
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

// listTenants lists the partner's customers from every source. A source
// that fails is reported in warnings, and the others still count.
func (s *session) listTenants(ctx context.Context, opts sam.ListOptions) ([]sam.Tenant, []string, error) {
	tenants, err := s.sp.Tenants(ctx, opts)
	return listed(ctx, tenants, err, opts)
}

// listed turns the failure of some sources of a listing into warnings:
// the tenants the others listed are still worth checking.
func listed(ctx context.Context, tenants []sam.Tenant, err error, opts sam.ListOptions) ([]sam.Tenant, []string, error) {
	if err == nil {
		return tenants, nil, nil
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	var warnings []string
	rest := []error{}
	for _, e := range unjoin(err) {
		if errors.Is(e, sam.ErrTenantNotListed) {
			rest = append(rest, unlisted(tenants, opts))
			continue
		}
		var se *sam.SourceError
		if errors.As(e, &se) {
			w := oneLine(se)
			if h := fixFor(se); h != "" {
				w += " (" + strings.TrimSuffix(h, ".") + ")"
			}
			warnings = append(warnings, w)
			continue
		}
		rest = append(rest, e)
	}
	if len(rest) > 0 {
		return nil, warnings, errors.Join(rest...)
	}
	if len(tenants) == 0 {
		// Every source failed, most often for one reason (a wrong secret
		// fails them all alike): the error keeps each failure, and
		// fail tells each different one once.
		return nil, warnings, err
	}
	return tenants, warnings, nil
}

// unlisted is the error of --tenant entries that name no listed tenant,
// told in the command line's words.
func unlisted(tenants []sam.Tenant, opts sam.ListOptions) error {
	var missing []string
	for _, n := range opts.Include {
		n = strings.TrimSpace(n)
		if !slices.ContainsFunc(tenants, func(t sam.Tenant) bool {
			return strings.EqualFold(t.ID, n) || slices.ContainsFunc(t.Domains, func(d string) bool { return strings.EqualFold(d, n) })
		}) {
			missing = append(missing, fmt.Sprintf("%q", n))
		}
	}
	return usageError{err: withFix(fmt.Errorf("--tenant %s: no customer tenant has this id or domain", strings.Join(missing, ", ")),
		"'samctl tenants' lists the customer tenants with their ids and domains; --exclude may have left it out"), cmd: "samctl"}
}

// unjoin splits an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
