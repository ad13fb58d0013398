package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

func (a *app) keepaliveCommand() *cobra.Command {
	var within int
	c := &cobra.Command{
		Use:   "keepalive",
		Short: "Redeem the refresh token once so it rotates and is saved; warn of what expires",
		Long: `keepalive, for a cron job or a systemd timer, redeems the SAM refresh token
once, so that it rotates and the new one is saved to the credentials file:
a refresh token unused for 90 days is refused, and the SAM app with it.
It then warns when the client secret, a certificate or a GDAP relationship
expires within --within days (one Graph read of the relationships, no
request per tenant; "samctl doctor" looks at everything).

Exit codes are doctor's: 0 healthy, 1 something is broken now (the refresh
token included), 3 something breaks within --within days.`,
		Example: `  samctl keepalive
  samctl keepalive --within 14 --credentials /etc/samkit/credentials.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if within <= 0 {
				return usageError{err: fmt.Errorf("--within %d: give a number of days above 0", within), cmd: c.CommandPath()}
			}
			return a.keepalive(c.Context(), time.Duration(within)*24*time.Hour)
		},
	}
	c.Flags().IntVar(&within, "within", 30, "days ahead to warn of what expires")
	return c
}

// keepaliveJSON is keepalive's -o json output.
type keepaliveJSON struct {
	OK bool `json:"ok"`
	// Saved says whether the rotated refresh token went to a file; not
	// with credentials in environment variables.
	Saved      bool          `json:"saved"`
	ObtainedAt time.Time     `json:"obtainedAt,omitzero"`
	IdleExpiry time.Time     `json:"idleExpiry,omitzero"`
	Findings   []sam.Finding `json:"findings"`
}

func (a *app) keepalive(ctx context.Context, within time.Duration) error {
	store, _, _, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	_, inEnv := store.(*sam.EnvStore)
	saved := !inEnv
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	// A fresh Provider has no access token: this redeems the refresh
	// token, and the FileStore keeps the one that replaces it.
	if _, err := s.p.Token(ctx, s.creds.TenantID, s.cloud.Graph.Scope()); err != nil {
		return err
	}
	out := keepaliveJSON{Saved: saved, Findings: []sam.Finding{}}
	if saved {
		if out.ObtainedAt, err = store.RefreshTokenObtainedAt(ctx); err != nil {
			return err
		}
		if !out.ObtainedAt.IsZero() {
			out.IdleExpiry = out.ObtainedAt.Add(sam.RefreshTokenIdleLifetime)
		}
	}
	tenants, _, err := s.listTenants(ctx, sam.ListOptions{GDAP: true})
	if err != nil {
		return err
	}
	rep, err := s.sp.Doctor(ctx, tenants, sam.DoctorOptions{
		StoredSecret: s.creds.ClientSecret, StoredCertificate: s.creds.Certificate, Within: within,
		RefreshTokenObtainedAt: out.ObtainedAt, RelationshipsOnly: true,
	})
	if err != nil {
		return err
	}
	out.Findings = append(out.Findings, rep.Findings...)
	out.OK = len(out.Findings) == 0
	if a.jsonOut {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		switch {
		case !saved:
			printf(a.stdout, "%s The refresh token works; the credentials are in environment variables, so its rotation was not saved.\n", markWarn)
		case out.IdleExpiry.IsZero():
			printf(a.stdout, "%s The refresh token works and was saved.\n", markOK)
		default:
			printf(a.stdout, "%s The refresh token works and was saved; unused, it would expire on %s.\n", markOK, out.IdleExpiry.Format(time.DateOnly))
		}
		if len(rep.Findings) > 0 {
			printLine(a.stdout)
			writeFindings(a.stdout, rep)
		}
	}
	return doctorExit(rep)
}
