package sam

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// setupEnv is a fake Microsoft cloud with a simulated partner admin, and
// the options that point Setup at it: the device code is approved by the
// fake's admin, and the "browser" of the consent sign-in is an HTTP client
// that follows the authorize redirect to the loopback listener.
type setupEnv struct {
	t     *testing.T
	s     *testserver.Server
	store *FileStore
	// browser is the consent sign-in's browser; nil means the fake's client.
	browser *http.Client

	mu     sync.Mutex
	events []StepEvent
}

func newSetupEnv(t *testing.T) *setupEnv {
	t.Helper()
	s := testserver.New()
	t.Cleanup(s.Close)
	s.Mutate(func(w *testserver.World) { w.DeviceCode.PendingPolls = 0 })
	return &setupEnv{t: t, s: s, store: NewFileStore(filepath.Join(t.TempDir(), "credentials.json"))}
}

// browse plays the admin's browser: it opens the URL and follows the
// redirects, as far as the loopback listener. A form_post answer (the
// page whose script posts the code to the redirect URI, which MSAL asks
// for) is submitted as the script would.
func (e *setupEnv) browse(u string) error {
	browser := e.browser
	if browser == nil {
		browser = e.s.Client()
	}
	resp, err := browser.Get(u)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the sign-in page answered %s", resp.Status)
	}
	action := formAction.FindSubmatch(body)
	if action == nil {
		return nil
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllSubmatch(body, -1) {
		form.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
	}
	resp, err = browser.PostForm(html.UnescapeString(string(action[1])), form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("posting the sign-in form answered %s", resp.Status)
	}
	return nil
}

var (
	formAction  = regexp.MustCompile(`<form method="POST" name="hiddenform" action="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

func (e *setupEnv) options() SetupOptions {
	return SetupOptions{
		cloud:             e.s.Cloud(),
		httpClient:        e.s.Client(),
		BootstrapClientID: e.s.BootstrapClientID,
		AdminSignIn:       DeviceCodeSignIn{Prompt: func(string) {}},
		Consent:           LoopbackConsent{OpenBrowser: e.browse},
		ConsentTimeout:    30 * time.Second,
		Store:             e.store,
		Progress:          e.record,
	}
}

func (e *setupEnv) record(ev StepEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

func (e *setupEnv) steps(status StepStatus) []Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Step
	for _, ev := range e.events {
		if ev.Status == status {
			out = append(out, ev.Step)
		}
	}
	return out
}

// setup runs Setup and fails the test if it fails.
func (e *setupEnv) setup(ctx context.Context, opts SetupOptions) *SetupResult {
	e.t.Helper()
	res, err := Setup(ctx, opts)
	if err != nil {
		e.t.Fatalf("Setup: %v", err)
	}
	return res
}

// provider returns a token provider over the stored credentials.
func (e *setupEnv) provider() *token.Provider {
	e.t.Helper()
	return e.partner().Provider()
}

// partner opens the saved credentials as a Partner on the fake.
func (e *setupEnv) partner(opts ...Option) *Partner {
	e.t.Helper()
	p, err := Open(e.t.Context(), e.store, append([]Option{WithCloud(e.s.Cloud()), WithHTTPClient(e.s.Client())}, opts...)...)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	return p
}

// worldState is what of the fake's directory a Setup run could leave
// behind: applications, service principals, grants, assignments and
// secrets, by id. The bootstrap client's own grants are left out: the
// admin's sign-in consents it (as signing in to Microsoft Graph
// PowerShell does), which is no object of the run's.
type worldState struct {
	apps, sps, grants, assignments, secrets map[string]string
	grantScopes                             map[string]string
}

func (e *setupEnv) snapshot() worldState {
	st := worldState{apps: map[string]string{}, sps: map[string]string{}, grants: map[string]string{},
		assignments: map[string]string{}, secrets: map[string]string{}, grantScopes: map[string]string{}}
	e.s.Read(func(w *testserver.World) {
		for _, a := range w.Apps {
			st.apps[a.AppID] = a.DisplayName
			for _, p := range a.Passwords {
				st.secrets[p.KeyID] = a.AppID
			}
		}
		for _, t := range w.Tenants {
			for _, sp := range t.ServicePrincipals {
				st.sps[sp.ID] = t.ID + " " + sp.AppID
			}
			boot := t.ServicePrincipalByAppID(e.s.BootstrapClientID)
			for _, g := range t.Grants {
				if boot != nil && g.ClientID == boot.ID {
					continue
				}
				st.grants[g.ID] = t.ID + " " + g.ClientID + " → " + g.ResourceID
				st.grantScopes[g.ID] = g.Scope
			}
			for _, a := range t.AppRoleAssignments {
				st.assignments[a.ID] = t.ID + " " + a.PrincipalID + " → " + a.AppRoleID
			}
		}
	})
	return st
}

// added lists what after holds that before did not.
func (before worldState) added(after worldState) []string {
	var out []string
	for _, kind := range []struct {
		name   string
		b, a   map[string]string
		values bool
	}{
		{"application", before.apps, after.apps, false},
		{"service principal", before.sps, after.sps, false},
		{"grant", before.grants, after.grants, false},
		{"grant scope", before.grantScopes, after.grantScopes, true},
		{"app role assignment", before.assignments, after.assignments, false},
		{"secret", before.secrets, after.secrets, false},
	} {
		for id, v := range kind.a {
			old, ok := kind.b[id]
			switch {
			case !ok && !kind.values:
				out = append(out, kind.name+" "+id+" ("+v+")")
			case ok && kind.values && old != v:
				out = append(out, kind.name+" of "+id+" changed from "+old+" to "+v)
			}
		}
	}
	slices.Sort(out)
	return out
}

// appsNamed returns the app ids of the fake's applications called name.
func (e *setupEnv) appsNamed(name string) []string {
	var ids []string
	e.s.Read(func(w *testserver.World) {
		for _, a := range w.Apps {
			if strings.EqualFold(a.DisplayName, name) {
				ids = append(ids, a.AppID)
			}
		}
	})
	return ids
}

// graphCreates counts the requests that create directory objects.
func (e *setupEnv) graphCreates() int {
	return e.s.Count(func(r testserver.Request) bool {
		if r.Service != "graph" || r.Method != http.MethodPost {
			return false
		}
		return strings.HasSuffix(r.Path, "/applications") || strings.HasSuffix(r.Path, "/servicePrincipals") ||
			strings.HasSuffix(r.Path, "/oauth2PermissionGrants") || strings.HasSuffix(r.Path, "/appRoleAssignedTo") ||
			strings.HasSuffix(r.Path, "/addPassword")
	})
}

// clockWaits is a Sleep (of OnboardOptions, RotateOptions or SetupOptions)
// that moves the fake's clock instead of waiting, and keeps the waits it
// was asked for.
type clockWaits struct {
	s     *testserver.Server
	mu    sync.Mutex
	waits []time.Duration
}

func (c *clockWaits) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	c.s.Clock().Advance(d)
	return ctx.Err()
}

// All returns the waits asked for so far, and their sum.
func (c *clockWaits) All() ([]time.Duration, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum time.Duration
	for _, d := range c.waits {
		sum += d
	}
	return slices.Clone(c.waits), sum
}
