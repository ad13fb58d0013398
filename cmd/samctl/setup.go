package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/sam"
)

// sandboxConsentTimeout bounds the consent sign-in against a sandbox,
// whose simulated admin answers at once: a failure shows quickly.
const sandboxConsentTimeout = 30 * time.Second

type setupFlags struct {
	name, tenant, manifest, clientID  string
	browser, headless, exchange, gdap bool
	// certificate makes the app certificate-only.
	certificate        bool
	cert               certificateFlags
	unattendedRotation bool
}

func (a *app) setupCommand() *cobra.Command {
	var f setupFlags
	c := &cobra.Command{
		Use:   "setup",
		Short: "Create the SAM app, consent it and save its credentials",
		Long: `setup does what the SecureAppModel PowerShell script did, in one run:

  1. a Global Administrator of the partner tenant signs in (device code, or
     --browser), with MFA;
  2. samctl checks the admin (Global Administrator, AdminAgents, MFA);
  3. it creates the SAM app (or updates the one with the same name), its
     service principals, a client secret and admin consent;
  4. the admin signs in once more, through the new app, in a browser (or,
     with --headless, on any device, pasting back the address it ends at):
     this yields the SAM refresh token;
  5. the refresh token is checked against Graph and Partner Center, and the
     credentials are saved to the credentials file (readable only by you).

With --certificate the app gets no client secret: samctl makes a
self-signed certificate (RSA, SHA-256; --key-size, --cert-validity),
registers it on the app, and keeps it with its private key in the
credential store: a PEM file beside the credentials file (mode 0600), or
a secret in Key Vault (--store keyvault://VAULT).

If a step fails, everything this run created is removed again and samctl
says what to fix. Running setup again is safe: it reuses the app.

--gdap also asks for what managing GDAP needs in the partner tenant
(DelegatedAdminRelationship.ReadWrite.All, Group.ReadWrite.All), for
'samctl onboard', 'offboard' and 'gdap invite|assign|extend|terminate'. They
are left out by default: a stolen refresh token holding them could end every
customer relationship.

With --sandbox URL, setup runs against a 'samctl sandbox', whose simulated
admin signs in and consents at once.`,
		Example: `  samctl setup
  samctl setup --display-name "Contoso SAM" --tenant contoso.onmicrosoft.com
  samctl setup --headless                 # on a server without a browser
  samctl setup --certificate --cert-validity 365d --key-size 3072
  samctl setup --certificate --unattended-rotation --store keyvault://contoso-sam
  samctl setup --sandbox https://127.0.0.1:8443 --credentials ./sandbox.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if !f.certificate && (c.Flags().Changed("cert-validity") || c.Flags().Changed("key-size")) {
				return usageError{err: errors.New("--cert-validity and --key-size shape the certificate of --certificate, which was not given"), cmd: c.CommandPath()}
			}
			if f.browser && a.sandboxURL != "" {
				return usageError{err: errors.New("--browser cannot sign in to a sandbox: its admin answers the device code by itself"), cmd: c.CommandPath()}
			}
			if !c.Flags().Changed("display-name") && !a.jsonOut && isTerminal(a.stdin) && isTerminal(a.stdout) {
				f.name = a.prompt(fmt.Sprintf("Display name of the SAM app [%s]: ", sam.DefaultDisplayName), sam.DefaultDisplayName)
			}
			return a.setup(c.Context(), f)
		},
	}
	c.Flags().StringVar(&f.name, "display-name", sam.DefaultDisplayName, "display name of the SAM app (an existing app with this name is updated)")
	c.Flags().StringVar(&f.tenant, "tenant", "", "the partner tenant (id or domain); default: the admin's home tenant")
	c.Flags().BoolVar(&f.browser, "browser", false, "the admin signs in in a browser on this machine instead of with a device code")
	c.Flags().BoolVar(&f.headless, "headless", false, "consent sign-in without a local browser: open the printed address anywhere and paste back where it ends")
	c.Flags().BoolVar(&f.exchange, "legacy-exchange", false, "also get a legacy Exchange Online PowerShell refresh token (for old scripts)")
	c.Flags().StringVar(&f.manifest, "manifest", "", "permissions beyond samctl's defaults (JSON, as an app's requiredResourceAccess)")
	c.Flags().BoolVar(&f.gdap, "gdap", false, "also ask for the permissions to manage GDAP relationships (onboard, offboard)")
	c.Flags().StringVar(&f.clientID, "client-id", "", "public client the admin signs in with (default: Microsoft Graph Command Line Tools)")
	c.Flags().BoolVar(&f.certificate, "certificate", false, "certificate-only app: a self-signed certificate, saved with its key in the credential store, instead of a client secret")
	f.cert.register(c)
	c.Flags().BoolVar(&f.unattendedRotation, "unattended-rotation", false, "also grant the app Application.ReadWrite.All (delegated), so that 'rotate-credentials --unattended' needs no sign-in")
	return c
}

// prompt asks a question on the terminal and returns the answer, or def
// for an empty one.
func (a *app) prompt(question, def string) string {
	fmt.Fprint(a.stdout, question)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	if line = strings.TrimSpace(line); line != "" {
		return line
	}
	return def
}

// setupJSON is a setup run in --json output.
type setupJSON struct {
	OK            bool   `json:"ok"`
	TenantID      string `json:"tenantId"`
	ApplicationID string `json:"applicationId"`
	DisplayName   string `json:"displayName"`
	Created       bool   `json:"created"`
	Credentials   string `json:"credentials"`
	Cloud         string `json:"cloud"`
	// Certificate is the SHA-256 thumbprint of a certificate-only app's
	// certificate.
	Certificate string     `json:"certificateThumbprint,omitempty"`
	Warnings    []string   `json:"warnings"`
	Steps       []stepJSON `json:"steps"`
}

type stepJSON struct {
	Step    sam.Step       `json:"step"`
	Status  sam.StepStatus `json:"status"`
	Message string         `json:"message,omitempty"`
	Error   string         `json:"error,omitempty"`
}

func (a *app) setup(ctx context.Context, f setupFlags) error {
	c := cloud.Public
	var err error
	switch {
	case a.sandboxURL != "":
		c, err = sandboxCloud(a.sandboxURL)
	case a.cloudName != "":
		c, err = cloud.ByName(a.cloudName)
	case a.custom != nil:
		c = *a.custom
	}
	if err != nil {
		return err
	}
	hc, err := a.httpClient()
	if err != nil {
		return err
	}
	hc.Transport = a.watch(hc.Transport)
	a.cloud = c
	path, err := a.credentialsPath()
	if err != nil {
		return err
	}
	m, err := loadManifest(f.manifest)
	if err != nil {
		return err
	}
	if f.gdap {
		m = m.Merge(sam.GDAPManifest())
	}
	if f.unattendedRotation {
		m = sam.UnattendedRotationManifest(m)
	}
	store, where, err := a.setupStore(path, c)
	if err != nil {
		return err
	}
	opts := sam.SetupOptions{
		Tenant: f.tenant, DisplayName: f.name, Manifest: m, BootstrapClientID: f.clientID,
		LegacyExchange: f.exchange, Store: store, Certificate: f.certificate,
	}
	if f.certificate {
		opts.CertificateOptions = f.cert.options()
	}
	if f.browser {
		opts.AdminSignIn = sam.BrowserSignIn{}
	}
	switch {
	case a.sandboxURL != "":
		opts.Consent = sam.LoopbackConsent{OpenBrowser: simulatedAdmin(ctx, hc)}
		opts.ConsentTimeout = sandboxConsentTimeout
	case f.headless:
		opts.Consent = sam.HeadlessConsent{Out: a.stderr, In: a.stdin}
	}
	steps := a.stepPrinter()
	steps.simulated = a.sandboxURL != ""
	opts.Progress = steps.print
	if !a.jsonOut {
		printf(a.stdout, "Setting up the SAM app %q in %s\n", f.name, cloudLabel(c))
	}
	res, err := sam.Setup(ctx, opts, a.partnerOptions(c, hc)...)
	if err != nil {
		return setupFailure(err, c)
	}
	if a.jsonOut {
		w := res.Warnings
		if w == nil {
			w = []string{}
		}
		return a.printJSON(setupJSON{OK: true, TenantID: res.Credentials.TenantID, ApplicationID: res.Credentials.ApplicationID,
			DisplayName: res.App.DisplayName, Created: res.Created, Credentials: where, Cloud: c.Name, Certificate: thumbprint(res.Credentials.Certificate),
			Warnings: w, Steps: steps.steps})
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	printf(a.stdout, "\nThe SAM app %q (application id %s) was %s in tenant %s.\n", res.App.DisplayName, res.Credentials.ApplicationID, verb, res.Credentials.TenantID)
	if where == path {
		printf(a.stdout, "Credentials saved to %s (readable only by you).\n", path)
	} else {
		printf(a.stdout, "Credentials saved to %s.\n", where)
	}
	if cert := res.Credentials.Certificate; cert != nil {
		printf(a.stdout, "The app is certificate-only: certificate %s (SHA-1 thumbprint), valid until %s, kept with its private key in the credential store.\n",
			cert.SHA1Thumbprint(), cert.Chain[0].NotAfter.Format(time.DateOnly))
	}
	for _, w := range res.Warnings {
		printf(a.stdout, "Note: %s\n", w)
	}
	flags := a.sessionFlags()
	fmt.Fprintf(a.stdout, "Next: push consent to the customers, then check them:\n  samctl consent push --all%s\n  samctl check%s\n", flags, flags)
	return nil
}

// sessionFlags are the flags this run was given that say which cloud and
// credentials to use, as they must follow a command printed for pasting.
func (a *app) sessionFlags() string {
	var b strings.Builder
	for _, f := range []struct{ name, value string }{
		{"--sandbox", a.sandboxURL}, {"--sandbox-ca", a.sandboxCA}, {"--credentials", a.credentials},
	} {
		if f.value != "" {
			b.WriteString(" " + f.name + " " + shellQuote(f.value))
		}
	}
	return b.String()
}

// shellQuote puts s in single quotes, which a POSIX shell and PowerShell
// both read literally, when it holds anything but the characters of plain
// paths and URLs (a quote inside is escaped as a POSIX shell reads it).
func shellQuote(s string) string {
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// setupFailure words a failed setup in one line, saying whether the run
// left anything behind; fixFor supplies the fix.
func setupFailure(err error, c cloud.Configuration) error {
	var se *sam.SetupError
	if !errors.As(err, &se) {
		return err
	}
	// The step's cause is told as any failure is (the service's verdict,
	// or the network's), not with every layer it crossed.
	cause := problemOf(se.Err, c, 0).what
	switch {
	case se.RollbackErr != nil:
		err = toldError{fmt.Sprintf("setup failed at step %s: %s; undoing this run failed, remove by hand: %v", se.Step, cause, se.RollbackErr), err}
	case se.RolledBack:
		err = toldError{fmt.Sprintf("setup failed at step %s (nothing was left behind): %s", se.Step, cause), err}
	default:
		err = toldError{fmt.Sprintf("setup failed at step %s: %s", se.Step, cause), err}
	}
	return withFix(err, se.Fix)
}

// toldError is err told in other words.
type toldError struct {
	text string
	err  error
}

func (e toldError) Error() string { return e.text }
func (e toldError) Unwrap() error { return e.err }

func cloudLabel(c cloud.Configuration) string {
	if c.Name == sandboxCloudName {
		return "the sandbox at " + c.LoginEndpoint
	}
	return "Microsoft's " + c.Name + " cloud"
}

// stepPrinter shows Setup's progress: a line per finished step with the
// details it reported, and at once what the admin must do. With --json it
// only collects the steps, and the admin's instructions go to stderr.
type stepPrinter struct {
	a     *app
	steps []stepJSON
	// simulated shortens the instructions to the sandbox's simulated
	// admin, who follows them at once.
	simulated bool
	details   []string
}

func (a *app) stepPrinter() *stepPrinter { return &stepPrinter{a: a, steps: []stepJSON{}} }

var stepLabels = map[sam.Step]string{
	sam.StepSignIn:            "admin sign-in",
	sam.StepPreflight:         "admin checks (Global Administrator, AdminAgents, MFA)",
	sam.StepApp:               "app registration",
	sam.StepServicePrincipals: "service principals",
	sam.StepSecret:            "app credential (client secret or certificate)",
	sam.StepAdminConsent:      "admin consent",
	sam.StepConsent:           "consent sign-in through the app",
	sam.StepExchange:          "legacy Exchange refresh token",
	sam.StepVerify:            "refresh token check",
	sam.StepSave:              "credentials saved",
	sam.StepRollback:          "undoing this run's changes",
}

func (p *stepPrinter) print(e sam.StepEvent) {
	sj := stepJSON{Step: e.Step, Status: e.Status, Message: e.Message}
	if e.Err != nil {
		sj.Error = oneLine(e.Err)
	}
	p.steps = append(p.steps, sj)
	label := stepLabels[e.Step]
	if label == "" {
		label = string(e.Step)
	}
	w := p.a.stdout
	if p.a.jsonOut {
		if e.Status == sam.StepAction && !p.simulated {
			printLine(p.a.stderr, e.Message)
		}
		return
	}
	switch e.Status {
	case sam.StepAction:
		msg := e.Message
		if p.simulated {
			msg = "(simulated admin) " + firstSentence(msg)
		}
		printf(w, "  → %s\n", msg)
	case sam.StepInfo:
		p.details = append(p.details, e.Message)
	case sam.StepDone:
		printf(w, "  %s %s\n", markOK, label)
	case sam.StepFailed:
		printf(w, "  %s %s: %s\n", markFail, label, sj.Error)
	case sam.StepSkipped:
		if e.Step != sam.StepExchange && e.Step != sam.StepSave {
			printf(w, "  %s %s (skipped)\n", markSkip, label)
		}
	}
	if e.Status == sam.StepDone || e.Status == sam.StepFailed {
		for _, d := range p.details {
			printf(w, "      %s\n", d)
		}
		p.details = nil
	}
}

// simulatedAdmin is the browser of a sandbox's simulated admin: it opens
// the sign-in address, where the sandbox signs the admin in and consents
// at once, and follows the redirect to samctl's loopback listener as a
// browser would.
func simulatedAdmin(ctx context.Context, hc *http.Client) func(string) error {
	return func(u string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return httpx.RedactError(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("the sandbox's sign-in ended with %s", resp.Status)
		}
		return nil
	}
}

func readManifest(path string) (sam.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return sam.Manifest{}, fmt.Errorf("reading the manifest: %w", err)
	}
	defer f.Close()
	m, err := sam.LoadManifest(f)
	if err != nil {
		return sam.Manifest{}, withFix(fmt.Errorf("%s: %w", path, err), "give the requiredResourceAccess array of an app manifest, permissions by id or name")
	}
	return m, nil
}
