package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

func (a *app) rotateCommand() *cobra.Command {
	var (
		browser  bool
		clientID string
		lifetime time.Duration
	)
	c := &cobra.Command{
		Use:   "rotate-secret",
		Short: "Replace the SAM app's client secret",
		Long: `rotate-secret adds a new client secret to the SAM app, checks that it works,
saves it to the credentials file and only then removes the old one: the
file never holds a secret that does not work. A rotation that was
interrupted is finished by the next: secrets samkit added (named
"samkit-managed …") that the file does not hold are removed once the
stored one is checked to work; secrets added by hand are never touched. An admin of the partner
tenant signs in first (device code, or --browser), since changing
the app takes more than the SAM app's own rights.`,
		Example: `  samctl rotate-secret
  samctl rotate-secret --lifetime 2160h   # 90 days`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			return a.rotate(c.Context(), browser, clientID, lifetime)
		},
	}
	c.Flags().BoolVar(&browser, "browser", false, "the admin signs in in a browser on this machine instead of with a device code")
	c.Flags().StringVar(&clientID, "client-id", "", "public client the admin signs in with (default: Microsoft Graph Command Line Tools)")
	c.Flags().DurationVar(&lifetime, "lifetime", sam.DefaultSecretLifetime, "how long the new secret is valid (at most two years)")
	return c
}

// rotateJSON is a rotation in --json output.
type rotateJSON struct {
	OK           bool      `json:"ok"`
	KeyID        string    `json:"keyId"`
	Hint         string    `json:"hint"`
	End          time.Time `json:"end"`
	RemovedKeyID string    `json:"removedKeyId,omitempty"`
	// RemovedLeftovers are secrets an interrupted rotation had left.
	RemovedLeftovers []string `json:"removedLeftovers,omitempty"`
	Credentials      string   `json:"credentials"`
	Warning          string   `json:"warning,omitempty"`
}

func (a *app) rotate(ctx context.Context, browser bool, clientID string, lifetime time.Duration) error {
	store, where, creds, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	fs, ok := store.(*sam.FileStore)
	if !ok {
		return withFix(errors.New("rotate-secret saves the new secret to the credentials file, and these credentials come from environment variables"),
			"run it with --credentials PATH, or add a secret in the portal and update SAMKIT_CLIENT_SECRET")
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
	sp, err := sam.Open(ctx, fs, a.partnerOptions(c, hc)...)
	if err != nil {
		return withFix(fmt.Errorf("the credentials in %s: %w", where, err), "run 'samctl setup' again to write complete credentials")
	}
	opts := sam.RotateOptions{BootstrapClientID: clientID, Progress: steps.print, Lifetime: lifetime}
	if browser {
		opts.AdminSignIn = sam.BrowserSignIn{}
	}
	res, err := sp.RotateSecret(ctx, opts)
	kept := errors.Is(err, sam.ErrOldSecretKept)
	if err != nil && !kept {
		return err
	}
	if a.jsonOut {
		out := rotateJSON{OK: !kept, KeyID: res.KeyID, Hint: res.Hint, End: res.End, RemovedKeyID: res.RemovedKeyID, RemovedLeftovers: res.RemovedLeftovers, Credentials: where}
		if kept {
			out.Warning = oneLine(err)
		}
		if jerr := a.printJSON(out); jerr != nil {
			return jerr
		}
	} else {
		for _, id := range res.RemovedLeftovers {
			printf(a.stdout, "%s client secret (key id %s) left by an interrupted rotation removed from the app\n", markOK, id)
		}
		printf(a.stdout, "%s new client secret %s… (key id %s), valid until %s, saved to %s\n",
			markOK, res.Hint, res.KeyID, res.End.Format(time.DateOnly), where)
		if res.RemovedKeyID != "" {
			printf(a.stdout, "%s old client secret (key id %s) removed from the app\n", markOK, res.RemovedKeyID)
		} else if !kept {
			printf(a.stdout, "%s the old client secret could not be told apart from the app's others; they are all left on the app (see samctl inspect)\n", markSkip)
		}
	}
	if kept {
		return withFix(err, "the new secret is saved and works; remove the old one from the app in the Entra portal (App registrations > Certificates & secrets)")
	}
	return nil
}
