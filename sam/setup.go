package sam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// Setup creates (or brings up to date) the SAM app and its credentials,
// in the steps the Secure Application Model's setup guides describe, and
// reports each step as it goes:
//
//  1. StepSignIn: an admin of the partner tenant signs in to Microsoft
//     Graph through a bootstrap public client (device code by default).
//  2. StepPreflight: the admin is a Global Administrator, in AdminAgents,
//     and signed in with MFA.
//  3. StepApp, StepServicePrincipals, StepSecret, StepAdminConsent: the app
//     registration (found by display name, or created), service principals
//     for it and for every resource it uses, a client secret, and admin
//     consent, as the portal's "Grant admin consent" button gives it.
//  4. StepConsent: the admin signs in through the new app (authorization
//     code with PKCE, on a loopback listener or by pasting the redirect),
//     which yields the SAM refresh token.
//  5. StepExchange (optional): the legacy Exchange refresh token.
//  6. StepVerify: the refresh token is redeemed for Graph and Partner
//     Center in the partner tenant.
//  7. StepSave: the credentials go to the Store.
//
// The options are those of Open: WithCloud, WithHTTPClient, WithLogger
// and WithUserAgent say how Microsoft is reached (retry policy and
// concurrency do not apply), and SetupResult.Partner shares them.
//
// Running Setup again on an app it made before updates that app and adds
// nothing it already has; if the Store still holds a working secret of
// the app, no new secret is added.
//
// When a step fails after something was created, Setup undoes what this
// run created or changed, in reverse order and with a context of its own
// (so a cancelled ctx still leaves no orphaned app, secret or grant), and
// returns a *SetupError naming the step, the cause and the fix. An app
// that existed before the run is never deleted. A change to an existing
// object is journaled, as a snapshot of what it changes, before it is
// sent; a create whose answer is lost is undone by looking up what the run
// may have made. So a write whose answer was lost, or a run cancelled just
// after one, is undone too: RolledBack means the partner tenant is as the
// run found it.
//
//	res, err := sam.Setup(ctx, sam.SetupOptions{
//		Store:    sam.NewFileStore(path),
//		Progress: func(e sam.StepEvent) { fmt.Println(e) },
//	})
//	var se *sam.SetupError
//	if errors.As(err, &se) {
//		fmt.Println("fix:", se.Fix)
//	}
func Setup(ctx context.Context, opts SetupOptions, with ...Option) (*SetupResult, error) {
	cfg := newPartnerConfig(with)
	if cfg.cloud != nil {
		opts.cloud = *cfg.cloud
	}
	if cfg.hc != nil {
		opts.httpClient = cfg.hc
	}
	if cfg.log != nil {
		opts.logger = cfg.log
	}
	opts.product = cfg.product
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return newSetupRun(o).run(ctx)
}

func newSetupRun(o SetupOptions) *setupRun {
	log := httpx.RedactingLogger(o.logger)
	return &setupRun{opts: o, log: log, journal: &journal{log: log}, hc: httpx.NewClient(o.httpClient, httpx.RetryPolicy{}, log),
		ua: httpx.UserAgentHeader(o.product)}
}

// adminGraph signs an admin in as Setup's first step does (AdminSignIn,
// BootstrapClientID, Tenant, Cloud, HTTPClient, Progress and Logger of
// opts apply) and returns a Graph client acting as that admin in the
// partner tenant: what RotateSecret needs to change the app.
func adminGraph(ctx context.Context, opts SetupOptions) (*graph.Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := newSetupRun(o)
	if err := r.signIn(ctx); err != nil {
		return nil, err
	}
	return r.graph, nil
}

// DefaultDisplayName is the display name Setup gives the SAM app.
const DefaultDisplayName = "samkit SAM"

// DefaultSecretLifetime is how long a client secret Setup or RotateSecret
// adds stays valid: six months, the rotation period Microsoft recommends
// for client secrets
// (https://devblogs.microsoft.com/microsoft365dev/client-secret-expiration-now-limited-to-a-maximum-of-two-years/)
// and the portal's recommended choice; Entra refuses more than two years.
const DefaultSecretLifetime = 180 * 24 * time.Hour

// maxSecretLifetime is the longest lifetime Entra accepts for a secret.
const maxSecretLifetime = 2 * 365 * 24 * time.Hour

