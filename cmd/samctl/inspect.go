package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

func (a *app) inspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect",
		Short: "Show the SAM app's secrets, certificates, redirect URIs and consented permissions",
		Long: `inspect reads the SAM app in the partner tenant and shows what the portal
would: its client secrets and certificates and when they expire (and which
one the credentials use), its redirect URIs, and each permission it asks
for with whether admin consent was given.

The exit code is 1 when a permission lacks consent, the app has no service
principal, or the stored secret or certificate is missing from the app or
has expired.`,
		Example: `  samctl inspect
  samctl inspect --json | jq '.permissions[] | select(.granted | not)'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return a.inspect(c.Context()) },
	}
}

// inspectJSON is an inspection in --json output.
type inspectJSON struct {
	OK                  bool             `json:"ok"`
	ApplicationID       string           `json:"applicationId"`
	DisplayName         string           `json:"displayName"`
	HasServicePrincipal bool             `json:"hasServicePrincipal"`
	Secrets             []secretJSON     `json:"secrets"`
	Certificates        []certJSON       `json:"certificates"`
	RedirectURIs        []redirectJSON   `json:"redirectUris"`
	Permissions         []permissionJSON `json:"permissions"`
	Problems            []string         `json:"problems"`
}

type secretJSON struct {
	KeyID       string `json:"keyId"`
	Hint        string `json:"hint"`
	DisplayName string `json:"displayName"`
	credentialJSON
}

type certJSON struct {
	KeyID       string `json:"keyId"`
	DisplayName string `json:"displayName"`
	// Thumbprint is the SHA-1 thumbprint, as the Entra admin center shows it.
	Thumbprint string `json:"thumbprint"`
	// Subject is the stored certificate's subject; Graph does not return
	// the others'.
	Subject string `json:"subject,omitempty"`
	credentialJSON
}

// credentialJSON is what --json says alike of a client secret and of a
// certificate, after what tells them apart.
type credentialJSON struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	ExpiresSoon bool      `json:"expiresSoon"`
	Expired     bool      `json:"expired"`
	InUse       bool      `json:"inUse"`
	// Leftover marks a secret or certificate samkit added that the
	// credentials do not use: an interrupted rotation's, which the next
	// one removes.
	Leftover bool `json:"leftover"`
}

// mark is the mark of the credential's line in the text, and what the
// line says of its use; inUse says it when the credentials use it.
func (c credentialJSON) mark(inUse string) (mark, use string) {
	mark = markOK
	if c.Expired || c.ExpiresSoon {
		mark = markFail
	}
	switch {
	case c.InUse:
		use = inUse
	case c.Leftover:
		mark, use = markFail, "leftover"
	}
	return mark, use
}

// credentialAdvice is what inspect says is wrong with one kind of
// credential, and which command mends it.
type credentialAdvice struct {
	// leftovers is formatted with their number, expiresSoon with the
	// stored one's end.
	leftovers, notOnApp, expired, expiresSoon string
}

var (
	secretAdvice = credentialAdvice{
		leftovers:   "%d client secret(s) samkit added are not in use (left by an interrupted rotation or setup): run 'samctl rotate-secret' to remove them",
		notOnApp:    "the stored client secret is not one of the app's secrets: run 'samctl rotate-secret'",
		expired:     "the stored client secret has expired: run 'samctl rotate-secret'",
		expiresSoon: "the stored client secret expires on %s: run 'samctl rotate-secret'",
	}
	certificateAdvice = credentialAdvice{
		leftovers:   "%d certificate(s) samkit added are not in use (left by an interrupted rotation): run 'samctl rotate-credentials --kind certificate' to remove them",
		notOnApp:    "the stored certificate is not one of the app's certificates: run 'samctl setup --certificate' again",
		expired:     "the stored certificate has expired: run 'samctl setup --certificate' again (an expired certificate cannot prove itself to rotate)",
		expiresSoon: "the stored certificate expires on %s: run 'samctl rotate-credentials --kind certificate'",
	}
)

// problems lists what is wrong with one kind of the app's credentials:
// leftovers of samkit's, and the stored one, which must be on the app
// (inUse; nil when none of them is the stored one, or none is stored)
// and not expiring.
func (adv credentialAdvice) problems(leftovers int, stored bool, inUse *credentialJSON) []string {
	var out []string
	if leftovers > 0 {
		out = append(out, fmt.Sprintf(adv.leftovers, leftovers))
	}
	switch {
	case stored && inUse == nil:
		out = append(out, adv.notOnApp)
	case inUse != nil && inUse.Expired:
		out = append(out, adv.expired)
	case inUse != nil && inUse.ExpiresSoon:
		out = append(out, fmt.Sprintf(adv.expiresSoon, inUse.End.Format(time.DateOnly)))
	}
	return out
}

type redirectJSON struct {
	Platform string `json:"platform"`
	URI      string `json:"uri"`
}

type permissionJSON struct {
	Resource      string `json:"resource"`
	ResourceAppID string `json:"resourceAppId"`
	ID            string `json:"id"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Granted       bool   `json:"granted"`
}

