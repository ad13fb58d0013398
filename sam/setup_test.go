package sam

import (
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

func TestSetupEndToEnd(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	customer := e.s.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam", GDAP: true, PartnerCenter: true})
	opts := e.options()
	res := e.setup(t.Context(), opts)

	if !res.Created {
		t.Errorf("Created = false, want true for a new app")
	}
	wantSteps := []Step{StepSignIn, StepPreflight, StepApp, StepServicePrincipals, StepSecret, StepAdminConsent, StepConsent, StepVerify, StepSave}
	if got := e.steps(StepDone); !slices.Equal(got, wantSteps) {
		t.Errorf("steps done = %v, want %v", got, wantSteps)
	}
	if got := e.steps(StepSkipped); !slices.Equal(got, []Step{StepExchange}) {
		t.Errorf("steps skipped = %v, want [exchange]", got)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "trusted IPs") {
		t.Errorf("Warnings = %q, want the trusted-IP warning", res.Warnings)
	}
	partner := e.s.Partner()
	creds, err := e.store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.TenantID != partner.TenantID || creds.ApplicationID != res.App.AppID || creds.RefreshToken.IsZero() || creds.ClientSecret.IsZero() {
		t.Fatalf("saved credentials = %v, want the partner tenant, the app, a secret and a refresh token", creds)
	}

	// The registration and the partner tenant's consent, as the fake holds them.
	e.s.Read(func(w *testserver.World) {
		app := w.Apps[res.App.AppID]
		if app == nil {
			t.Fatalf("no application %s in the fake", res.App.AppID)
		}
		if app.SignInAudience != graph.SignInAudienceMultipleOrgs {
			t.Errorf("signInAudience = %s, want multi-tenant", app.SignInAudience)
		}
		for _, u := range []string{"http://localhost", "http://127.0.0.1"} {
			if !slices.Contains(app.WebRedirectURIs, u) {
				t.Errorf("web redirect URIs %v lack %s", app.WebRedirectURIs, u)
			}
		}
		if len(app.PublicRedirectURIs) != 1 || !strings.HasSuffix(app.PublicRedirectURIs[0], "/oauth2/nativeclient") {
			t.Errorf("public client redirect URIs = %v, want the native client one", app.PublicRedirectURIs)
		}
		if len(app.Passwords) != 1 {
			t.Fatalf("%d secrets, want 1", len(app.Passwords))
		}
		life := app.Passwords[0].End.Sub(app.Passwords[0].Start)
		if life < DefaultSecretLifetime-time.Hour || life > DefaultSecretLifetime+time.Hour {
			t.Errorf("secret lifetime = %v, want about %v", life, DefaultSecretLifetime)
		}
		p := w.Partner
		sp := p.ServicePrincipalByAppID(app.AppID)
		if sp == nil {
			t.Fatal("no service principal for the app in the partner tenant")
		}
		graphSP := p.ServicePrincipalByAppID(GraphAppID)
		scopes := p.DelegatedScopes(sp.ID, graphSP.ID, partner.AdminID)
		for _, want := range []string{"Directory.Read.All", "User.Read.All", "AppRoleAssignment.ReadWrite.All"} {
			if !slices.Contains(scopes, want) {
				t.Errorf("Graph grant scopes %v lack %s", scopes, want)
			}
		}
		if roles := p.AppRoles(sp.ID, w.Apps[GraphAppID], graphSP.ID); !slices.Contains(roles, "Directory.Read.All") {
			t.Errorf("Graph app roles = %v, want Directory.Read.All", roles)
		}
	})

	// The Partner Setup returns reaches a customer once consent is pushed,
	// and shares the store.
	sp := res.Partner
	require.NotNil(t, sp, "Setup's Partner")
	assert.Same(t, e.store, sp.Store())
	p := sp.Provider()
	pushed, err := sp.PushConsent(t.Context(), []string{customer}, PushOptions{})
	if err != nil {
		t.Fatalf("PushConsent: %v", err)
	}
	push := pushed[0]
	if push.PartnerConsent != ConsentCreated || push.AssignmentsCreated != 2 {
		t.Errorf("PushConsent = %+v, want a created consent and 2 assignments", push)
	}
	tok, err := p.Token(t.Context(), customer, e.s.Cloud().Graph.Scope())
	if err != nil {
		t.Fatalf("delegated Graph token for the customer: %v", err)
	}
	if c, _ := tok.Claims(); c.TenantID != customer || !c.MFA() {
		t.Errorf("customer token claims = %+v, want tid %s with MFA", c, customer)
	}
	g, err := graph.New(p.Source(customer, e.s.Cloud().Graph.Scope()), graph.WithCloud(e.s.Cloud()), graph.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	if org, err := g.Organization(t.Context()); err != nil || org.ID != customer {
		t.Errorf("customer organization = %+v, %v; want %s", org, err, customer)
	}
	app, err := p.AppToken(t.Context(), customer, e.s.Cloud().Graph.Scope())
	if err != nil {
		t.Fatalf("app-only Graph token for the customer: %v", err)
	}
	if c, _ := app.Claims(); !slices.Contains(c.Roles, "Directory.Read.All") {
		t.Errorf("app-only token roles = %v, want Directory.Read.All", c.Roles)
	}
}

func TestSetupRerunCreatesNothing(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	first := e.setup(t.Context(), e.options())
	before, creates := e.snapshot(), e.graphCreates()

	second := e.setup(t.Context(), e.options())
	if second.Created {
		t.Error("the second run says it created the app")
	}
	if second.App.AppID != first.App.AppID {
		t.Errorf("second run's app = %s, want %s", second.App.AppID, first.App.AppID)
	}
	if n := e.graphCreates() - creates; n != 0 {
		t.Errorf("the second run sent %d create requests, want 0", n)
	}
	if added := before.added(e.snapshot()); len(added) > 0 {
		t.Errorf("the second run added:\n%s", strings.Join(added, "\n"))
	}
	if !second.Credentials.ClientSecret.Equal(first.Credentials.ClientSecret) {
		t.Error("the second run replaced a working stored secret")
	}
	if second.Credentials.RefreshToken.Equal(first.Credentials.RefreshToken) {
		t.Error("the second run kept the old refresh token, want a new consent")
	}
	if n := e.s.Count(func(r testserver.Request) bool { return r.Service == "graph" && r.Method == http.MethodPatch }); n != 0 {
		t.Errorf("%d PATCH requests, want none for an app that is up to date", n)
	}
}

// TestSetupFailureRollsBack fails each step after the app is created in
// turn and checks that the fake holds nothing of the run afterwards.
func TestSetupFailureRollsBack(t *testing.T) {
	t.Parallel()
	graphPOST := func(path string) testserver.Fault {
		return testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "graph", Path: path, Method: http.MethodPost, Count: 100}
	}
	tokenPOST := testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "login", Path: "/oauth2/v2.0/token", Method: http.MethodPost, Count: 100}
	tests := []struct {
		name string
		step Step
		// before runs before Setup; at runs when the step starts.
		before func(e *setupEnv)
		at     func(e *setupEnv, cancel context.CancelFunc)
		opts   func(o *SetupOptions)
		is     error
	}{
		{name: "service principal", step: StepServicePrincipals, before: func(e *setupEnv) { e.s.Inject(graphPOST("/servicePrincipals")) }},
		{name: "secret", step: StepSecret, before: func(e *setupEnv) { e.s.Inject(graphPOST("/addPassword")) }},
		{name: "certificate", step: StepSecret, opts: func(o *SetupOptions) { o.Certificate = true },
			before: func(e *setupEnv) {
				e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "graph", Path: "/applications/", Method: http.MethodPatch, Count: 100})
			}},
		{name: "certificate, code redemption", step: StepConsent, opts: func(o *SetupOptions) { o.Certificate = true },
			at: func(e *setupEnv, _ context.CancelFunc) { e.s.Inject(tokenPOST) }},
		{name: "delegated grant", step: StepAdminConsent, before: func(e *setupEnv) { e.s.Inject(graphPOST("/oauth2PermissionGrants")) }},
		{name: "app role assignment", step: StepAdminConsent, before: func(e *setupEnv) { e.s.Inject(graphPOST("/appRoleAssignedTo")) }},
		{name: "consent declined", step: StepConsent, is: ErrSignInDeclined,
			before: func(e *setupEnv) { e.s.Mutate(func(w *testserver.World) { w.Authorize.Deny = true }) }},
		{name: "consent without MFA", step: StepConsent, is: ErrNoMFA,
			before: func(e *setupEnv) { e.s.Mutate(func(w *testserver.World) { w.Authorize.NoMFA = true }) }},
		{name: "code redemption", step: StepConsent, at: func(e *setupEnv, _ context.CancelFunc) { e.s.Inject(tokenPOST) }},
		{name: "consent timeout", step: StepConsent, is: ErrSignInTimeout,
			opts: func(o *SetupOptions) {
				o.ConsentTimeout = 50 * time.Millisecond
				o.Consent = LoopbackConsent{OpenBrowser: func(string) error { return nil }}
			}},
		{name: "legacy exchange", step: StepExchange, opts: func(o *SetupOptions) { o.LegacyExchange = true },
			at: func(e *setupEnv, _ context.CancelFunc) {
				e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "login", Path: "/devicecode", Count: 100})
			}},
		{name: "verify", step: StepVerify, at: func(e *setupEnv, _ context.CancelFunc) { e.s.Inject(tokenPOST) }},
		{name: "save", step: StepSave, is: errSaveFailed, opts: func(o *SetupOptions) { o.Store = failingStore{Store: o.Store} }},
		{name: "cancelled at app", step: StepApp, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at secret", step: StepSecret, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at legacy exchange", step: StepExchange, is: context.Canceled,
			opts: func(o *SetupOptions) { o.LegacyExchange = true },
			at:   func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at save", step: StepSave, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at service principals", step: StepServicePrincipals, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at admin consent", step: StepAdminConsent, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at consent", step: StepConsent, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
		{name: "cancelled at verify", step: StepVerify, is: context.Canceled,
			at: func(_ *setupEnv, cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSetupEnv(t)
			before := e.snapshot()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			opts := e.options()
			opts.Progress = func(ev StepEvent) {
				e.record(ev)
				if ev.Step == tt.step && ev.Status == StepStarted && tt.at != nil {
					tt.at(e, cancel)
				}
			}
			if tt.before != nil {
				tt.before(e)
			}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			_, err := Setup(ctx, opts)
			e.s.ClearFaults()
			var se *SetupError
			if !errors.As(err, &se) {
				t.Fatalf("Setup error = %v, want a *SetupError", err)
			}
			if se.Step != tt.step {
				t.Errorf("failed step = %s, want %s (%v)", se.Step, tt.step, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error = %v, want one matching %v", err, tt.is)
			}
			if !se.RolledBack || se.RollbackErr != nil {
				t.Errorf("RolledBack = %v, RollbackErr = %v; want a clean rollback", se.RolledBack, se.RollbackErr)
			}
			if se.Fix == "" {
				t.Error("no Fix in the error")
			}
			if ids := e.appsNamed(DefaultDisplayName); len(ids) > 0 {
				t.Errorf("applications left behind: %v", ids)
			}
			if added := before.added(e.snapshot()); len(added) > 0 {
				t.Errorf("left behind:\n%s", strings.Join(added, "\n"))
			}
			if _, err := e.store.Load(t.Context()); !errors.Is(err, ErrNoCredentials) {
				t.Errorf("store after a failed run: %v, want ErrNoCredentials", err)
			}
			// Cancelled as the app step starts, the run has created nothing
			// and there is no rollback to report.
			if got := e.steps(StepDone); tt.name != "cancelled at app" && !slices.Contains(got, StepRollback) {
				t.Errorf("no rollback reported; steps done: %v", got)
			}
		})
	}
}

