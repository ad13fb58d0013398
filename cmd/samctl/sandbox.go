package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

type sandboxFlags struct {
	addr      string
	customers int
	latency   time.Duration
	healthy   bool
	caFile    string
	rehearse  []string
	state     string
	// worldGiven: --customers or --healthy was given, which shape a new
	// world only.
	worldGiven bool
}

func (a *app) sandboxCommand() *cobra.Command {
	var f sandboxFlags
	c := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve a fake Microsoft cloud on this machine, for testing tools",
		Long: `sandbox serves samkit's fake of the Microsoft cloud (Entra ID sign-in,
Microsoft Graph, Partner Center, Exchange Online admin API) on a loopback
address, with a partner, its customers (a few deliberately broken) and a
ready SAM app, and prints the endpoints and credentials: point your own
tools, in any language, at it. It stops on Ctrl-C.

It speaks TLS with its own certificate, written to a file whose path it
prints; samctl's --sandbox URL finds it alone. Its admin approves every
sign-in by itself, after one authorization_pending as Entra's device code
flow goes, so 'samctl setup --sandbox URL' runs end to end.

The credentials it prints are real secrets of a fake: they open nothing but
this sandbox.

Rehearsals stage a change Microsoft has announced, or a failure to be ready
for, so that a tool meets it here first: start them with --rehearse, or
while it runs through its loopback admin endpoint
(POST or DELETE {url}/_sandbox/rehearsals/NAME; GET lists them):
` + rehearsalHelp() + `
The one-way ones change the sandbox's tokens, sessions or secrets; a new
sign-in (samctl setup --sandbox) or secret mends them.

A GDAP invitation (samctl gdap invite or onboard, by a SAM app set up with
'samctl setup --sandbox URL --gdap') waits for the customer's admin,
whom the same endpoint plays: POST {url}/_sandbox/gdap/relationships/ID/approve.
An invitation that named no customer needs ?customer=TENANT-ID, or
?customer=new&name=NAME for a customer new to the partner, whose tenant the
sandbox then makes (samctl onboard --new goes on with it).

Without --state the world lives in memory only: a new sandbox has new
tenants, a new app and new credentials, and those of the last one no longer
work. With --state DIR it is saved in DIR while it changes and when the
sandbox stops, and the next 'samctl sandbox --state DIR' carries on with it:
tenants, apps, secrets, refresh tokens, consents, rehearsals. Injected
latency and the throttled customer's first 429s are not kept.`,
		Example: `  samctl sandbox
  samctl sandbox --addr 127.0.0.1:8443 --customers 200 --latency 50ms
  samctl sandbox --rehearse partner-center-mfa,invokecommand-off
  samctl sandbox --state ~/.samkit-sandbox --addr 127.0.0.1:8443
  samctl check --sandbox https://127.0.0.1:8443 --credentials <the file it printed>
  curl --cacert <its certificate> -X POST https://127.0.0.1:8443/_sandbox/rehearsals/refresh-token-revoked`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(f.addr)
			// An address, not a name: "localhost" would be looked up.
			if err != nil || strings.EqualFold(host, "localhost") || !cloud.IsLoopbackHost(host) {
				return usageError{err: fmt.Errorf("--addr %q: the sandbox listens on a loopback address only (127.0.0.1:PORT), since anyone reaching it is signed in as its admin", f.addr), cmd: c.CommandPath()}
			}
			if f.latency < 0 {
				return usageError{err: errors.New("--latency cannot be negative"), cmd: c.CommandPath()}
			}
			if err := checkSandboxCustomers(f.customers, f.healthy); err != nil {
				return usageError{err: err, cmd: c.CommandPath()}
			}
			f.worldGiven = c.Flags().Changed("customers") || c.Flags().Changed("healthy")
			for _, r := range f.rehearse {
				if !slices.Contains(testserver.RehearsalNames(), r) {
					return usageError{err: fmt.Errorf("--rehearse %q: no such rehearsal; choose from %s", r, strings.Join(testserver.RehearsalNames(), ", ")), cmd: c.CommandPath()}
				}
			}
			return a.serveSandbox(c.Context(), f)
		},
	}
	c.Flags().StringVar(&f.addr, "addr", "127.0.0.1:0", "address to listen on (a loopback address; port 0 picks a free one)")
	c.Flags().IntVar(&f.customers, "customers", testserver.DefaultSandboxCustomers, fmt.Sprintf("customer tenants, the %d broken ones included (0, or %d or more; any number with --healthy)", brokenCustomers, brokenCustomers))
	c.Flags().DurationVar(&f.latency, "latency", 0, "delay every request by this much, as a distant service would")
	c.Flags().BoolVar(&f.healthy, "healthy", false, "no broken customers: every one of --customers passes")
	c.Flags().StringVar(&f.caFile, "ca-file", "", "where to write the TLS certificate (PEM); default: where --sandbox looks for it")
	c.Flags().StringVar(&f.state, "state", "", "keep the sandbox's world (tenants, apps, secrets, tokens) in this folder across restarts")
	c.Flags().StringSliceVar(&f.rehearse, "rehearse", nil, "rehearsals to stage from the start (comma-separated): "+strings.Join(testserver.RehearsalNames(), ", "))
	_ = c.RegisterFlagCompletionFunc("rehearse", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return testserver.RehearsalNames(), cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

// brokenCustomers is how many customers a sandbox breaks on purpose, one
// for each kind of failure it shows.
var brokenCustomers = len(testserver.Problems())

// checkSandboxCustomers refuses a number of customers the sandbox cannot
// serve exactly. The broken customers come whole or not at all: a few of
// them would leave out, unsaid, failures a tool is being tried against,
// and leave no healthy customer to compare with, so below their number a
// person chooses between more customers and healthy ones.
func checkSandboxCustomers(n int, healthy bool) error {
	switch {
	case n < 0:
		return fmt.Errorf("--customers %d: the number of customers cannot be negative", n)
	case n > 0 && n < brokenCustomers && !healthy:
		return fmt.Errorf("--customers %d is fewer than the %d customers broken on purpose (one for each kind of failure): ask for %d or more, or add --healthy for %d healthy customers", n, brokenCustomers, brokenCustomers, n)
	}
	return nil
}

// rehearsalHelp lists the rehearsals for --help, one per line.
func rehearsalHelp() string {
	var b strings.Builder
	for _, r := range testserver.RehearsalCatalog() {
		fmt.Fprintf(&b, "  %-28s %s\n", r.Name, r.Change)
	}
	return b.String()
}

// sandboxJSON is a running sandbox in --json output.
type sandboxJSON struct {
	URL               string              `json:"url"`
	Login             string              `json:"login"`
	Graph             string              `json:"graph"`
	PartnerCenter     string              `json:"partnerCenter"`
	Exchange          string              `json:"exchange"`
	KeyVault          string              `json:"keyVault,omitempty"`
	Rehearsals        string              `json:"rehearsals"`
	Rehearsing        []string            `json:"rehearsing"`
	State             string              `json:"state,omitempty"`
	Restored          bool                `json:"restored,omitempty"`
	CAFile            string              `json:"caFile"`
	CredentialsFile   string              `json:"credentialsFile"`
	PartnerTenantID   string              `json:"partnerTenantId"`
	PartnerDomain     string              `json:"partnerDomain"`
	AdminUPN          string              `json:"adminUpn"`
	BootstrapClientID string              `json:"bootstrapClientId"`
	ApplicationID     string              `json:"applicationId"`
	ClientSecret      string              `json:"clientSecret"`
	RefreshToken      string              `json:"refreshToken"`
	Customers         []sandboxCustomerJS `json:"customers"`
}

type sandboxCustomerJS struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Domain  string `json:"domain"`
	Problem string `json:"problem,omitempty"`
}

