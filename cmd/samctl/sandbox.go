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
sign-in at once, so 'samctl setup --sandbox URL' runs end to end.

The credentials it prints are real secrets of a fake: they open nothing but
this sandbox.`,
		Example: `  samctl sandbox
  samctl sandbox --addr 127.0.0.1:8443 --customers 200 --latency 50ms
  samctl check --sandbox https://127.0.0.1:8443 --credentials <the file it printed>`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(f.addr)
			// An address, not a name: "localhost" would be looked up.
			if err != nil || strings.EqualFold(host, "localhost") || !cloud.IsLoopbackHost(host) {
				return usageError{err: fmt.Errorf("--addr %q: the sandbox listens on a loopback address only (127.0.0.1:PORT), since anyone reaching it is signed in as its admin", f.addr), cmd: c.CommandPath()}
			}
			if f.customers < 0 || f.latency < 0 {
				return usageError{err: errors.New("--customers and --latency cannot be negative"), cmd: c.CommandPath()}
			}
			return a.serveSandbox(c.Context(), f)
		},
	}
	c.Flags().StringVar(&f.addr, "addr", "127.0.0.1:0", "address to listen on (a loopback address; port 0 picks a free one)")
	c.Flags().IntVar(&f.customers, "customers", testserver.DefaultSandboxCustomers, "customer tenants, the broken ones included")
	c.Flags().DurationVar(&f.latency, "latency", 0, "delay every request by this much, as a distant service would")
	c.Flags().BoolVar(&f.healthy, "healthy", false, "no broken customers")
	c.Flags().StringVar(&f.caFile, "ca-file", "", "where to write the TLS certificate (PEM); default: where --sandbox looks for it")
	return c
}

// sandboxJSON is a running sandbox in --json output.
type sandboxJSON struct {
	URL               string              `json:"url"`
	Login             string              `json:"login"`
	Graph             string              `json:"graph"`
	PartnerCenter     string              `json:"partnerCenter"`
	Exchange          string              `json:"exchange"`
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
	// A long-running sandbox keeps counts, not every request.
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: f.customers, Latency: f.latency, Healthy: f.healthy, App: true},
		testserver.WithListener(ln), testserver.WithRecordLimit(0))
	defer s.Close()

	caPath, credPath, cleanup, err := writeSandboxFiles(ctx, s, info, f.caFile)
	defer cleanup()
	if err != nil {
		return err
	}
	out := sandboxJSON{URL: s.URL(), Login: s.URL(), Graph: s.URL() + "/graph", PartnerCenter: s.URL() + "/partner", Exchange: s.URL() + "/exchange",
		CAFile: caPath, CredentialsFile: credPath, PartnerTenantID: info.Partner.TenantID, PartnerDomain: info.Partner.Domain,
		AdminUPN: info.Partner.AdminUPN, BootstrapClientID: info.BootstrapClientID, ApplicationID: info.App.AppID,
		ClientSecret: info.App.Secret, RefreshToken: info.RefreshToken}
	for _, c := range info.Customers {
		out.Customers = append(out.Customers, sandboxCustomerJS{ID: c.ID, Name: c.Name, Domain: c.Domain, Problem: string(c.Problem)})
	}
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
	fmt.Fprintf(tw, "  TLS certificate\t%s\n", out.CAFile)
	tw.Flush()

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
	fmt.Fprintf(tw, "  customers\t%d\t%d with a problem on purpose:\n", len(info.Customers), problems)
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
	fmt.Fprintf(w, "  curl --cacert %s %s/common/v2.0/.well-known/openid-configuration\n", out.CAFile, out.URL)
}