var errSaveFailed = errors.New("disk full")

// failingStore is a Store whose Save always fails.
type failingStore struct{ Store }

func (failingStore) Save(context.Context, token.Credentials) error { return errSaveFailed }

// TestSetupRollbackKeepsExistingApp fails a run on an app that existed
// before: the app stays, and only what the run added or changed is undone.
func TestSetupRollbackKeepsExistingApp(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	opts := e.options()
	graphRes, _ := DefaultManifest().Resource(GraphAppID)
	pcRes, _ := DefaultManifest().Resource(PartnerCenterAppID)
	opts.Manifest = Manifest{Resources: []ResourceAccess{graphRes, pcRes}}
	first := e.setup(t.Context(), opts)
	before := e.snapshot()
	var app testserver.App
	e.s.Read(func(w *testserver.World) { app = *w.Apps[first.App.AppID] })

	// A run with a larger manifest and no stored secret adds a secret,
	// permissions, grants and assignments to the existing app, then fails.
	opts = e.options()
	opts.Store = nil
	opts.Progress = func(ev StepEvent) {
		if ev.Step == StepVerify && ev.Status == StepStarted {
			e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "login", Path: "/oauth2/v2.0/token", Count: 100})
		}
	}
	_, err := Setup(t.Context(), opts)
	e.s.ClearFaults()
	var se *SetupError
	if !errors.As(err, &se) || se.Step != StepVerify || !se.RolledBack {
		t.Fatalf("Setup = %v, want a rolled-back failure at verify", err)
	}
	if added := before.added(e.snapshot()); len(added) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(added, "\n"))
	}
	e.s.Read(func(w *testserver.World) {
		now := w.Apps[first.App.AppID]
		if now == nil {
			t.Fatal("the existing app was deleted")
		}
		if len(now.Passwords) != len(app.Passwords) {
			t.Errorf("%d secrets after the failed run, want %d", len(now.Passwords), len(app.Passwords))
		}
		if len(now.RequiredResourceAccess) != len(app.RequiredResourceAccess) {
			t.Errorf("requiredResourceAccess has %d resources, want the %d it had", len(now.RequiredResourceAccess), len(app.RequiredResourceAccess))
		}
	})
	// The first run's credentials still work.
	if _, err := e.provider().Token(t.Context(), e.s.Partner().TenantID, e.s.Cloud().Graph.Scope()); err != nil {
		t.Errorf("the stored credentials stopped working: %v", err)
	}
}