func (a *app) serveSandbox(ctx context.Context, f sandboxFlags) error {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return withFix(fmt.Errorf("listening on %s: %w", f.addr, err), "choose another port with --addr 127.0.0.1:PORT, or port 0 for a free one")
	}
	s, info, restored, err := startSandboxWorld(ln, f)
	if err != nil {
		return err
	}
	defer s.Close()
	if restored && f.worldGiven {
		// Not an error: a script that always passes them restarts its
		// sandbox as it was. But the person asking should know.
		printf(a.stderr, "warning: --customers and --healthy shape a new world only: %s holds a saved one, restored as it was with %s; for a new one, remove that folder or give --state another\n",
			f.state, plural(len(info.Customers), "customer", "customers"))
	}
	for _, r := range f.rehearse {
		if err := s.Rehearse(testserver.Rehearsal(r)); err != nil {
			return usageError{err: err}
		}
	}

	caPath, credPath, cleanup, err := writeSandboxFiles(ctx, s, info, f.caFile)
	defer cleanup()
	if err != nil {
		return err
	}
	vault, err := addSandboxVault(s, info)
	if err != nil {
		return err
	}
	out := sandboxJSON{URL: s.URL(), Login: s.URL(), Graph: s.URL() + "/graph", PartnerCenter: s.URL() + "/partner", Exchange: s.URL() + "/exchange", KeyVault: vault,
		Rehearsals: s.URL() + "/_sandbox/rehearsals", Rehearsing: []string{}, State: f.state, Restored: restored,
		CAFile: caPath, CredentialsFile: credPath, PartnerTenantID: info.Partner.TenantID, PartnerDomain: info.Partner.Domain,
		AdminUPN: info.Partner.AdminUPN, BootstrapClientID: info.BootstrapClientID, ApplicationID: info.App.AppID,
		ClientSecret: info.App.Secret, RefreshToken: info.RefreshToken, Customers: make([]sandboxCustomerJS, 0, len(info.Customers))}
	for _, c := range info.Customers {
		out.Customers = append(out.Customers, sandboxCustomerJS{ID: c.ID, Name: c.Name, Domain: c.Domain, Problem: string(c.Problem)})
	}
	for _, r := range s.Rehearsals() {
		if r.Active {
			out.Rehearsing = append(out.Rehearsing, string(r.Name))
		}
	}
	kept := make(chan struct{})
	if f.state != "" {
		st := sandboxState{dir: f.state}
		if err := st.save(s, info); err != nil {
			return err
		}
		go func() {
			defer close(kept)
			st.keep(ctx, s, info, 2*time.Second, func(err error) { fmt.Fprintf(a.stderr, "samctl sandbox: %v\n", err) })
		}()
	} else {
		close(kept)
	}
	defer func() { <-kept }()
	if a.jsonOut {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		writeSandbox(a.stdout, out, info)
	}
	<-ctx.Done()
	if !a.jsonOut {
		fmt.Fprintf(a.stderr, "\nsandbox stopped after %d requests\n", s.TotalRequests())
	}
	return nil
}

