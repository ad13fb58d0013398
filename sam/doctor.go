package sam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/token"
)

// The doctor reads everything that makes a SAM setup break, and says
// when: the refresh token idling out, secrets and certificates expiring,
// admin consent missing, GDAP relationships ending, consent drifting in
// customer tenants. It runs the access check as well, so what is broken
// today shows beside what breaks next month.

// Severity grades a finding.
type Severity string

// The severities of a finding.
const (
	// SeverityBroken: it is broken now.
	SeverityBroken Severity = "broken"
	// SeverityWarning: it breaks within DoctorOptions.Within.
	SeverityWarning Severity = "warning"
)

// Where a finding is about the partner's own setup rather than a customer.
const WherePartner = "partner"

// The kinds of finding.
const (
	FindingCredentials        = "credentials"
	FindingRefreshTokenIdle   = "refresh-token-idle"
	FindingRefreshTokenMFA    = "refresh-token-mfa"
	FindingSecretExpiry       = "secret-expiry"
	FindingStoredSecret       = "stored-secret"
	FindingCertificateExpiry  = "certificate-expiry"
	FindingLeftoverSecret     = "leftover-secret"
	FindingNoServicePrincipal = "no-service-principal"
	FindingAdminConsent       = "admin-consent"
	FindingRedirectURI        = "redirect-uri"
	FindingAccess             = "access"
	FindingGDAPEnding         = "gdap-ending"
	FindingConsentDrift       = "consent-drift"
)

// RefreshTokenIdleLifetime is how long a refresh token lives unused: one
// not redeemed for 90 days is refused (AADSTS700082).
// https://learn.microsoft.com/entra/identity-platform/refresh-tokens#token-lifetime
const RefreshTokenIdleLifetime = 90 * 24 * time.Hour

// GlobalAdministratorRole is the role definition id of Global
// Administrator. A GDAP relationship that holds it cannot auto-extend.
// https://learn.microsoft.com/partner-center/customers/gdap-auto-extend
const GlobalAdministratorRole = "62e90394-69f5-4237-9190-012177145e10"

// DefaultDoctorWithin is how far ahead the doctor looks by default.
const DefaultDoctorWithin = 30 * 24 * time.Hour

// Finding is one thing that is broken, or breaks soon.
type Finding struct {
	Kind string `json:"kind"`
	// What says what breaks, for people.
	What string `json:"what"`
	// Where is WherePartner or a customer tenant id.
	Where    string   `json:"where"`
	Severity Severity `json:"severity"`
	// When is when it breaks; the zero time means now.
	When time.Time `json:"when,omitzero"`
	// Fix is the samctl command (or the step) that repairs it.
	Fix string `json:"fix"`
}

// DoctorOptions configures Partner.Doctor. The SAM app, the partner
// tenant, the concurrency and the logger are the Partner's.
type DoctorOptions struct {
	// Checks chooses the access checks run on the tenants (Partner.Check's
	// default when zero).
	Checks Checks
	// Manifest is what the app should hold; the zero Manifest means
	// DefaultManifest().
	Manifest Manifest
	// RefreshTokenObtainedAt is when the stored refresh token was obtained
	// (Store.RefreshTokenObtainedAt); zero when not known.
	RefreshTokenObtainedAt time.Time
	// StoredSecret is the client secret the credentials hold, to find it
	// among the app's; zero with a certificate.
	StoredSecret token.Secret
	// StoredCertificate is the certificate the credentials hold, to find
	// it among the app's; nil with a secret alone.
	StoredCertificate *token.Certificate
	// Within is how far ahead to look; 0 means DefaultDoctorWithin.
	Within time.Duration
	// Now gives the current time. When nil, the doctor takes it from the
	// Date header of Graph's answers in the partner tenant (the service's
	// clock, which a sandbox's moved clock moves too), or time.Now when it
	// reads nothing there.
	Now func() time.Time
	// RelationshipsOnly looks at the tenants for their GDAP relationships
	// alone: no access check and no consent read, so no request per
	// tenant. A keepalive run uses it.
	RelationshipsOnly bool
}

