package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

// exitSoon is doctor's exit code when nothing is broken yet but something
// breaks within --within days: a cron job can tell it from a failure.
const exitSoon = 3

// markWarn marks a finding that is not broken yet.
const markWarn = "!"

// doctorFlags are the flags of samctl doctor.
type doctorFlags struct {
	filter      tenantFilter
	within      int
	manifest    string
	concurrency int
	html        string
}

func (a *app) doctorCommand() *cobra.Command {
	var f doctorFlags
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Forecast everything that breaks the SAM setup, and when",
		Long: `doctor reads everything that makes a SAM setup break and says when it
breaks and what fixes it: the refresh token (its 90-day idle expiry and
whether its sign-in carried MFA), the app's client secrets and
certificates (and leftovers of interrupted rotations), the app's
permissions against the manifest and admin consent, its redirect URIs,
and for each customer tenant the access check, GDAP relationships ending
(and whether Global Administrator keeps them from auto-extending) and
consent drift: delegated grants and application permissions the tenant
lacks.

Exit codes, for cron and monitoring:
  0  healthy: nothing broken, nothing breaks within --within days
  1  something is broken now
  3  nothing is broken, but something breaks within --within days`,
		Example: `  samctl doctor
  samctl doctor --within 60 --tenant contoso.onmicrosoft.com
  samctl doctor --html /var/www/samkit/doctor.html
  samctl doctor -o json | jq '.findings[] | select(.severity == "broken")'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if f.within <= 0 {
				return usageError{err: fmt.Errorf("--within %d: give a number of days above 0", f.within), cmd: c.CommandPath()}
			}
			if f.concurrency < 0 {
				return usageError{err: fmt.Errorf("--concurrency %d is negative", f.concurrency), cmd: c.CommandPath()}
			}
			list, err := f.filter.options(c)
			if err != nil {
				return err
			}
			return a.doctor(c.Context(), f, list)
		},
	}
	f.filter.flags(c)
	c.Flags().IntVar(&f.within, "within", 30, "days ahead to look for what expires")
	c.Flags().StringVar(&f.manifest, "manifest", "", "permissions beyond samctl's defaults (JSON, as an app's requiredResourceAccess)")
	c.Flags().IntVar(&f.concurrency, "concurrency", sam.DefaultConcurrency, "tenants read at once")
	c.Flags().StringVar(&f.html, "html", "", "also write the findings and a timeline of what expires to this file, as one self-contained HTML page")
	return c
}

// doctorJSON is doctor's -o json output.
type doctorJSON struct {
	OK       bool          `json:"ok"`
	Checked  time.Time     `json:"checked"`
	Within   int           `json:"withinDays"`
	Tenants  int           `json:"tenants"`
	Findings []sam.Finding `json:"findings"`
	Warnings []string      `json:"warnings"`
}

func (a *app) doctor(ctx context.Context, f doctorFlags, list sam.ListOptions) error {
	m, err := loadManifest(f.manifest)
	if err != nil {
		return err
	}
	// Read when the refresh token was obtained before the session's first
	// token request rotates it.
	var obtained time.Time
	if store, _, _, err := a.openStore(ctx); err == nil {
		obtained, _ = store.RefreshTokenObtainedAt(ctx)
	}
	s, tenants, warnings, err := a.sessionTenants(ctx, list, nil, sam.WithConcurrency(f.concurrency))
	if err != nil && (s == nil || !sam.StopsRun(sam.CheckDelegatedGraph, err)) {
		return err
	}
	// Refused credentials list no tenant: the doctor reports them as its
	// finding, in the output a cron job reads.
	rep, err := s.sp.Doctor(ctx, tenants, sam.DoctorOptions{
		Manifest: m, RefreshTokenObtainedAt: obtained,
		StoredSecret: s.creds.ClientSecret, StoredCertificate: s.creds.Certificate, Within: time.Duration(f.within) * 24 * time.Hour,
	})
	if err != nil {
		return err
	}
	if f.html != "" {
		if err := saveDoctorHTML(f.html, rep); err != nil {
			return err
		}
	}
	if a.jsonOut {
		out := doctorJSON{OK: len(rep.Findings) == 0, Checked: rep.Checked, Within: f.within, Tenants: rep.Tenants,
			Findings: rep.Findings, Warnings: warnings}
		if out.Findings == nil {
			out.Findings = []sam.Finding{}
		}
		if out.Warnings == nil {
			out.Warnings = []string{}
		}
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		writeFindings(a.stdout, rep)
	}
	return doctorExit(rep)
}

// doctorExit turns the report into doctor's exit code.
func doctorExit(rep *sam.DoctorReport) error {
	switch {
	case rep.Broken():
		return silentFailure{code: exitFailed}
	case len(rep.Findings) > 0:
		return silentFailure{code: exitSoon}
	}
	return nil
}

// writeFindings prints the findings in 80 columns: a line with the
// severity, when, and where, then what and the fix, wrapped and indented.
func writeFindings(w io.Writer, rep *sam.DoctorReport) {
	days := int(rep.Within.Hours() / 24)
	if len(rep.Findings) == 0 {
		printf(w, "%s Healthy: nothing is broken and nothing breaks within %d days (%s).\n", markOK, days, plural(rep.Tenants, "tenant", "tenants"))
		return
	}
	broken := 0
	for _, f := range rep.Findings {
		mark, when := markFail, "now"
		if f.Severity == sam.SeverityBroken {
			broken++
		} else {
			mark = markWarn
		}
		if !f.When.IsZero() {
			when = f.When.Format(time.DateOnly)
			if f.When.After(rep.Checked) {
				when += " (" + until(rep.Checked, f.When) + ")"
			}
		}
		printf(w, "%s %-7s %s  %s\n", mark, f.Severity, when, f.Where)
		for _, l := range wrap(safe(f.What), 74) {
			printf(w, "    %s\n", l)
		}
		for i, l := range wrap(safe(f.Fix), 69) {
			lead := "    fix: "
			if i > 0 {
				lead = "         "
			}
			printf(w, "%s%s\n", lead, l)
		}
	}
	printf(w, "\n%d broken now, %d within %d days, over %s.\n", broken, len(rep.Findings)-broken, days, plural(rep.Tenants, "tenant", "tenants"))
}