func TestSetupPreflight(t *testing.T) {
	t.Parallel()
	notGA := func(w *testserver.World) { w.Partner.Admin().Roles = nil }
	notAgent := func(w *testserver.World) {
		g := w.Partner.GroupByName(testserver.AdminAgentsGroupName)
		delete(g.Members, w.Partner.Admin().ID)
	}
	noMFA := func(w *testserver.World) { w.Partner.Admin().MFA = false }
	tests := []struct {
		name    string
		mutate  []func(*testserver.World)
		want    []error
		notWant []error
		fix     string
	}{
		{"not a Global Administrator", []func(*testserver.World){notGA}, []error{ErrNotGlobalAdmin}, []error{ErrNotAdminAgent, ErrNoMFA}, "Global Administrator"},
		{"not in AdminAgents", []func(*testserver.World){notAgent}, []error{ErrNotAdminAgent}, []error{ErrNotGlobalAdmin, ErrNoMFA}, "AdminAgents"},
		{"no MFA", []func(*testserver.World){noMFA}, []error{ErrNoMFA}, []error{ErrNotGlobalAdmin, ErrNotAdminAgent}, "multi-factor"},
		{"all three", []func(*testserver.World){notGA, notAgent, noMFA}, []error{ErrNotGlobalAdmin, ErrNotAdminAgent, ErrNoMFA}, nil, "AdminAgents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSetupEnv(t)
			for _, m := range tt.mutate {
				e.s.Mutate(m)
			}
			before := e.snapshot()
			_, err := Setup(t.Context(), e.options())
			var se *SetupError
			if !errors.As(err, &se) || se.Step != StepPreflight {
				t.Fatalf("Setup = %v, want a failure at preflight", err)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not match %v", err, w)
				}
			}
			for _, w := range tt.notWant {
				if errors.Is(err, w) {
					t.Errorf("error %q matches %v", err, w)
				}
			}
			if !strings.Contains(se.Fix, tt.fix) {
				t.Errorf("Fix = %q, want it to mention %q", se.Fix, tt.fix)
			}
			if added := before.added(e.snapshot()); len(added) > 0 {
				t.Errorf("a failed preflight created:\n%s", strings.Join(added, "\n"))
			}
		})
	}
}