// startSandboxWorld starts the sandbox's fake on ln: the world saved in
// --state when there is one (restored), else a new one, as the flags say.
func startSandboxWorld(ln net.Listener, f sandboxFlags) (*testserver.Server, testserver.SandboxInfo, bool, error) {
	// A long-running sandbox keeps counts, not every request.
	opts := []testserver.Option{testserver.WithListener(ln), testserver.WithRecordLimit(0)}
	if st := (sandboxState{dir: f.state}); f.state != "" && st.saved() {
		s := testserver.New(opts...)
		info, err := st.load(s)
		if err != nil {
			s.Close()
			return nil, info, false, err
		}
		if f.latency > 0 {
			s.Inject(testserver.Fault{Kind: testserver.Latency, Latency: f.latency})
		}
		return s, info, true, nil
	}
	// NewSandbox reads 0 customers as its default; here 0 is a partner that
	// has none yet.
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: f.customers, NoCustomers: f.customers == 0,
		Latency: f.latency, Healthy: f.healthy, App: true}, opts...)
	return s, info, false, nil
}

// writeSandboxFiles writes the sandbox's certificate (where --sandbox looks
// for it, unless caFile says otherwise) and a credentials file beside it.
// cleanup removes what was written at the default places: they describe
// a sandbox that no longer runs.
func writeSandboxFiles(ctx context.Context, s *testserver.Server, info testserver.SandboxInfo, caFile string) (caPath, credPath string, cleanup func(), err error) {
	var written []string
	cleanup = func() {
		for _, p := range written {
			os.Remove(p)
		}
	}
	host := strings.TrimPrefix(s.URL(), "https://")
	def, err := sandboxCAPath(host)
	if err != nil {
		return "", "", cleanup, err
	}
	caPath = caFile
	if caPath == "" {
		caPath = def
		written = append(written, def)
	}
	if err := os.MkdirAll(filepath.Dir(caPath), 0o700); err != nil {
		return "", "", cleanup, fmt.Errorf("writing the sandbox's certificate: %w", err)
	}
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate()}), 0o644); err != nil {
		return "", "", cleanup, fmt.Errorf("writing the sandbox's certificate: %w", err)
	}
	credPath = strings.TrimSuffix(def, ".pem") + "-credentials.json"
	c, err := sandboxCloud(s.URL())
	if err != nil {
		return "", "", cleanup, err
	}
	written = append(written, credPath, credPath+".lock")
	err = sam.NewFileStore(credPath, sam.WithFileCloud(c)).Save(ctx, token.Credentials{
		TenantID: info.Partner.TenantID, ApplicationID: info.App.AppID,
		ClientSecret: token.NewSecret(info.App.Secret), RefreshToken: token.NewSecret(info.RefreshToken),
	})
	if err != nil {
		return "", "", cleanup, fmt.Errorf("writing the sandbox's credentials: %w", err)
	}
	return caPath, credPath, cleanup, nil
}

