package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

// rotateFlags are the flags of rotate-credentials and rotate-secret.
type rotateFlags struct {
	kind        string
	unattended  bool
	browser     bool
	clientID    string
	lifetime    time.Duration
	certificate certificateFlags
}

func (f *rotateFlags) register(c *cobra.Command, withKind bool) {
	if withKind {
		c.Flags().StringVar(&f.kind, "kind", "", "what to replace: secret or certificate (default: the certificate of a certificate-only app, else the secret)")
		f.certificate.register(c)
	}
	c.Flags().BoolVar(&f.unattended, "unattended", false, "change the app through the stored refresh token, with no sign-in (the app needs Application.ReadWrite.All, delegated: setup --unattended-rotation)")
	c.Flags().BoolVar(&f.browser, "browser", false, "the admin signs in in a browser on this machine instead of with a device code")
	c.Flags().StringVar(&f.clientID, "client-id", "", "public client the admin signs in with (default: Microsoft Graph Command Line Tools)")
	c.Flags().DurationVar(&f.lifetime, "lifetime", sam.DefaultSecretLifetime, "how long a new secret is valid (at most two years)")
}

const rotateLong = `adds a new credential to the SAM app, saves it to the credential store,
checks that it works (waiting while Entra replicates it, up to two
minutes) and only then removes the old one: the store never holds a
credential that does not work. A rotation that was interrupted is
finished by the next: credentials samkit added (named "samkit-managed …")
that the store does not hold are removed once the stored one is checked
to work; credentials added by hand are never touched.

Changing the app takes more than the SAM app's usual rights. Either an
admin of the partner tenant signs in first (device code, or --browser), or,
with --unattended, the stored refresh token does it, acting as the admin
who consented: for that the app needs Microsoft Graph's delegated
Application.ReadWrite.All, which 'samctl setup --unattended-rotation'
adds. Unattended rotation suits a cron job or a systemd timer.`

func (a *app) rotateCredentialsCommand() *cobra.Command {
	var f rotateFlags
	c := &cobra.Command{
		Use:   "rotate-credentials",
		Short: "Replace the SAM app's client secret or certificate",
		Long: "rotate-credentials " + rotateLong + `

A certificate is made as setup --certificate makes it; the new one is
added with Graph's addKey, proven with the current certificate, and the
old one removed with removeKey. 'samctl rotate-secret' is
rotate-credentials --kind secret.`,
		Example: `  samctl rotate-credentials
  samctl rotate-credentials --kind certificate --cert-validity 180d
  samctl rotate-credentials --unattended --json     # from cron or a systemd timer`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if f.kind != "" && f.kind != string(sam.CredentialSecret) && f.kind != string(sam.CredentialCertificate) {
				return usageError{err: fmt.Errorf("--kind %q: give secret or certificate", f.kind), cmd: c.CommandPath()}
			}
			return a.rotate(c.Context(), f)
		},
	}
	f.register(c, true)
	return c
}

func (a *app) rotateCommand() *cobra.Command {
	f := rotateFlags{kind: string(sam.CredentialSecret)}
	c := &cobra.Command{
		Use:   "rotate-secret",
		Short: "Replace the SAM app's client secret (rotate-credentials --kind secret)",
		Long:  "rotate-secret, which is rotate-credentials --kind secret, " + rotateLong,
		Example: `  samctl rotate-secret
  samctl rotate-secret --lifetime 2160h   # 90 days`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			return a.rotate(c.Context(), f)
		},
	}
	f.register(c, false)
	return c
}

// rotateJSON is a rotation in --json output.
type rotateJSON struct {
	OK         bool      `json:"ok"`
	Kind       string    `json:"kind"`
	KeyID      string    `json:"keyId"`
	Hint       string    `json:"hint,omitempty"`
	Thumbprint string    `json:"thumbprint,omitempty"`
	End        time.Time `json:"end"`
	// RemovedKeyID is the credential the new one replaced.
	RemovedKeyID string `json:"removedKeyId,omitempty"`
	// RemovedLeftovers are credentials an interrupted rotation had left.
	RemovedLeftovers []string `json:"removedLeftovers,omitempty"`
	Credentials      string   `json:"credentials"`
	Warning          string   `json:"warning,omitempty"`
}

func (a *app) rotate(ctx context.Context, f rotateFlags) error {
	store, where, creds, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	if _, env := store.(*sam.EnvStore); env {
		return withFix(errors.New("a rotation saves the new credential to the credential store, and these credentials come from environment variables"),
			"run it with --credentials PATH or --store keyvault://VAULT, or add a credential in the portal and update the SAMKIT_ variables")
	}
	c, err := a.cloudFor(ctx, store)
	if err != nil {
		return err
	}
	hc, err := a.httpClient()
	if err != nil {
		return err
	}
	hc.Transport = a.watch(hc.Transport)
	a.cloud, a.partnerTenant = c, creds.TenantID
	steps := a.stepPrinter()
	steps.simulated = a.sandboxURL != ""
	sp, err := sam.Open(ctx, store, a.partnerOptions(c, hc)...)
	if err != nil {
		return withFix(fmt.Errorf("the credentials in %s: %w", where, err), "run 'samctl setup' again to write complete credentials")
	}
	opts := sam.RotateOptions{Kind: sam.CredentialKind(f.kind), Unattended: f.unattended, BootstrapClientID: f.clientID,
		Progress: steps.print, Lifetime: f.lifetime, Certificate: f.certificate.options()}
	if f.browser {
		opts.AdminSignIn = sam.BrowserSignIn{}
	}
	res, err := sp.RotateCredentials(ctx, opts)
	if errors.Is(err, sam.ErrRotationPermission) {
		return withFix(errors.New("unattended rotation needs Microsoft Graph's delegated Application.ReadWrite.All, which the SAM app lacks"),
			"run 'samctl setup --unattended-rotation' (the admin consents again), or rotate without --unattended, signing in as an admin")
	}
	kept := errors.Is(err, sam.ErrOldSecretKept)
	if err != nil && !kept {
		return err
	}
	what := "client secret"
	if res.Kind == sam.CredentialCertificate {
		what = "certificate"
	}
	if a.jsonOut {
		out := rotateJSON{OK: !kept, Kind: string(res.Kind), KeyID: res.KeyID, Hint: res.Hint, Thumbprint: res.Thumbprint, End: res.End,
			RemovedKeyID: res.RemovedKeyID, RemovedLeftovers: res.RemovedLeftovers, Credentials: where}
		if kept {
			out.Warning = oneLine(err)
		}
		if jerr := a.printJSON(out); jerr != nil {
			return jerr
		}
	} else {
		for _, id := range res.RemovedLeftovers {
			printf(a.stdout, "%s %s (key id %s) left by an interrupted rotation removed from the app\n", markOK, what, id)
		}
		name := res.Hint + "…"
		if res.Kind == sam.CredentialCertificate {
			name = "with thumbprint " + res.Thumbprint
		}
		printf(a.stdout, "%s new %s %s (key id %s), valid until %s, saved to %s\n",
			markOK, what, name, res.KeyID, res.End.Format(time.DateOnly), where)
		if res.RemovedKeyID != "" {
			printf(a.stdout, "%s old %s (key id %s) removed from the app\n", markOK, what, res.RemovedKeyID)
		} else if !kept {
			printf(a.stdout, "%s the old %s could not be told apart from the app's others; they are all left on the app (see samctl inspect)\n", markSkip, what)
		}
	}
	if kept {
		return withFix(err, fmt.Sprintf("the new %s is saved and works; remove the old one from the app in the Entra portal (App registrations > Certificates & secrets)", what))
	}
	return nil
}