// DefaultConsentTimeout bounds the consent sign-in: time enough to sign in
// with MFA, short enough that an abandoned run ends.
const DefaultConsentTimeout = 5 * time.Minute

// SetupOptions says what Setup sets up and how the admin signs in; Setup's
// options say which cloud and HTTP client. The zero value works against
// the public cloud with the device code sign-in and the browser consent.
type SetupOptions struct {
	// Tenant is the partner tenant (id or domain) to sign in to; empty
	// means "organizations", the admin's home tenant.
	Tenant string
	// DisplayName names the app; DefaultDisplayName when empty. Setup
	// finds an existing app by this name.
	DisplayName string
	// Manifest is what the app asks for; the zero Manifest means
	// DefaultManifest().
	Manifest Manifest
	// AdminSignIn signs the admin in; nil means DeviceCodeSignIn{}.
	AdminSignIn AdminSignIn
	// BootstrapClientID is the public client of the admin sign-in;
	// GraphCommandLineToolsClientID when empty.
	BootstrapClientID string
	// Consent runs the consent sign-in through the new app; nil means
	// LoopbackConsent{} (the system browser and a loopback listener).
	Consent ConsentSignIn
	// ConsentTimeout bounds the consent sign-in; DefaultConsentTimeout
	// when zero.
	ConsentTimeout time.Duration
	// SecretLifetime is how long the new client secret is valid;
	// DefaultSecretLifetime when zero, at most two years.
	SecretLifetime time.Duration
	// Certificate makes the app certificate-only: instead of a client
	// secret, Setup makes a self-signed certificate (CertificateOptions
	// say how; its subject is the app's name), registers it on the app and
	// saves it, with its key, to the Store. The app then has no secret of
	// samkit's.
	Certificate bool
	// CertificateOptions shape the certificate when Certificate is set;
	// the zero value makes an RSA 2048 certificate valid for a year.
	CertificateOptions CertificateOptions
	// LegacyExchange also obtains a refresh token of the Exchange Online
	// PowerShell client (device code), for scripts that still use one.
	LegacyExchange bool
	// Store receives the credentials; nil saves nothing (the result still
	// holds them).
	Store Store
	// Progress, if set, is called synchronously as steps start, end and
	// need the admin to act.
	Progress func(StepEvent)
	// Sleep waits between the attempts to use the new secret or
	// certificate while it replicates, for up to two minutes of waits in
	// all; nil means a timer. Tests give one that moves a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error

	// cloud, httpClient, logger and product are what Setup's options
	// (WithCloud, WithHTTPClient, WithLogger, WithUserAgent) say: the zero
	// cloud means cloud.Public, a nil client a default one, with retries
	// layered on it.
	cloud      cloud.Configuration
	httpClient *http.Client
	logger     *slog.Logger
	product    string
}