// TestSetupHeadless plays a person on another device: they open the
// printed address, are sent to http://localhost/… (which fails to load)
// and paste that address back.
func TestSetupHeadless(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			sc := bufio.NewScanner(outR)
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if !strings.HasPrefix(line, "https://") {
					continue
				}
				hc := *e.s.Client()
				hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
				resp, err := hc.Get(line)
				if err != nil {
					return err
				}
				resp.Body.Close()
				loc := resp.Header.Get("Location")
				if !strings.HasPrefix(loc, "http://localhost/?") {
					return errors.New("redirected to " + loc + ", want http://localhost/?…")
				}
				_, err = io.WriteString(inW, loc+"\n")
				_, _ = io.Copy(io.Discard, outR)
				return err
			}
			return sc.Err()
		}()
	}()
	opts := e.options()
	opts.Consent = HeadlessConsent{Out: outW, In: inR}
	res := e.setup(t.Context(), opts)
	outW.Close()
	if err := <-done; err != nil {
		t.Fatalf("the person at the other device: %v", err)
	}
	if res.Credentials.RefreshToken.IsZero() {
		t.Error("no refresh token")
	}
}

func TestSetupBrowserSignIn(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	opts := e.options()
	opts.AdminSignIn = BrowserSignIn{OpenBrowser: e.browse}
	res := e.setup(t.Context(), opts)
	if !res.Created || res.Credentials.RefreshToken.IsZero() {
		t.Errorf("Setup with the browser sign-in = %+v", res)
	}
}