func writeSandbox(w io.Writer, out sandboxJSON, info testserver.SandboxInfo) {
	fmt.Fprintf(w, "samkit sandbox: a fake Microsoft cloud at %s (Ctrl-C stops it)\n\nEndpoints\n", out.URL)
	tw := table(w)
	fmt.Fprintf(tw, "  sign-in (Entra ID)\t%s\t/{tenant}/oauth2/v2.0/token, /authorize, /devicecode\n", out.Login)
	fmt.Fprintf(tw, "  Microsoft Graph\t%s\ttokens for https://graph.microsoft.com\n", out.Graph)
	fmt.Fprintf(tw, "  Partner Center\t%s\ttokens for https://api.partnercenter.microsoft.com\n", out.PartnerCenter)
	fmt.Fprintf(tw, "  Exchange Online\t%s\ttokens for https://outlook.office365.com\n", out.Exchange)
	if out.KeyVault != "" {
		fmt.Fprintf(tw, "  Key Vault\t%s\tkeyvault://%s; tokens for https://vault.azure.net\n", out.KeyVault, sandboxVaultName)
	}
	fmt.Fprintf(tw, "  TLS certificate\t%s\n", out.CAFile)
	fmt.Fprintf(tw, "  rehearsals\t%s\tloopback only; POST or DELETE .../NAME (samctl sandbox --help lists them)\n", out.Rehearsals)
	if out.State != "" {
		how := "kept there from now on"
		if out.Restored {
			how = "restored from there, and kept"
		}
		fmt.Fprintf(tw, "  world\t%s\t%s\n", out.State, how)
	}
	tw.Flush()
	if len(out.Rehearsing) > 0 {
		fmt.Fprintf(w, "\nRehearsing: %s\n", strings.Join(out.Rehearsing, ", "))
	}

	problems := 0
	for _, c := range info.Customers {
		if c.Problem != testserver.ProblemNone {
			problems++
		}
	}
	fmt.Fprintln(w, "\nPartner")
	tw = table(w)
	fmt.Fprintf(tw, "  tenant\t%s\t%s (%s)\n", out.PartnerTenantID, info.Partner.Name, out.PartnerDomain)
	fmt.Fprintf(tw, "  admin\t%s\tGlobal Administrator, in AdminAgents, MFA; approves every sign-in\n", out.AdminUPN)
	fmt.Fprintf(tw, "  setup client\t%s\tMicrosoft Graph Command Line Tools\n", out.BootstrapClientID)
	if problems > 0 {
		fmt.Fprintf(tw, "  customers\t%d\t%d with a problem on purpose:\n", len(info.Customers), problems)
	} else {
		fmt.Fprintf(tw, "  customers\t%d\tnone with a problem\n", len(info.Customers))
	}
	for _, c := range info.Customers {
		if c.Problem != testserver.ProblemNone {
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", c.Name, c.ID, c.Problem.Describe())
		}
	}
	tw.Flush()

	fmt.Fprintln(w, "\nSAM app, consented in every customer that allows it. These secrets are printed")
	fmt.Fprintln(w, "because this is a local fake: they open nothing but this sandbox.")
	set := "  export %s=%s\n"
	if runtime.GOOS == "windows" {
		set = "  $env:%s = \"%s\"\n"
	}
	fmt.Fprintf(w, set, "SAMKIT_TENANT_ID", out.PartnerTenantID)
	fmt.Fprintf(w, set, "SAMKIT_APPLICATION_ID", out.ApplicationID)
	fmt.Fprintf(w, set, "SAMKIT_CLIENT_SECRET", out.ClientSecret)
	fmt.Fprintf(w, set, "SAMKIT_REFRESH_TOKEN", out.RefreshToken)
	fmt.Fprintf(w, "  credentials file: %s\n", out.CredentialsFile)

	fmt.Fprintln(w, "\nTry")
	fmt.Fprintf(w, "  samctl check --sandbox %s --credentials %s\n", out.URL, out.CredentialsFile)
	fmt.Fprintf(w, "  samctl setup --sandbox %s --credentials ./sandbox-setup.json\n", out.URL)
	if out.KeyVault != "" {
		fmt.Fprintf(w, "  AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s AZURE_CLIENT_SECRET=… \\\n    samctl store migrate --sandbox %s --credentials %s --to keyvault://%s\n",
			out.PartnerTenantID, out.ApplicationID, out.URL, out.CredentialsFile, sandboxVaultName)
	}
	fmt.Fprintf(w, "  curl --cacert %s %s/common/v2.0/.well-known/openid-configuration\n", out.CAFile, out.URL)
}