// DoctorReport is the doctor's findings, the most urgent first.
type DoctorReport struct {
	Checked  time.Time     `json:"checked"`
	Within   time.Duration `json:"within"`
	Tenants  int           `json:"tenants"`
	Findings []Finding     `json:"findings"`
	// Access is the access check's report.
	Access *AccessReport `json:"-"`
}

// Broken reports whether a finding is broken now.
func (r *DoctorReport) Broken() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == SeverityBroken })
}

// Doctor reads the SAM app in the partner tenant, runs the access check
// on tenants (typically from Tenants) and reads the SAM app's consent in
// each, in the worker that checked it, right after its checks (one Graph
// request per tenant beyond the check's), and returns what is broken and
// what breaks within opts.Within. An error means the partner tenant could
// not be read at all, or the options are wrong.
func (p *Partner) Doctor(ctx context.Context, tenants []Tenant, opts DoctorOptions) (*DoctorReport, error) {
	if len(opts.Manifest.Resources) == 0 {
		opts.Manifest = DefaultManifest()
	}
	if opts.Within <= 0 {
		opts.Within = DefaultDoctorWithin
	}
	d := &doctor{p: p, customers: tenants, appID: p.p.ApplicationID(), opts: opts,
		rep: &DoctorReport{Within: opts.Within, Tenants: len(tenants)}}
	err := d.partner(ctx)
	d.rep.Checked = d.now
	switch {
	case errors.Is(err, errCredentialsRefused):
		return d.rep, nil
	case err != nil:
		return nil, err
	}
	for _, t := range tenants {
		d.gdap(t)
	}
	if !opts.RelationshipsOnly {
		wait := d.coverage(ctx) // beside the access check
		err := d.tenants(ctx)
		wait()
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(d.rep.Findings, func(a, b Finding) int {
		return cmp.Or(strings.Compare(string(a.Severity), string(b.Severity)), a.When.Compare(b.When), strings.Compare(a.Where, b.Where))
	})
	return d.rep, ctx.Err()
}

// tenants runs the access check and reads the consent in each tenant.
func (d *doctor) tenants(ctx context.Context) error {
	opts := CheckOptions{Checks: d.opts.Checks}
	if d.appID != "" {
		opts.checked = d.drift
	}
	access, err := d.p.Check(ctx, d.customers, opts)
	if err != nil {
		return err
	}
	d.rep.Access = access
	for _, t := range access.Tenants {
		for _, c := range t.Checks {
			if c.Outcome == OutcomeFailed {
				d.add(Finding{Kind: FindingAccess, Where: t.Tenant.ID, Severity: SeverityBroken, What: fmt.Sprintf("%s check fails: %s", c.Check, c.Message), Fix: cmp.Or(c.Hint, "samctl check")})
			}
		}
	}
	return nil
}

// errCredentialsRefused ends a doctor run whose credentials are refused,
// with that as its finding.
var errCredentialsRefused = errors.New("sam: the credentials are refused")

type doctor struct {
	p         *Partner
	customers []Tenant
	appID     string
	opts      DoctorOptions
	// now is the service's time (see server_date.go), set by partner.
	now time.Time
	mu  sync.Mutex
	rep *DoctorReport
}

func (d *doctor) add(f Finding) {
	d.mu.Lock()
	d.rep.Findings = append(d.rep.Findings, f)
	d.mu.Unlock()
}

// dated adds f when end is within the window: broken once it has passed.
func (d *doctor) dated(f Finding, end time.Time) {
	switch {
	case end.IsZero():
		return
	case !end.After(d.now):
		f.Severity, f.When = SeverityBroken, end
	case end.Sub(d.now) <= d.opts.Within:
		f.Severity, f.When = SeverityWarning, end
	default:
		return
	}
	d.add(f)
}

// partner reads the refresh token's sign-in and the SAM app, and sets
// the doctor's now.
func (d *doctor) partner(ctx context.Context) error {
	p := d.p.p
	date := &serverDate{}
	// Until a Graph answer dates it, now is the machine's.
	d.setNow(date)
	tenant := cmp.Or(p.TenantID(), "organizations")
	src := p.Source(tenant, p.Cloud().Graph.Scope())
	before := p.RefreshToken(token.RefreshSAM)
	tok, err := src.Token(ctx)
	if err != nil {
		if StopsRun(CheckDelegatedGraph, err) {
			// The credentials themselves are refused: nothing else can be
			// read, and this is the one finding that matters.
			d.add(Finding{Kind: FindingCredentials, Where: WherePartner, Severity: SeverityBroken,
				What: "the credentials are refused: " + firstLine(err.Error()), Fix: "samctl setup"})
			return errCredentialsRefused
		}
		return fmt.Errorf("sam: Doctor: a Graph token in the partner tenant: %w", err)
	}
	var in *Inspection
	if d.appID != "" {
		g, err := d.p.graph(tenant, graph.WithHTTPClient(date.client(p.HTTPClient())))
		if err != nil {
			return err
		}
		// The doctor dates findings itself, by the service's clock, once
		// read: the Inspection's own expiry flags go unused.
		if in, err = inspectAt(ctx, g, d.appID, d.now); err != nil {
			return err
		}
	}
	d.setNow(date)
	// Redeeming the refresh token rotated it when a new one came, just
	// now or earlier in this Partner's life (a program lists the tenants
	// before it runs the doctor): its idle lifetime starts again today.
	obtained := d.opts.RefreshTokenObtainedAt
	if after := p.RefreshToken(token.RefreshSAM); !after.IsZero() && (!after.Equal(before) || !after.Equal(d.p.refresh)) {
		obtained = d.now
	}
	if !obtained.IsZero() {
		d.dated(Finding{Kind: FindingRefreshTokenIdle, Where: WherePartner,
			What: "the refresh token expires unless it is used (obtained " + obtained.Format(time.DateOnly) + ")",
			Fix:  "samctl keepalive (any use renews it); once expired: samctl setup"}, obtained.Add(RefreshTokenIdleLifetime))
	}
	if c, err := tok.Claims(); err == nil && !c.MFA() {
		d.add(Finding{Kind: FindingRefreshTokenMFA, Where: WherePartner, Severity: SeverityBroken,
			What: "the refresh token's sign-in carried no MFA claim: Partner Center refuses it (900421)",
			Fix:  "samctl setup (sign in with MFA)"})
	}
	if in != nil {
		d.app(in)
	}
	return nil
}

// setNow sets now from DoctorOptions.Now, or else the last Date seen.
func (d *doctor) setNow(date *serverDate) {
	if d.opts.Now != nil {
		d.now = d.opts.Now()
		return
	}
	d.now = date.now(time.Now)
}

func (d *doctor) app(in *Inspection) {
	// The stored secret, told apart by its first characters; "" when
	// none or several match.
	storedKey := matchSecret(in.App.PasswordCredentials, d.opts.StoredSecret)
	leftovers := in.Leftovers(d.opts.StoredSecret)
	for _, s := range in.Secrets {
		if slices.ContainsFunc(leftovers, func(l SecretInfo) bool { return l.KeyID == s.KeyID }) {
			d.add(Finding{Kind: FindingLeftoverSecret, Where: WherePartner, Severity: SeverityWarning,
				What: fmt.Sprintf("client secret %s… is a leftover of an interrupted rotation", s.Hint), Fix: "samctl rotate-secret"})
			continue
		}
		if strings.EqualFold(s.KeyID, storedKey) {
			d.dated(Finding{Kind: FindingStoredSecret, Where: WherePartner, What: fmt.Sprintf("the stored client secret %s… expires", s.Hint),
				Fix: "samctl rotate-secret"}, s.End)
			continue
		}
		// Another tool may use another secret: its end is worth a warning
		// before it comes. Once past, it breaks nothing samkit does, and a
		// cron job would otherwise fail on it for good.
		if s.End.After(d.now) {
			d.dated(Finding{Kind: FindingSecretExpiry, Where: WherePartner, What: fmt.Sprintf("client secret %s… (not the stored one) expires", s.Hint),
				Fix: "renew it for the tool that uses it (app registration, Certificates & secrets), or remove it"}, s.End)
		}
	}
	if !d.opts.StoredSecret.IsZero() && !slices.ContainsFunc(in.Secrets, func(s SecretInfo) bool {
		return s.Hint != "" && strings.HasPrefix(d.opts.StoredSecret.Reveal(), s.Hint)
	}) {
		d.add(Finding{Kind: FindingStoredSecret, Where: WherePartner, Severity: SeverityBroken,
			What: "the stored client secret is not one of the app's secrets", Fix: "samctl rotate-secret"})
	}
	d.certificates(in)
	if !in.HasServicePrincipal {
		d.add(Finding{Kind: FindingNoServicePrincipal, Where: WherePartner, Severity: SeverityBroken,
			What: "the app has no service principal in the partner tenant", Fix: "samctl setup"})
	}
	d.manifest(in)
	if !slices.ContainsFunc(in.RedirectURIs, func(r RedirectURI) bool {
		return r.Platform == "web" && (strings.HasPrefix(r.URI, "http://localhost") || strings.HasPrefix(r.URI, "http://127.0.0.1"))
	}) {
		d.add(Finding{Kind: FindingRedirectURI, Where: WherePartner, Severity: SeverityBroken,
			What: "the app has no loopback web redirect URI: the admin's sign-in through it cannot finish", Fix: "samctl setup"})
	}
}

// certificates reports the app's certificates that expire, the stored one
// first among them, the leftovers of an interrupted rotation, and a stored
// certificate the app does not have.
func (d *doctor) certificates(in *Inspection) {
	stored := in.StoredCertificate(d.opts.StoredCertificate)
	leftovers := in.CertificateLeftovers(d.opts.StoredCertificate)
	for _, c := range in.Certificates {
		name := cmp.Or(c.DisplayName, c.Thumbprint, c.KeyID)
		switch {
		case slices.ContainsFunc(leftovers, func(l CertificateInfo) bool { return l.KeyID == c.KeyID }):
			d.add(Finding{Kind: FindingLeftoverSecret, Where: WherePartner, Severity: SeverityWarning,
				What: fmt.Sprintf("certificate %s is a leftover of an interrupted rotation", c.Thumbprint), Fix: "samctl rotate-credentials --kind certificate"})
		case stored != "" && strings.EqualFold(c.KeyID, stored):
			// An expired certificate cannot sign the proof addKey asks
			// for: only a new setup replaces it then.
			fix := "samctl rotate-credentials --kind certificate"
			if !c.End.After(d.now) {
				fix = "samctl setup --certificate"
			}
			d.dated(Finding{Kind: FindingCertificateExpiry, Where: WherePartner,
				What: fmt.Sprintf("the stored certificate %s expires", c.Thumbprint), Fix: fix}, c.End)
		default:
			d.dated(Finding{Kind: FindingCertificateExpiry, Where: WherePartner, What: fmt.Sprintf("certificate %s expires", name),
				Fix: "samctl rotate-credentials --kind certificate (or, for a certificate another tool uses, renew it there)"}, c.End)
		}
	}
	if d.opts.StoredCertificate != nil && d.opts.StoredSecret.IsZero() && stored == "" {
		d.add(Finding{Kind: FindingStoredSecret, Where: WherePartner, Severity: SeverityBroken,
			What: "the stored certificate is not one of the app's certificates", Fix: "samctl setup --certificate"})
	}
}

// manifest compares the manifest with the app's requiredResourceAccess
// and with the admin consent Inspect found.
func (d *doctor) manifest(in *Inspection) {
	for _, r := range d.opts.Manifest.Resources {
		for _, ps := range []struct {
			kind PermissionKind
			list []Permission
		}{{DelegatedPermission, r.Delegated}, {ApplicationPermission, r.Application}} {
			for _, p := range ps.list {
				i := slices.IndexFunc(in.Permissions, func(s PermissionStatus) bool {
					return s.Kind == ps.kind && strings.EqualFold(s.ResourceAppID, r.ResourceAppID) && strings.EqualFold(s.ID, p.ID)
				})
				switch {
				case i < 0:
					d.add(Finding{Kind: FindingAdminConsent, Where: WherePartner, Severity: SeverityBroken,
						What: fmt.Sprintf("the app does not ask for %s %s on %s (requiredResourceAccess)", ps.kind, p, r.label()), Fix: "samctl setup"})
				case !in.Permissions[i].Granted:
					d.add(Finding{Kind: FindingAdminConsent, Where: WherePartner, Severity: SeverityBroken,
						What: fmt.Sprintf("%s %s on %s lacks admin consent", ps.kind, p, r.label()), Fix: "samctl setup"})
				}
			}
		}
	}
}

// gdap reports the tenant's GDAP relationships that end within the
// window; none is read: ListTenants listed them.
func (d *doctor) gdap(t Tenant) {
	for _, r := range t.Relationships {
		if r.MLT {
			continue
		}
		what := fmt.Sprintf("GDAP relationship %q ends", r.DisplayName)
		fix := "create a new GDAP relationship in Partner Center before it ends"
		if slices.Contains(r.Roles, GlobalAdministratorRole) {
			what += "; it holds Global Administrator, so it cannot auto-extend"
			fix = "create a new GDAP relationship without Global Administrator in Partner Center"
		}
		d.dated(Finding{Kind: FindingGDAPEnding, Where: t.ID, What: what, Fix: fix}, r.End)
	}
}

// drift reads the consent in tenant i once its checks are done, in the
// check's worker (see CheckOptions.checked), unless its delegated Graph
// check failed: the consent is read with the same token, and the access
// finding says it all.
func (d *doctor) drift(ctx context.Context, r *run, i int, res TenantResult) {
	if ctx.Err() != nil || graphFailed(res) {
		return
	}
	dr := r.consentDrift(ctx, d.customers[i].ID, d.appID, d.opts.Manifest)
	if f, ok := driftFinding(dr); ok {
		d.add(f)
	}
}

func graphFailed(t TenantResult) bool {
	return slices.ContainsFunc(t.Checks, func(c CheckResult) bool {
		return c.Check == CheckDelegatedGraph && c.Outcome != OutcomePassed
	})
}

// consentDrift reads the consent in tenant with the run's delegated Graph
// clients, through its throttling gate.
func (r *run) consentDrift(ctx context.Context, tenant, appID string, m Manifest) ConsentDrift {
	src := r.p.Source(tenant, r.cloud.Graph.Scope())
	if err := r.token(ctx, src); err != nil {
		return ConsentDrift{Tenant: tenant, Err: err}
	}
	g, err := graph.New(src, r.graphOpts...)
	if err != nil {
		return ConsentDrift{Tenant: tenant, Err: err}
	}
	return readConsentDrift(ctx, g, tenant, appID, m)
}

func driftFinding(dr ConsentDrift) (Finding, bool) {
	f := Finding{Kind: FindingConsentDrift, Where: dr.Tenant, Severity: SeverityBroken, Fix: "samctl consent apply " + dr.Tenant}
	switch {
	case dr.Err != nil:
		f.What, f.Fix = "the SAM app's consent could not be read: "+dr.Err.Error(), "samctl consent plan "+dr.Tenant
	case dr.NoServicePrincipal:
		f.What = "the SAM app is not consented in the tenant"
	case dr.Missing():
		var parts []string
		for _, g := range dr.GrantsToAdd {
			parts = append(parts, fmt.Sprintf("no delegated grant on %s", g.Resource))
		}
		for _, g := range dr.ScopesToAdd {
			parts = append(parts, fmt.Sprintf("%s lacks %s", g.Resource, strings.Join(g.Scopes, " ")))
		}
		for _, a := range dr.RolesToAdd {
			parts = append(parts, fmt.Sprintf("%s lacks application permission %s", a.Resource, cmp.Or(a.Name, a.AppRoleID)))
		}
		f.What = "consent drift: " + strings.Join(parts, "; ")
	default:
		return f, false
	}
	return f, true
}

// eachIndex calls f(i) for i in [0, n) on conc workers (DefaultConcurrency
// when conc <= 0), each taking the next index, as Partner.Check's workers
// do; it stops handing out indexes when ctx ends.
func eachIndex(ctx context.Context, conc, n int, f func(i int)) {
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