func inspectionJSON(in *sam.Inspection, secrets []secretJSON, certs []certJSON, problems []string) inspectJSON {
	out := inspectJSON{OK: len(problems) == 0, ApplicationID: in.App.AppID, DisplayName: in.App.DisplayName,
		HasServicePrincipal: in.HasServicePrincipal, Secrets: secrets, Certificates: certs, RedirectURIs: []redirectJSON{},
		Permissions: []permissionJSON{}, Problems: problems}
	for _, r := range in.RedirectURIs {
		out.RedirectURIs = append(out.RedirectURIs, redirectJSON{Platform: r.Platform, URI: r.URI})
	}
	for _, p := range in.Permissions {
		out.Permissions = append(out.Permissions, permissionJSON{Resource: p.Resource, ResourceAppID: p.ResourceAppID,
			ID: p.ID, Name: p.Name, Kind: p.Kind.String(), Granted: p.Granted})
	}
	return out
}

func (a *app) inspect(ctx context.Context) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	in, err := s.sp.Inspect(ctx)
	if err != nil {
		return err
	}
	secrets, problems := judge(in, s.creds)
	certs, certProblems := judgeCertificates(in, s.creds)
	problems = append(problems, certProblems...)
	if a.jsonOut {
		if err := a.printJSON(inspectionJSON(in, secrets, certs, problems)); err != nil {
			return err
		}
	} else {
		writeInspection(a, in, secrets, certs, problems)
	}
	if len(problems) > 0 {
		return silentFailure{code: exitFailed}
	}
	return nil
}

// judge marks the secret the credentials use and lists what is wrong.
func judge(in *sam.Inspection, creds token.Credentials) ([]secretJSON, []string) {
	leftovers := in.Leftovers(creds.ClientSecret)
	secrets := make([]secretJSON, len(in.Secrets))
	var inUse *credentialJSON
	for i, sec := range in.Secrets {
		secrets[i] = secretJSON{KeyID: sec.KeyID, Hint: sec.Hint, DisplayName: sec.DisplayName, credentialJSON: credentialJSON{
			Start: sec.Start, End: sec.End, ExpiresSoon: sec.ExpiresSoon, Expired: sec.Expired,
			// Graph shows a secret's first characters: enough to tell which
			// one the credentials hold without printing any of it.
			InUse:    !creds.ClientSecret.IsZero() && sec.Hint != "" && strings.HasPrefix(creds.ClientSecret.Reveal(), sec.Hint),
			Leftover: slices.ContainsFunc(leftovers, func(l sam.SecretInfo) bool { return l.KeyID == sec.KeyID })}}
		if secrets[i].InUse {
			inUse = &secrets[i].credentialJSON
		}
	}
	problems := secretAdvice.problems(len(leftovers), !creds.ClientSecret.IsZero(), inUse)
	if !in.HasServicePrincipal {
		problems = append(problems, "the app has no service principal in the partner tenant, so nothing is consented: run 'samctl setup' again")
	}
	missing := 0
	for _, p := range in.Permissions {
		if !p.Granted {
			missing++
		}
	}
	if missing > 0 {
		problems = append(problems, fmt.Sprintf("%d permissions lack admin consent: run 'samctl setup' again to grant them", missing))
	}
	if problems == nil {
		problems = []string{}
	}
	return secrets, problems
}

