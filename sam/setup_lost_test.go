package sam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

// lossMode is how a write of Setup goes wrong.
type lossMode int

const (
	// loseResponse lets the fake carry the write out and loses its answer,
	// and the answers of the client's replays of it, as a dropped
	// connection or a timing-out proxy does.
	loseResponse lossMode = iota
	// cancelAfter delivers the answer and cancels the run at once, as a
	// person pressing Ctrl-C while the write is under way does.
	cancelAfter
)

func (m lossMode) String() string { return [...]string{"lose response", "cancel after"}[m] }

// writeFaults is a transport under Setup's HTTP client that counts the
// writes to Microsoft Graph and makes one of them go wrong. Once the run
// starts to roll back, it lets everything through: the property under
// test is that a rollback that works undoes everything, including a write
// whose outcome the run never learnt.
type writeFaults struct {
	base   http.RoundTripper
	target int // the write that goes wrong, from 1; 0 for none
	mode   lossMode
	cancel context.CancelFunc

	mu       sync.Mutex
	writes   []string // the writes seen before the rollback, in order
	lost     string   // the write that went wrong, as "METHOD path"
	rollback bool
}

func (f *writeFaults) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.Method + " " + r.URL.Path
	write := r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/graph/")
	f.mu.Lock()
	hit := false
	if write && !f.rollback {
		// A replay of the lost write is lost too, so that the write fails
		// as it would if the network stayed bad.
		if f.lost == "" {
			f.writes = append(f.writes, key)
			if len(f.writes) == f.target {
				f.lost, hit = key, true
			}
		} else {
			hit = key == f.lost && f.mode == loseResponse
		}
	}
	f.mu.Unlock()
	resp, err := f.base.RoundTrip(r)
	if err != nil || !hit {
		return resp, err
	}
	if f.mode == cancelAfter {
		f.cancel()
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, fmt.Errorf("read tcp: connection reset by peer (the answer to %s was lost)", key)
}

func (f *writeFaults) rollingBack() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollback = true
}

func (f *writeFaults) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

// tenantState is everything of the fake's directory that a run of Setup
// may change, down to each property Setup writes; secrets by key id and
// name, never by value. The bootstrap client's grants are left out, as
// snapshot leaves them out.
type tenantState struct {
	Apps        map[string]appState
	SPs         map[string]string
	Grants      map[string]string
	Assignments map[string]string
}

type appState struct {
	DisplayName, SignInAudience string
	RequiredResourceAccess      []testserver.RequiredResourceAccess
	Web, Public                 []string
	Secrets                     []string
}

func (e *setupEnv) tenantState() tenantState {
	st := tenantState{Apps: map[string]appState{}, SPs: map[string]string{}, Grants: map[string]string{}, Assignments: map[string]string{}}
	e.s.Read(func(w *testserver.World) {
		for _, a := range w.Apps {
			as := appState{DisplayName: a.DisplayName, SignInAudience: a.SignInAudience,
				RequiredResourceAccess: emptyNil(a.RequiredResourceAccess),
				Web:                    emptyNil(a.WebRedirectURIs), Public: emptyNil(a.PublicRedirectURIs)}
			for i, r := range as.RequiredResourceAccess {
				as.RequiredResourceAccess[i].ResourceAccess = slices.Clone(r.ResourceAccess)
			}
			for _, p := range a.Passwords {
				as.Secrets = append(as.Secrets, p.KeyID+" "+p.DisplayName)
			}
			st.Apps[a.AppID] = as
		}
		for _, t := range w.Tenants {
			boot := t.ServicePrincipalByAppID(e.s.BootstrapClientID)
			for _, sp := range t.ServicePrincipals {
				st.SPs[sp.ID] = t.ID + " " + sp.AppID
			}
			for _, g := range t.Grants {
				if boot != nil && g.ClientID == boot.ID {
					continue
				}
				st.Grants[g.ID] = fmt.Sprintf("%s %s %s→%s %s: %s", t.ID, g.ConsentType, g.ClientID, g.ResourceID, g.PrincipalID, g.Scope)
			}
			for _, a := range t.AppRoleAssignments {
				st.Assignments[a.ID] = t.ID + " " + a.PrincipalID + "→" + a.ResourceID + " " + a.AppRoleID
			}
		}
	})
	return st
}

// emptyNil copies s, an empty list as nil: Graph does not tell a property
// cleared from one never set.
func emptyNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// lostWriteWorld prepares a fake for one scenario and returns the options
// of the run under test.
type lostWriteWorld func(t *testing.T, e *setupEnv) SetupOptions

// newAppWorld is a partner tenant without the app.
func newAppWorld(_ *testing.T, e *setupEnv) SetupOptions { return e.options() }

// existingAppWorld is a partner tenant with an app of an earlier run that
// asked for less, whose redirect URIs and audience a person has since
// changed, and a run with no stored secret: the run under test changes
// the app's settings and an existing grant's scope, and adds a secret,
// grants and assignments.
func existingAppWorld(t *testing.T, e *setupEnv) SetupOptions {
	t.Helper()
	graphRes, _ := DefaultManifest().Resource(GraphAppID)
	pcRes, _ := DefaultManifest().Resource(PartnerCenterAppID)
	graphRes.Delegated = graphRes.Delegated[:1]
	graphRes.Application = nil
	opts := e.options()
	opts.Manifest = Manifest{Resources: []ResourceAccess{graphRes, pcRes}}
	first := e.setup(t.Context(), opts)
	e.s.Mutate(func(w *testserver.World) {
		app := w.Apps[first.App.AppID]
		app.SignInAudience = "AzureADMyOrg"
		app.WebRedirectURIs = []string{"https://portal.example/signin"}
		app.PublicRedirectURIs = nil
	})
	opts = e.options()
	opts.Store = nil
	return opts
}