func (o SetupOptions) withDefaults() (SetupOptions, error) {
	if o.cloud.Name == "" && o.cloud.LoginEndpoint == "" {
		o.cloud = cloud.Public
	}
	if err := o.cloud.Validate(); err != nil {
		return o, fmt.Errorf("sam: WithCloud: %w", err)
	}
	if err := httpx.CheckProduct(o.product); err != nil {
		return o, fmt.Errorf("sam: WithUserAgent: %w", err)
	}
	if o.Tenant == "" {
		o.Tenant = "organizations"
	}
	if err := httpx.ValidTenant(o.Tenant); err != nil {
		return o, fmt.Errorf("sam: SetupOptions.Tenant: %w", err)
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	if strings.TrimSpace(o.DisplayName) != o.DisplayName {
		return o, errors.New("sam: SetupOptions.DisplayName has leading or trailing spaces")
	}
	if len(o.Manifest.Resources) == 0 {
		o.Manifest = DefaultManifest()
	}
	if err := o.Manifest.Validate(); err != nil {
		return o, fmt.Errorf("sam: SetupOptions.Manifest: %w", err)
	}
	if err := checkSetupManifest(o.Manifest); err != nil {
		return o, err
	}
	if o.AdminSignIn == nil {
		o.AdminSignIn = DeviceCodeSignIn{}
	}
	if o.BootstrapClientID == "" {
		o.BootstrapClientID = GraphCommandLineToolsClientID
	}
	if !httpx.IsGUID(o.BootstrapClientID) {
		return o, fmt.Errorf("sam: SetupOptions.BootstrapClientID %q is not a GUID", o.BootstrapClientID)
	}
	if o.Consent == nil {
		o.Consent = LoopbackConsent{}
	}
	if o.ConsentTimeout == 0 {
		o.ConsentTimeout = DefaultConsentTimeout
	}
	if o.SecretLifetime == 0 {
		o.SecretLifetime = DefaultSecretLifetime
	}
	if o.SecretLifetime < time.Hour || o.SecretLifetime > maxSecretLifetime {
		return o, fmt.Errorf("sam: SetupOptions.SecretLifetime %v is outside 1h–2 years (Entra's limit)", o.SecretLifetime)
	}
	if o.Certificate {
		if o.CertificateOptions.Subject == "" {
			o.CertificateOptions.Subject = o.DisplayName
		}
		if _, err := checkCertificateOptions(o.CertificateOptions); err != nil {
			return o, fmt.Errorf("sam: SetupOptions.CertificateOptions: %w", err)
		}
	}
	if o.ConsentTimeout < 0 {
		return o, errors.New("sam: SetupOptions.ConsentTimeout is negative")
	}
	return o, nil
}

// checkSetupManifest refuses a manifest without what Setup's own steps
// use: the consent sign-in asks for Microsoft Graph's delegated
// permissions, and the verification redeems the refresh token for Partner
// Center, which needs user_impersonation.
func checkSetupManifest(m Manifest) error {
	if g, ok := m.Resource(GraphAppID); !ok || len(g.Delegated) == 0 {
		return errors.New("sam: SetupOptions.Manifest has no delegated Microsoft Graph permission: the consent sign-in needs one; merge your manifest into DefaultManifest()")
	}
	pc, _ := m.Resource(PartnerCenterAppID)
	if !slices.ContainsFunc(pc.Delegated, func(p Permission) bool { return strings.EqualFold(p.ID, partnerUserImpersonationID) }) {
		return errors.New("sam: SetupOptions.Manifest lacks Partner Center's user_impersonation: the SAM refresh token is verified with it; merge your manifest into DefaultManifest()")
	}
	return nil
}

// SetupResult is what Setup made.
type SetupResult struct {
	// Credentials are the SAM app's credentials, as saved to the Store.
	Credentials token.Credentials
	// App is the app registration as Setup left it.
	App graph.Application
	// Created says whether this run created the app (rather than finding
	// one with the display name).
	Created bool
	// Warnings are what Setup could not check or chose not to do.
	Warnings []string
	// Partner is the SAM app ready for work: the Credentials, in the
	// cloud and through the HTTP client and logger Setup used, saving
	// rotated refresh tokens to the Store (when there is one). It is nil
	// only when a warning says why.
	Partner *Partner
}

// Step names a step of Setup.
type Step string

// The steps of Setup, in order.
const (
	StepSignIn            Step = "sign-in"
	StepPreflight         Step = "preflight"
	StepApp               Step = "app"
	StepServicePrincipals Step = "service-principals"
	StepSecret            Step = "secret"
	StepAdminConsent      Step = "admin-consent"
	StepConsent           Step = "consent"
	StepExchange          Step = "exchange"
	StepVerify            Step = "verify"
	StepSave              Step = "save"
	// StepRollback reports the undoing of a failed run.
	StepRollback Step = "rollback"
)

// StepStatus says what happened to a step.
type StepStatus string

// The statuses a StepEvent reports.
const (
	StepStarted StepStatus = "started"
	StepDone    StepStatus = "done"
	StepFailed  StepStatus = "failed"
	StepSkipped StepStatus = "skipped"
	// StepAction means the admin must act: Message says what (a device
	// code to enter, a URL to open).
	StepAction StepStatus = "action"
	// StepInfo carries a detail of a step in progress.
	StepInfo StepStatus = "info"
	// StepWarning carries something Setup could not check or chose not to
	// do; SetupResult.Warnings repeats it.
	StepWarning StepStatus = "warning"
)

// StepEvent is one report of Setup's progress.
type StepEvent struct {
	Step    Step
	Status  StepStatus
	Message string
	// Err is set when Status is StepFailed.
	Err error
}

func (e StepEvent) String() string {
	s := string(e.Step) + ": " + string(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// SetupError is a failed Setup: the step, the cause, what to do, and
// whether what the run had created was removed.
type SetupError struct {
	Step Step
	Err  error
	// Fix says what a person should do before running Setup again.
	Fix string
	// RolledBack says that everything this run created or changed was
	// undone (true also when there was nothing to undo).
	RolledBack bool
	// RollbackErr is why undoing failed, naming what is left behind.
	RollbackErr error
}

func (e *SetupError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sam: setup failed at step %s: %v", e.Step, e.Err)
	if e.Fix != "" {
		b.WriteString("; fix: ")
		b.WriteString(e.Fix)
	}
	if e.RollbackErr != nil {
		fmt.Fprintf(&b, "; undoing this run failed, remove by hand: %v", e.RollbackErr)
	}
	return b.String()
}

// Unwrap returns the cause and, if undoing failed, why.
func (e *SetupError) Unwrap() []error {
	if e.RollbackErr != nil {
		return []error{e.Err, e.RollbackErr}
	}
	return []error{e.Err}
}

// Preflight failures; Setup's error matches every one that applies.
var (
	ErrNotGlobalAdmin = errors.New("sam: the signed-in user is not a Global Administrator of the partner tenant")
	ErrNotAdminAgent  = errors.New("sam: the signed-in user is not in the partner tenant's AdminAgents group")
	ErrNoMFA          = errors.New("sam: the sign-in did not use multi-factor authentication")
)

// AdminAgentsGroup is the partner tenant's group of admin agents, whose
// members act for the partner in customer tenants and Partner Center.
const AdminAgentsGroup = "AdminAgents"

// setupRun is one run of Setup: what it learned and what it made.
type setupRun struct {
	opts SetupOptions
	log  *slog.Logger
	hc   *http.Client
	// ua is the User-Agent of the token requests Setup makes itself.
	ua      []string
	journal *journal

	step     Step // the step under way
	admin    token.Source
	graph    *graph.Client
	partner  string // the partner tenant's id
	adminUPN string
	warnings []string

	app      graph.Application
	created  bool
	clientSP graph.ServicePrincipal
	// resourceSPs are the resources' service principals by app id.
	resourceSPs map[string]graph.ServicePrincipal
	secret      token.Secret
	// cert is the app's certificate in certificate-only mode.
	cert *token.Certificate
	// secretKeyID is the secret this run added ("" when it reused one).
	secretKeyID  string
	refreshToken token.Secret
	exchangeRT   token.Secret
}

func (r *setupRun) run(ctx context.Context) (*SetupResult, error) {
	steps := []struct {
		step Step
		fn   func(context.Context) error
		skip bool
	}{
		{StepSignIn, r.signIn, false},
		{StepPreflight, r.preflight, false},
		{StepApp, r.ensureApp, false},
		{StepServicePrincipals, r.ensureServicePrincipals, false},
		{StepSecret, r.ensureCredential, false},
		{StepAdminConsent, r.ensureAdminConsent, false},
		{StepConsent, r.consent, false},
		{StepExchange, r.legacyExchange, !r.opts.LegacyExchange},
		{StepVerify, r.verify, false},
		{StepSave, r.save, r.opts.Store == nil},
	}
	if err := r.checkStore(ctx); err != nil {
		return nil, err
	}
	for _, s := range steps {
		if s.skip {
			r.emit(StepEvent{Step: s.step, Status: StepSkipped})
			continue
		}
		r.step = s.step
		r.emit(StepEvent{Step: s.step, Status: StepStarted})
		err := ctx.Err()
		if err == nil {
			err = s.fn(ctx)
		}
		if err != nil {
			return nil, r.fail(ctx, s.step, err)
		}
		r.emit(StepEvent{Step: s.step, Status: StepDone})
	}
	res := &SetupResult{Credentials: r.credentials(), App: r.app, Created: r.created, Warnings: r.warnings}
	// The credentials were verified and saved: a Partner that cannot be
	// made of them is worth a warning, never an undo.
	if p, err := r.openPartner(res.Credentials); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the credentials work, but open them with sam.Open: %v", err))
	} else {
		res.Partner = p
	}
	return res, nil
}

// openPartner is the Partner of the credentials the run made.
func (r *setupRun) openPartner(c token.Credentials) (*Partner, error) {
	cfg := partnerConfig{cloud: &r.opts.cloud, hc: r.opts.httpClient, log: r.opts.logger, product: r.opts.product}
	var extra []token.Option
	if r.opts.Store != nil {
		extra = append(extra, token.WithRefreshTokenStore(r.opts.Store))
	}
	return newPartner(c, r.opts.Store, cfg, extra...)
}

// checkStore fails the run before the admin signs in when the store
// cannot keep what the run would make: the sign-ins ask for MFA, and a run
// failing at its last step would have created the app only to remove it.
func (r *setupRun) checkStore(ctx context.Context) error {
	ws, ok := r.opts.Store.(WritableStore)
	if !ok {
		return nil
	}
	err := ws.Writable(ctx)
	if err == nil {
		return nil
	}
	fix := "make the credential store writable as the error says"
	if se := (*StoreError)(nil); errors.As(err, &se) {
		fix = se.Fix
	}
	return &SetupError{Step: StepSave, Err: err, RolledBack: true,
		Fix: fix + ", then run setup again (nothing was signed in to or created)"}
}

func (r *setupRun) credentials() token.Credentials {
	return token.Credentials{TenantID: r.partner, ApplicationID: r.app.AppID, ClientSecret: r.secret, Certificate: r.cert,
		RefreshToken: r.refreshToken, ExchangeRefreshToken: r.exchangeRT}
}

func (r *setupRun) emit(e StepEvent) {
	switch e.Status {
	case StepFailed:
		r.log.Warn("setup step failed", "step", string(e.Step), "error", e.Err)
	case StepWarning:
		r.log.Warn("setup", "step", string(e.Step), "warning", e.Message)
	case StepAction, StepInfo:
		r.log.Info("setup", "step", string(e.Step), "message", e.Message)
	default:
		r.log.Debug("setup step", "step", string(e.Step), "status", string(e.Status))
	}
	if r.opts.Progress != nil {
		r.opts.Progress(e)
	}
}

func (r *setupRun) notify(step Step) func(string) {
	return func(msg string) { r.emit(StepEvent{Step: step, Status: StepAction, Message: msg}) }
}

func (r *setupRun) info(step Step, format string, args ...any) {
	r.emit(StepEvent{Step: step, Status: StepInfo, Message: fmt.Sprintf(format, args...)})
}

func (r *setupRun) warn(msg string) {
	r.warnings = append(r.warnings, msg)
	r.emit(StepEvent{Step: r.step, Status: StepWarning, Message: msg})
}

// fail undoes the run and builds its error.
func (r *setupRun) fail(ctx context.Context, step Step, err error) error {
	r.emit(StepEvent{Step: step, Status: StepFailed, Err: err})
	se := &SetupError{Step: step, Err: err, Fix: fixFor(step, err, r.opts)}
	if r.journal.empty() {
		se.RolledBack = true
		return se
	}
	r.emit(StepEvent{Step: StepRollback, Status: StepStarted, Message: fmt.Sprintf("undoing %d change(s) of this run", r.journal.len())})
	if rerr := r.journal.rollback(ctx); rerr != nil {
		se.RollbackErr = rerr
		r.emit(StepEvent{Step: StepRollback, Status: StepFailed, Err: rerr})
		return se
	}
	se.RolledBack = true
	r.emit(StepEvent{Step: StepRollback, Status: StepDone})
	return se
}

// signIn is step 1: the admin's Graph token in the partner tenant.
func (r *setupRun) signIn(ctx context.Context) error {
	src, err := r.opts.AdminSignIn.SignIn(ctx, SignInParams{Cloud: r.opts.cloud, HTTPClient: r.opts.httpClient,
		ClientID: r.opts.BootstrapClientID, Tenant: r.opts.Tenant, Scopes: adminScopes(r.opts.cloud.Graph.Resource),
		Notify: r.notify(StepSignIn)})
	if err != nil {
		return err
	}
	tok, err := src.Token(ctx)
	if err != nil {
		return err
	}
	c, err := tok.Claims()
	if err != nil {
		return fmt.Errorf("sam: reading the admin's token: %w", err)
	}
	if !httpx.IsGUID(c.TenantID) {
		return fmt.Errorf("sam: the admin's token names no tenant (tid %q)", c.TenantID)
	}
	r.admin, r.partner, r.adminUPN = src, strings.ToLower(c.TenantID), c.UPN
	opts := []graph.Option{graph.WithCloud(r.opts.cloud), graph.WithHTTPClient(r.hc), graph.WithUserAgent(r.opts.product)}
	if r.opts.logger != nil {
		opts = append(opts, graph.WithLogger(r.opts.logger))
	}
	if r.graph, err = graph.New(src, opts...); err != nil {
		return err
	}
	r.info(StepSignIn, "signed in as %s in tenant %s", c.UPN, r.partner)
	return nil
}

// preflight is step 2: the checks of the SAM guides' first steps, every
// failure reported at once so that one fix round is enough.
func (r *setupRun) preflight(ctx context.Context) error {
	tok, err := r.admin.Token(ctx)
	if err != nil {
		return err
	}
	c, err := tok.Claims()
	if err != nil {
		return fmt.Errorf("sam: reading the admin's token: %w", err)
	}
	var errs []error
	ga, err := r.graph.IsGlobalAdmin(ctx)
	if err != nil {
		return fmt.Errorf("sam: reading the admin's directory roles: %w", err)
	}
	if !ga {
		errs = append(errs, ErrNotGlobalAdmin)
	}
	agent, err := r.graph.IsMemberOfGroup(ctx, AdminAgentsGroup)
	if err != nil {
		return fmt.Errorf("sam: reading the admin's groups: %w", err)
	}
	if !agent {
		errs = append(errs, ErrNotAdminAgent)
	}
	if !c.MFA() {
		errs = append(errs, ErrNoMFA)
	}
	r.warn("Whether a legacy MFA 'trusted IPs' rule lets the admin skip MFA cannot be checked through an API: " +
		"make sure none applies to the admin, or the SAM refresh token will lack MFA and Partner Center will refuse it.")
	return errors.Join(errs...)
}

// fixFor says what a person should do about a failed step.
func fixFor(step Step, err error, o SetupOptions) string {
	var fixes []string
	if errors.Is(err, ErrNotGlobalAdmin) {
		fixes = append(fixes, "sign in with a user that holds the Global Administrator role in the partner tenant (activate it first if it is eligible through PIM)")
	}
	if errors.Is(err, ErrNotAdminAgent) {
		fixes = append(fixes, "add the user to the "+AdminAgentsGroup+" group of the partner tenant (Partner Center: give the user the Admin agent role)")
	}
	if errors.Is(err, ErrNoMFA) {
		fixes = append(fixes, "sign in with multi-factor authentication: register MFA for the user (https://aka.ms/mfasetup) and make sure no legacy trusted-IP rule skips it")
	}
	if len(fixes) > 0 {
		return strings.Join(fixes, "; ")
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "the run was cancelled; run setup again"
	case errors.Is(err, ErrSignInTimeout) && step == StepConsent:
		return fmt.Sprintf("complete the sign-in within %v, or use the headless mode and paste the address the browser ends at", o.ConsentTimeout)
	case errors.Is(err, ErrSignInTimeout):
		return "enter the code and sign in before it expires, then run setup again"
	case errors.Is(err, ErrSignInDeclined):
		return "the sign-in or consent prompt was declined: run setup again and accept it"
	case errors.Is(err, ErrStateMismatch):
		return "the sign-in response belonged to another sign-in: close other sign-in windows and run setup again"
	case errors.Is(err, errAmbiguousApp):
		return "delete the duplicate applications, or choose another display name"
	case errors.Is(err, errNotReplicated):
		// Before the token error's own hint, which would blame the
		// credential: it is right, only not yet known everywhere.
		return "a new credential usually works within seconds: wait a few minutes and run setup again; if it fails again, check the app's secrets and certificates in the Entra admin center"
	}
	var te *token.Error
	if errors.As(err, &te) {
		return te.Hint()
	}
	switch {
	case errors.Is(err, graph.ErrForbidden):
		return "the signed-in admin lacks the rights for this change: sign in as a Global Administrator and consent the bootstrap client's permissions when asked"
	case errors.Is(err, graph.ErrThrottled), errors.Is(err, graph.ErrUnavailable):
		return "Microsoft Graph is busy or unavailable: wait a few minutes and run setup again"
	}
	switch step {
	case StepSignIn:
		return "sign in as a Global Administrator of the partner tenant; check the network path to " + o.cloud.LoginEndpoint
	case StepSave:
		return "check that the credential store can be written (path, permissions, free space), then run setup again"
	case StepConsent:
		return "run setup again and complete the sign-in through the new app with the same admin account"
	case StepVerify:
		return "run setup again; if it fails again, check Conditional Access policies that apply to the SAM app's sign-in"
	}
	return "run setup again; if it fails again, give Microsoft support the request id in the error"
}