// judgeCertificates marks the certificate the credentials use and lists
// what is wrong with the certificates.
func judgeCertificates(in *sam.Inspection, creds token.Credentials) ([]certJSON, []string) {
	stored := in.StoredCertificate(creds.Certificate)
	leftovers := in.CertificateLeftovers(creds.Certificate)
	certs := make([]certJSON, len(in.Certificates))
	var inUse *credentialJSON
	for i, c := range in.Certificates {
		certs[i] = certJSON{KeyID: c.KeyID, DisplayName: c.DisplayName, Thumbprint: c.Thumbprint, credentialJSON: credentialJSON{
			Start: c.Start, End: c.End, ExpiresSoon: c.ExpiresSoon, Expired: c.Expired,
			InUse:    stored != "" && strings.EqualFold(c.KeyID, stored),
			Leftover: slices.ContainsFunc(leftovers, func(l sam.CertificateInfo) bool { return l.KeyID == c.KeyID })}}
		if certs[i].InUse {
			certs[i].Subject, inUse = creds.Certificate.Chain[0].Subject.String(), &certs[i].credentialJSON
		}
	}
	// With a secret beside it, the certificate is not what the
	// credentials sign in with.
	return certs, certificateAdvice.problems(len(leftovers), creds.Certificate != nil && creds.ClientSecret.IsZero(), inUse)
}

func writeInspection(a *app, in *sam.Inspection, secrets []secretJSON, certs []certJSON, problems []string) {
	w := a.stdout
	printf(w, "App %q (application id %s)\n", in.App.DisplayName, in.App.AppID)
	sp := markOK + " has a service principal in the partner tenant"
	if !in.HasServicePrincipal {
		sp = markFail + " has no service principal in the partner tenant"
	}
	printf(w, "  %s\n\nClient secrets:\n", sp)
	tw := table(w)
	now := time.Now()
	for _, s := range secrets {
		mark, use := s.mark("in use")
		printf(tw, "  %s\t%s\t%s…\texpires %s (%s)\t%s\n", mark, orDash(s.DisplayName), s.Hint, s.End.Format(time.DateOnly), until(now, s.End), use)
	}
	if len(secrets) == 0 {
		printLine(tw, "  (none)")
	}
	tw.Flush()
	printf(w, "\nCertificates:\n")
	tw = table(w)
	for _, c := range certs {
		mark, use := c.mark("in use (" + c.Subject + ")")
		printf(tw, "  %s\t%s\t%s\tfrom %s\texpires %s (%s)\t%s\n", mark, orDash(c.DisplayName), c.Thumbprint,
			c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly), until(now, c.End), use)
	}
	if len(certs) == 0 {
		printLine(tw, "  (none)")
	}
	tw.Flush()
	printf(w, "\nRedirect URIs:\n")
	tw = table(w)
	for _, r := range in.RedirectURIs {
		printf(tw, "  %s\t%s\n", r.Platform, r.URI)
	}
	tw.Flush()
	printf(w, "\nPermissions (admin consent):\n")
	tw = table(w)
	for _, p := range in.Permissions {
		mark := markOK
		if !p.Granted {
			mark = markFail
		}
		printf(tw, "  %s\t%s\t%s\t%s\n", mark, p.Resource, p.Name, p.Kind)
	}
	tw.Flush()
	printLine(w)
	if len(problems) == 0 {
		printLine(w, "No problems found.")
	}
	for _, p := range problems {
		printf(w, "%s %s\n", markFail, p)
	}
}

// until says how far t is from now, in days.
func until(now, t time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return fmt.Sprintf("expired %d days ago", int(-d.Hours()/24))
	}
	return fmt.Sprintf("in %d days", int(d.Hours()/24))
}