// TestSetupLostWritesRollBack makes each write of Setup go wrong in turn
// — its answer lost, or the run cancelled as it returns — for a new app
// and for an existing one, and checks that the run reports a rollback and
// that the partner tenant is as it was, every property of every object.
func TestSetupLostWritesRollBack(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name  string
		world lostWriteWorld
	}{{"new app", newAppWorld}, {"existing app", existingAppWorld}} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			writes := cleanRunWrites(t, sc.world)
			require.NotEmpty(t, writes, "a clean run made no write to Graph")
			if sc.name == "existing app" {
				require.True(t, slices.ContainsFunc(writes, func(w string) bool { return strings.HasPrefix(w, "PATCH ") && strings.Contains(w, "/applications/") }),
					"the existing-app run should update the app; writes: %v", writes)
				require.True(t, slices.ContainsFunc(writes, func(w string) bool {
					return strings.HasPrefix(w, "PATCH ") && strings.Contains(w, "/oauth2PermissionGrants/")
				}),
					"the existing-app run should widen a grant; writes: %v", writes)
			}
			for _, mode := range []lossMode{loseResponse, cancelAfter} {
				for i, w := range writes {
					t.Run(fmt.Sprintf("%s %d %s", mode, i+1, guids.ReplaceAllString(w, "{id}")), func(t *testing.T) {
						t.Parallel()
						lostWriteCase(t, sc.world, mode, i+1)
					})
				}
			}
		})
	}
}

var guids = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// cleanRunWrites runs Setup without faults and lists its writes.
func cleanRunWrites(t *testing.T, world lostWriteWorld) []string {
	t.Helper()
	e := newSetupEnv(t)
	opts := world(t, e)
	f := &writeFaults{base: e.s.Client().Transport}
	hc := *e.s.Client()
	hc.Transport = f
	opts.httpClient = &hc
	e.setup(t.Context(), opts)
	return f.seen()
}

func lostWriteCase(t *testing.T, world lostWriteWorld, mode lossMode, target int) {
	t.Helper()
	e := newSetupEnv(t)
	opts := world(t, e)
	before := e.tenantState()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := &writeFaults{base: e.s.Client().Transport, target: target, mode: mode, cancel: cancel}
	hc := *e.s.Client()
	hc.Transport = f
	opts.httpClient = &hc
	progress := opts.Progress
	opts.Progress = func(ev StepEvent) {
		if ev.Step == StepRollback && ev.Status == StepStarted {
			f.rollingBack()
		}
		progress(ev)
	}
	_, err := Setup(ctx, opts)

	var se *SetupError
	require.ErrorAs(t, err, &se, "a run whose write %d went wrong must fail", target)
	assert.True(t, se.RolledBack, "RolledBack = false: %v", err)
	assert.NoError(t, se.RollbackErr, "the rollback failed")
	if mode == cancelAfter {
		assert.ErrorIs(t, err, context.Canceled)
	}
	assert.Equal(t, before, e.tenantState(), "the partner tenant after a rolled-back run (write %d: %s)", target, f.lost)
}

// TestWriteFaultsLosesTheAnswerOnly checks the test's own transport: the
// write reaches the fake, and only the answer goes missing.
func TestWriteFaultsLosesTheAnswerOnly(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	f := &writeFaults{base: e.s.Client().Transport, target: 1}
	hc := *e.s.Client()
	hc.Transport = f
	opts := e.options()
	opts.httpClient = &hc
	opts.Progress = func(StepEvent) {}
	// Without a rollback, the app whose create lost its answer stays.
	run := newSetupRun(mustDefaults(t, opts))
	require.NoError(t, run.signIn(t.Context()))
	err := run.ensureApp(t.Context())
	require.Error(t, err, "the create's answer was lost")
	assert.False(t, errors.Is(err, context.Canceled))
	assert.Len(t, e.appsNamed(DefaultDisplayName), 1, "the fake should have made the app whose answer was lost")
	require.NoError(t, run.journal.rollback(t.Context()))
	assert.Empty(t, e.appsNamed(DefaultDisplayName), "the rollback should find and delete the app")
}

func mustDefaults(t *testing.T, o SetupOptions) SetupOptions {
	t.Helper()
	o, err := o.withDefaults()
	require.NoError(t, err)
	return o
}

// TestSetupRefusedChangeNeedsNoRestore: a change Graph refused took no
// effect, so its restore, journaled before it was sent, is forgotten: the
// rollback neither sends it nor fails on it.
func TestSetupRefusedChangeNeedsNoRestore(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/applications/", "/oauth2PermissionGrants/"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			e := newSetupEnv(t)
			opts := existingAppWorld(t, e)
			before := e.tenantState()
			e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusForbidden, Service: "graph", Path: path, Method: http.MethodPatch, Count: 100})
			patches := func() int {
				return e.s.Count(func(r testserver.Request) bool {
					return r.Method == http.MethodPatch && strings.Contains(r.Path, path)
				})
			}
			sent := patches()
			_, err := Setup(t.Context(), opts)
			e.s.ClearFaults()
			var se *SetupError
			require.ErrorAs(t, err, &se)
			assert.True(t, se.RolledBack, "RolledBack")
			assert.NoError(t, se.RollbackErr, "a refused change has nothing to restore")
			assert.Equal(t, 1, patches()-sent, "one PATCH, refused, and no restore")
			assert.Equal(t, before, e.tenantState())
		})
	}
}