func TestSetupLegacyExchange(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	opts := e.options()
	opts.LegacyExchange = true
	var prompts []string
	opts.Progress = func(ev StepEvent) {
		if ev.Step == StepExchange && ev.Status == StepAction {
			prompts = append(prompts, ev.Message)
		}
	}
	res := e.setup(t.Context(), opts)
	if res.Credentials.ExchangeRefreshToken.IsZero() {
		t.Fatal("no Exchange refresh token")
	}
	if len(prompts) != 1 || !strings.Contains(prompts[0], "enter the code") {
		t.Errorf("Exchange prompts = %q, want the device code message", prompts)
	}
	tok, err := e.provider().LegacyExchangeToken(t.Context(), e.s.Partner().TenantID)
	if err != nil {
		t.Fatalf("LegacyExchangeToken: %v", err)
	}
	if c, _ := tok.Claims(); c.AppID != token.ExchangePowerShellClientID {
		t.Errorf("legacy Exchange token appid = %s, want the PowerShell client", c.AppID)
	}
}

func TestSetupAmbiguousDisplayName(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	e.s.Mutate(func(w *testserver.World) {
		for range 2 {
			id := "1234567" + string(rune('0'+len(w.Apps)%10)) + "-0000-4000-8000-000000000000"
			w.Apps[id] = &testserver.App{ObjectID: id, AppID: id, DisplayName: DefaultDisplayName, HomeTenant: w.Partner.ID}
		}
	})
	_, err := Setup(t.Context(), e.options())
	var se *SetupError
	if !errors.As(err, &se) || se.Step != StepApp || !errors.Is(err, errAmbiguousApp) {
		t.Fatalf("Setup = %v, want an ambiguous-name failure at the app step", err)
	}
	if !strings.Contains(se.Fix, "duplicate") {
		t.Errorf("Fix = %q", se.Fix)
	}
}

func TestSetupOptionsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts SetupOptions
	}{
		{"bad tenant", SetupOptions{Tenant: "a/b"}},
		{"bad bootstrap client", SetupOptions{BootstrapClientID: "graph"}},
		{"secret lifetime too long", SetupOptions{SecretLifetime: 3 * 365 * 24 * time.Hour}},
		{"negative consent timeout", SetupOptions{ConsentTimeout: -time.Second}},
		{"display name with spaces", SetupOptions{DisplayName: " samkit "}},
		{"invalid manifest", SetupOptions{Manifest: Manifest{Resources: []ResourceAccess{{ResourceAppID: "graph"}}}}},
		{"manifest without Partner Center", SetupOptions{Manifest: Manifest{Resources: DefaultManifest().Resources[:1]}}},
	}
	for _, tt := range tests {
		if _, err := Setup(t.Context(), tt.opts); err == nil {
			t.Errorf("%s: Setup accepted the options", tt.name)
		} else if errors.As(err, new(*SetupError)) {
			t.Errorf("%s: Setup = %v, want a plain options error before any step", tt.name, err)
		}
	}
}

func TestSetupErrorMessage(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	undo := errors.New("could not delete application x")
	err := &SetupError{Step: StepVerify, Err: cause, Fix: "do this", RollbackErr: undo}
	for _, want := range []string{"verify", "boom", "fix: do this", "remove by hand", "could not delete"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Error() = %q, want %q in it", err.Error(), want)
		}
	}
	if !errors.Is(err, cause) || !errors.Is(err, undo) {
		t.Error("errors.Is does not find the cause and the rollback error")
	}
}

func TestUncertain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&graph.Error{StatusCode: 400}, false},
		{&graph.Error{StatusCode: 403}, false},
		{&graph.Error{StatusCode: 429}, false},
		{&graph.Error{StatusCode: 500}, true},
		{&graph.Error{StatusCode: 504}, true},
		{context.Canceled, true},
		{errors.New("connection reset"), true},
		{graph.ErrInvalidArgument, false},
	}
	for _, tt := range tests {
		if got := uncertain(tt.err); got != tt.want {
			t.Errorf("uncertain(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestSetupReconcilesLostCreate makes a create time out on the client
// while the fake goes on to make the object, as a lost answer does: the
// rollback must find the object and remove it. The answer is lost by
// loseAnswer, not by a short client timeout, which on a busy machine would
// cut the sign-ins short too.
func TestSetupReconcilesLostCreate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		path string
		step Step
	}{
		{"/applications", StepApp},
		{"/oauth2PermissionGrants", StepAdminConsent},
	} {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			e := newSetupEnv(t)
			before := e.snapshot()
			opts := e.options()
			lost := &loseAnswer{next: e.s.Client().Transport, method: http.MethodPost, path: "/graph/v1.0" + tt.path}
			opts.httpClient = &http.Client{Transport: lost}
			_, err := Setup(t.Context(), opts)
			var se *SetupError
			if !errors.As(err, &se) || se.Step != tt.step || !se.RolledBack {
				t.Fatalf("Setup = %v, want a rolled-back failure at %s", err, tt.step)
			}
			if !lost.done.Load() {
				t.Fatal("no answer was lost")
			}
			if tt.step == StepApp {
				deletes := e.s.Count(func(r testserver.Request) bool {
					return r.Service == "graph" && r.Method == http.MethodDelete && strings.Contains(r.Path, "/applications/")
				})
				if deletes != 1 {
					t.Errorf("%d application deletes, want the lost app deleted once", deletes)
				}
			}
			if added := before.added(e.snapshot()); len(added) > 0 {
				t.Errorf("left behind:\n%s", strings.Join(added, "\n"))
			}
		})
	}
}

// loseAnswer is a transport that lets the first request of method to path
// reach the server and then loses its answer, as a client timeout does
// after the server acted; every other request goes through.
type loseAnswer struct {
	next         http.RoundTripper
	method, path string
	done         atomic.Bool
}

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != l.method || r.URL.Path != l.path || !l.done.CompareAndSwap(false, true) {
		return l.next.RoundTrip(r)
	}
	resp, err := l.next.RoundTrip(r)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// os.ErrDeadlineExceeded is a net.Error whose Timeout is true, what a
	// timed-out read of the answer returns.
	return nil, os.ErrDeadlineExceeded
}
