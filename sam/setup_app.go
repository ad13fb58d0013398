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
	"github.com/samkit/samkit/token"
)

// The app registration, its service principals, its secret and its admin
// consent (step 3 of Setup). Every object this run creates, and every
// change it makes to an object that was there before, is journaled so that
// a failure later on undoes it.

var errAmbiguousApp = errors.New("sam: several applications have the display name")

// loopbackRedirectURIs are the web redirect URIs of the consent sign-in.
// They are on the web platform, so that the code they receive is redeemed
// with the app's secret and yields a confidential refresh token, the kind
// token.Provider redeems (a public client's refresh token cannot be
// redeemed with a secret: AADSTS700025). Entra matches loopback redirect
// URIs without their port; 127.0.0.1 is what the loopback listener uses
// (RFC 8252 §8.3 prefers the IP literal) and http://localhost is what a
// person pastes from on a headless box.
// https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions
var loopbackRedirectURIs = []string{"http://localhost", "http://127.0.0.1"}

// nativeRedirectURI is the native-client redirect URI older SAM tooling
// (Partner Center PowerShell) signs in with as a public client.
func nativeRedirectURI(login string) string { return login + "/organizations/oauth2/nativeclient" }

// wantApp is the registration Setup asks for.
func (r *setupRun) wantApp() graph.Application {
	return graph.Application{
		DisplayName:            r.opts.DisplayName,
		SignInAudience:         graph.SignInAudienceMultipleOrgs,
		RequiredResourceAccess: toGraphAccess(r.opts.Manifest.RequiredResourceAccess()),
		Web:                    graph.WebApplication{RedirectURIs: slices.Clone(loopbackRedirectURIs)},
		PublicClient:           graph.PublicClientApplication{RedirectURIs: []string{nativeRedirectURI(r.opts.cloud.LoginEndpoint)}},
	}
}

func toGraphAccess(in []RequiredResourceAccess) []graph.RequiredResourceAccess {
	out := make([]graph.RequiredResourceAccess, 0, len(in))
	for _, r := range in {
		g := graph.RequiredResourceAccess{ResourceAppID: r.ResourceAppID, ResourceAccess: make([]graph.ResourceAccess, 0, len(r.ResourceAccess))}
		for _, a := range r.ResourceAccess {
			g.ResourceAccess = append(g.ResourceAccess, graph.ResourceAccess{ID: a.ID, Type: a.Type})
		}
		out = append(out, g)
	}
	return out
}

// ensureApp finds the app by display name and brings it up to date, or
// creates it.
func (r *setupRun) ensureApp(ctx context.Context) error {
	name := r.opts.DisplayName
	apps, err := graph.Collect(r.graph.ApplicationsByDisplayName(ctx, name))
	if err != nil {
		return fmt.Errorf("sam: looking for applications named %q: %w", name, err)
	}
	switch len(apps) {
	case 0:
		return r.createApp(ctx, apps)
	case 1:
		r.app = apps[0]
		return r.updateApp(ctx)
	}
	ids := make([]string, 0, len(apps))
	for _, a := range apps {
		ids = append(ids, a.AppID)
	}
	return fmt.Errorf("%w %q: %s", errAmbiguousApp, name, strings.Join(ids, ", "))
}

func (r *setupRun) createApp(ctx context.Context, before []graph.Application) error {
	app, err := r.graph.CreateApplication(ctx, r.wantApp())
	if err != nil {
		if uncertain(err) {
			r.journal.add("delete any application named "+r.opts.DisplayName+" this run created", r.reconcileApps(before))
		}
		return fmt.Errorf("sam: creating the application: %w", err)
	}
	r.app, r.created = app, true
	r.journal.add("delete application "+app.AppID, func(ctx context.Context) error {
		return r.graph.DeleteApplication(ctx, app.ID)
	})
	r.info(StepApp, "created application %s (%s)", app.DisplayName, app.AppID)
	return nil
}

// reconcileApps deletes the applications with the run's display name that
// were not among before: a create whose answer was lost may have made one.
// A new application can be missing from lists for seconds while it
// replicates, so an empty answer is read again a few times before it is
// believed; the app is the one object whose orphan would cost the partner
// most.
func (r *setupRun) reconcileApps(before []graph.Application) func(context.Context) error {
	return func(ctx context.Context) error {
		for attempt := 0; ; attempt++ {
			now, err := graph.Collect(r.graph.ApplicationsByDisplayName(ctx, r.opts.DisplayName))
			if err != nil {
				return err
			}
			var errs []error
			found := false
			for _, a := range now {
				if !slices.ContainsFunc(before, func(b graph.Application) bool { return b.ID == a.ID }) {
					found = true
					errs = append(errs, r.graph.DeleteApplication(ctx, a.ID))
				}
			}
			if found || attempt == reconcileReads-1 {
				return errors.Join(errs...)
			}
			t := time.NewTimer(reconcileWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// reconcileReads and reconcileWait bound the search for an application
// whose create lost its answer.
const (
	reconcileReads = 3
	reconcileWait  = 2 * time.Second
)

// updateApp adds to an existing app what Setup needs and it lacks —
// multi-tenant sign-in, the manifest's permissions, the redirect URIs —
// and keeps everything else it has: permissions and redirect URIs a
// partner added by hand stay.
func (r *setupRun) updateApp(ctx context.Context) error {
	have, want := r.app, r.wantApp()
	var patch, restore graph.Application
	changed := false
	if have.SignInAudience != want.SignInAudience {
		patch.SignInAudience, restore.SignInAudience, changed = want.SignInAudience, have.SignInAudience, true
	}
	if rra, ok := mergeAccess(have.RequiredResourceAccess, want.RequiredResourceAccess); ok {
		patch.RequiredResourceAccess, restore.RequiredResourceAccess, changed = rra, nonNil(have.RequiredResourceAccess), true
	}
	if uris, ok := mergeStrings(have.Web.RedirectURIs, want.Web.RedirectURIs); ok {
		patch.Web.RedirectURIs, restore.Web.RedirectURIs, changed = uris, nonNil(have.Web.RedirectURIs), true
	}
	if uris, ok := mergeStrings(have.PublicClient.RedirectURIs, want.PublicClient.RedirectURIs); ok {
		patch.PublicClient.RedirectURIs, restore.PublicClient.RedirectURIs, changed = uris, nonNil(have.PublicClient.RedirectURIs), true
	}
	r.info(StepApp, "found application %s (%s)", have.DisplayName, have.AppID)
	if !changed {
		return nil
	}
	// restore is journaled before the PATCH is sent: a PATCH whose answer
	// is lost, or a run cancelled as it returns, may have changed the app
	// all the same. restore sets exactly the properties the PATCH sets,
	// to the values they had, so it is right whether or not the PATCH
	// took effect.
	forget := r.journal.add("restore the settings of application "+have.AppID, func(ctx context.Context) error {
		return r.graph.UpdateApplication(ctx, have.ID, restore)
	})
	if err := r.graph.UpdateApplication(ctx, have.ID, patch); err != nil {
		if !uncertain(err) {
			// Refused: nothing changed, and a restore would likely be
			// refused too, for the same reason.
			forget()
		}
		return fmt.Errorf("sam: updating application %s: %w", have.AppID, err)
	}
	if patch.SignInAudience != "" {
		r.app.SignInAudience = patch.SignInAudience
	}
	if patch.RequiredResourceAccess != nil {
		r.app.RequiredResourceAccess = patch.RequiredResourceAccess
	}
	if patch.Web.RedirectURIs != nil {
		r.app.Web.RedirectURIs = patch.Web.RedirectURIs
	}
	if patch.PublicClient.RedirectURIs != nil {
		r.app.PublicClient.RedirectURIs = patch.PublicClient.RedirectURIs
	}
	r.info(StepApp, "updated application %s", have.AppID)
	return nil
}

// nonNil makes an empty list explicit, so that restoring it clears the
// property rather than leaving it out of the PATCH.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// mergeAccess adds want's permissions to have's and reports whether any
// was missing.
func mergeAccess(have, want []graph.RequiredResourceAccess) ([]graph.RequiredResourceAccess, bool) {
	out := make([]graph.RequiredResourceAccess, 0, len(have)+len(want))
	for _, h := range have {
		out = append(out, graph.RequiredResourceAccess{ResourceAppID: h.ResourceAppID, ResourceAccess: slices.Clone(h.ResourceAccess)})
	}
	changed := false
	for _, w := range want {
		i := slices.IndexFunc(out, func(o graph.RequiredResourceAccess) bool { return strings.EqualFold(o.ResourceAppID, w.ResourceAppID) })
		if i < 0 {
			out = append(out, graph.RequiredResourceAccess{ResourceAppID: w.ResourceAppID, ResourceAccess: slices.Clone(w.ResourceAccess)})
			changed = true
			continue
		}
		for _, a := range w.ResourceAccess {
			if !slices.ContainsFunc(out[i].ResourceAccess, func(o graph.ResourceAccess) bool {
				return strings.EqualFold(o.ID, a.ID) && o.Type == a.Type
			}) {
				out[i].ResourceAccess = append(out[i].ResourceAccess, a)
				changed = true
			}
		}
	}
	return out, changed
}

func mergeStrings(have, want []string) ([]string, bool) {
	out := slices.Clone(have)
	changed := false
	for _, w := range want {
		if !slices.Contains(out, w) {
			out = append(out, w)
			changed = true
		}
	}
	return out, changed
}

// ensureServicePrincipals gives the app a service principal in the partner
// tenant, without which it cannot be consented or sign anyone in, and
// makes sure every resource it asks permissions of has one.
//
// A resource's service principal that Setup had to create is not removed
// by a rollback: it is Microsoft's application, not the partner's, any
// consent would have created it, and other apps may start to rely on it
// the moment it exists.
func (r *setupRun) ensureServicePrincipals(ctx context.Context) error {
	sp, found, err := r.findSP(ctx, r.app.AppID, r.created)
	if err != nil {
		return err
	}
	if !found {
		if sp, err = r.graph.CreateServicePrincipal(ctx, r.app.AppID); err != nil {
			if uncertain(err) && !r.created {
				r.journal.add("delete the service principal of application "+r.app.AppID, r.deleteClientSP)
			}
			return fmt.Errorf("sam: creating the service principal of application %s: %w", r.app.AppID, err)
		}
		if !r.created {
			// The app's deletion takes the service principal of an app this
			// run created with it; one added to an existing app goes alone.
			r.journal.add("delete the service principal of application "+r.app.AppID, r.deleteClientSP)
		}
		r.info(StepServicePrincipals, "created the service principal of %s", r.app.AppID)
	}
	r.clientSP = sp
	r.resourceSPs = map[string]graph.ServicePrincipal{}
	for _, res := range r.opts.Manifest.Resources {
		rsp, found, err := r.findSP(ctx, res.ResourceAppID, false)
		if err != nil {
			return err
		}
		if !found {
			if rsp, err = r.graph.CreateServicePrincipal(ctx, res.ResourceAppID); err != nil {
				return fmt.Errorf("sam: creating the service principal of %s in the partner tenant: %w", res.label(), err)
			}
			r.info(StepServicePrincipals, "created the service principal of %s", res.label())
		}
		if err := checkPublished(res, rsp); err != nil {
			return err
		}
		r.resourceSPs[strings.ToLower(res.ResourceAppID)] = rsp
	}
	return nil
}

// findSP looks appID's service principal up. For an app this run has just
// created there is none to find, and asking would wait out the replication
// delay the Graph client allows new objects.
func (r *setupRun) findSP(ctx context.Context, appID string, justCreated bool) (graph.ServicePrincipal, bool, error) {
	if justCreated {
		return graph.ServicePrincipal{}, false, nil
	}
	sp, err := r.graph.ServicePrincipalByAppID(ctx, appID)
	switch {
	case errors.Is(err, graph.ErrNotFound):
		return graph.ServicePrincipal{}, false, nil
	case err != nil:
		return graph.ServicePrincipal{}, false, fmt.Errorf("sam: looking up the service principal of %s: %w", appID, err)
	}
	return sp, true, nil
}

// deleteClientSP deletes the app's service principal in the partner tenant,
// if it has one.
func (r *setupRun) deleteClientSP(ctx context.Context) error {
	sp, err := r.graph.ServicePrincipalByAppID(ctx, r.app.AppID)
	if err != nil {
		return err
	}
	return r.graph.DeleteServicePrincipal(ctx, sp.ID)
}

// checkPublished refuses a manifest permission its resource does not
// publish: Graph would accept the registration and fail only the consent,
// far from the cause. A service principal that lists no permissions (when
// they were not returned) is not checked.
func checkPublished(res ResourceAccess, sp graph.ServicePrincipal) error {
	if len(sp.OAuth2PermissionScopes) > 0 {
		for _, p := range res.Delegated {
			if !slices.ContainsFunc(sp.OAuth2PermissionScopes, func(s graph.PermissionScope) bool {
				return strings.EqualFold(s.ID, p.ID) || strings.EqualFold(s.Value, p.Name)
			}) {
				return fmt.Errorf("sam: %s publishes no delegated permission %s (%s): fix the manifest", res.label(), p.Name, p.ID)
			}
		}
	}
	if len(sp.AppRoles) > 0 {
		for _, p := range res.Application {
			if !slices.ContainsFunc(sp.AppRoles, func(a graph.AppRole) bool { return strings.EqualFold(a.ID, p.ID) }) {
				return fmt.Errorf("sam: %s publishes no application permission %s (%s): fix the manifest", res.label(), p, p.ID)
			}
		}
	}
	return nil
}

// ensureSecret reuses the stored client secret if it still works for this
// app, and adds a new one otherwise.
func (r *setupRun) ensureSecret(ctx context.Context) error {
	if s, ok := r.storedSecret(ctx); ok {
		if err := r.appTokenWorks(ctx, s); err == nil {
			r.secret = s
			r.info(StepSecret, "the stored client secret works: reusing it")
			return nil
		}
		r.warn("The stored client secret of the app no longer works; a new one was added. Remove the old one once nothing uses it (samctl inspect lists them).")
	}
	before := keyIDs(r.app.PasswordCredentials)
	now := time.Now()
	pc, err := r.graph.AddPassword(ctx, r.app.ID, graph.PasswordCredential{DisplayName: secretDisplayName(now), EndDateTime: now.Add(r.opts.SecretLifetime)})
	if err != nil {
		if uncertain(err) {
			r.journal.add("remove the client secrets this run added", r.reconcileSecrets(before, secretDisplayName(now)))
		}
		return fmt.Errorf("sam: adding a client secret: %w", err)
	}
	r.journal.add("remove client secret "+pc.KeyID, func(ctx context.Context) error {
		return r.graph.RemovePassword(ctx, r.app.ID, pc.KeyID)
	})
	r.secret, r.secretKeyID = pc.SecretText, pc.KeyID
	r.info(StepSecret, "added client secret %s…, valid until %s", pc.Hint, pc.EndDateTime.Format(time.DateOnly))
	return r.waitForSecret(ctx)
}

// storedSecret returns the Store's client secret when it belongs to this
// app.
func (r *setupRun) storedSecret(ctx context.Context) (token.Secret, bool) {
	if r.opts.Store == nil || r.created {
		return token.Secret{}, false
	}
	c, err := r.opts.Store.Load(ctx)
	switch {
	case errors.Is(err, ErrNoCredentials):
		return token.Secret{}, false
	case err != nil:
		r.warn("The credential store could not be read (" + err.Error() + "); a new client secret was added.")
		return token.Secret{}, false
	}
	if !strings.EqualFold(c.ApplicationID, r.app.AppID) || c.ClientSecret.IsZero() {
		return token.Secret{}, false
	}
	return c.ClientSecret, true
}

func keyIDs(pcs []graph.PasswordCredential) []string {
	ids := make([]string, 0, len(pcs))
	for _, p := range pcs {
		ids = append(ids, strings.ToLower(p.KeyID))
	}
	return ids
}

// reconcileSecrets removes the secrets named name that were not among
// before: an addPassword whose answer was lost may have added one.
func (r *setupRun) reconcileSecrets(before []string, name string) func(context.Context) error {
	return func(ctx context.Context) error {
		app, err := r.graph.GetApplication(ctx, r.app.ID)
		if err != nil {
			return err
		}
		var errs []error
		for _, p := range app.PasswordCredentials {
			if p.DisplayName == name && !slices.Contains(before, strings.ToLower(p.KeyID)) {
				errs = append(errs, r.graph.RemovePassword(ctx, r.app.ID, p.KeyID))
			}
		}
		return errors.Join(errs...)
	}
}

// appTokenWorks asks for an app-only token with secret in the partner
// tenant: the cheapest proof that the identity platform accepts it.
func (r *setupRun) appTokenWorks(ctx context.Context, secret token.Secret) error {
	return r.appCredentialWorks(ctx, token.Credentials{TenantID: r.partner, ApplicationID: r.app.AppID, ClientSecret: secret})
}

// appCredentialWorks asks for an app-only token in the partner tenant with
// c's secret or, without one, its certificate.
func (r *setupRun) appCredentialWorks(ctx context.Context, c token.Credentials) error {
	return appCredentialWorks(ctx, c, r.opts.cloud, r.hc, r.opts.logger, r.opts.product)
}

// appCredentialWorks asks for an app-only token in c's tenant with c's
// secret or, without one, its certificate: the cheapest proof that the
// identity platform accepts that credential.
func appCredentialWorks(ctx context.Context, c token.Credentials, cl cloud.Configuration, hc *http.Client, log *slog.Logger, product string) error {
	p, err := token.NewProvider(token.Credentials{TenantID: c.TenantID, ApplicationID: c.ApplicationID, ClientSecret: c.ClientSecret, Certificate: c.Certificate},
		token.WithCloud(cl), token.WithHTTPClient(hc), token.WithLogger(log), token.WithUserAgent(product))
	if err != nil {
		return err
	}
	_, err = p.AppToken(ctx, c.TenantID, cl.Graph.Scope())
	return err
}

// secretReadyTimeout bounds the wait for a new credential to reach every
// replica of the identity platform.
const secretReadyTimeout = 2 * time.Minute

// errNotReplicated is waitCredentialReady's error once its waits are
// spent: the identity platform still refuses the new credential.
var errNotReplicated = errors.New("the identity platform still refuses it while it replicates")

// waitForSecret waits until the new secret is accepted. A secret is
// usually usable at once, but can take seconds to replicate; the consent
// sign-in's code is single use, so it must not meet a secret that is not
// there yet.
func (r *setupRun) waitForSecret(ctx context.Context) error {
	err := waitCredentialReady(ctx, r.opts.Sleep, func(ctx context.Context) error { return r.appTokenWorks(ctx, r.secret) })
	if err != nil {
		return fmt.Errorf("sam: the new client secret (key id %s) does not work: %w", r.secretKeyID, err)
	}
	return nil
}

// waitCredentialReady calls try until the identity platform stops
// refusing the new credential as unknown (it has replicated), waiting
// between attempts with sleep (a timer when nil) and giving up once the
// waits add up to secretReadyTimeout. The waits are counted rather than
// read off a clock, so that an injected sleep bounds the loop as well.
// Its errors leave naming the credential to the caller.
func waitCredentialReady(ctx context.Context, sleep func(context.Context, time.Duration) error, try func(context.Context) error) error {
	if sleep == nil {
		sleep = sleepCtx
	}
	var waited time.Duration
	wait := time.Second
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, token.ErrInvalidClient) && !errors.Is(err, token.ErrAppNotFound) {
			return err
		}
		if waited+wait > secretReadyTimeout {
			return fmt.Errorf("%w, after %v of retries: %w", errNotReplicated, waited, err)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		waited += wait
		wait = min(2*wait, 10*time.Second)
	}
}

// ensureAdminConsent grants the app, in the partner tenant, what the
// portal's "Grant admin consent" button grants: an AllPrincipals
// oauth2PermissionGrant per resource for the delegated permissions, and
// an app role assignment per application permission.
func (r *setupRun) ensureAdminConsent(ctx context.Context) error {
	grants, err := graph.Collect(r.graph.OAuth2PermissionGrants(ctx, r.clientSP.ID))
	if err != nil {
		return fmt.Errorf("sam: reading the app's delegated grants: %w", err)
	}
	assignments, err := graph.Collect(r.graph.AppRoleAssignments(ctx, r.clientSP.ID))
	if err != nil {
		return fmt.Errorf("sam: reading the app's application permissions: %w", err)
	}
	for _, res := range r.opts.Manifest.Resources {
		rsp := r.resourceSPs[strings.ToLower(res.ResourceAppID)]
		if len(res.Delegated) > 0 {
			if err := r.ensureGrant(ctx, res, rsp, grants); err != nil {
				return err
			}
		}
		for _, p := range res.Application {
			if slices.ContainsFunc(assignments, func(a graph.AppRoleAssignment) bool {
				return a.ResourceID == rsp.ID && strings.EqualFold(a.AppRoleID, p.ID)
			}) {
				continue
			}
			if err := r.assign(ctx, res, rsp, p, assignments); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *setupRun) ensureGrant(ctx context.Context, res ResourceAccess, rsp graph.ServicePrincipal, grants []graph.OAuth2PermissionGrant) error {
	i := slices.IndexFunc(grants, func(g graph.OAuth2PermissionGrant) bool {
		return g.ResourceID == rsp.ID && g.ConsentType == graph.ConsentAllPrincipals
	})
	if i < 0 {
		g, err := r.graph.CreateOAuth2PermissionGrant(ctx, graph.OAuth2PermissionGrant{ClientID: r.clientSP.ID,
			ConsentType: graph.ConsentAllPrincipals, ResourceID: rsp.ID, Scope: res.GrantScope()})
		if err != nil {
			if uncertain(err) {
				r.journal.add("delete the delegated grant on "+res.label()+" this run made", r.reconcileGrant(rsp.ID, grants))
			}
			return fmt.Errorf("sam: granting admin consent to the delegated permissions on %s: %w", res.label(), err)
		}
		r.journal.add("delete the delegated grant on "+res.label(), func(ctx context.Context) error {
			return r.graph.DeleteOAuth2PermissionGrant(ctx, g.ID)
		})
		r.info(StepAdminConsent, "granted %s: %s", res.label(), res.GrantScope())
		return nil
	}
	g := grants[i]
	scopes, changed := mergeScopes(g.Scopes(), res.Delegated)
	if !changed {
		return nil
	}
	// Journaled before the write, as updateApp's restore is: setting the
	// old scope back is right whether or not the update took effect.
	old := g.Scope
	forget := r.journal.add("restore the delegated grant on "+res.label(), func(ctx context.Context) error {
		return r.graph.UpdateOAuth2PermissionGrantScope(ctx, g.ID, old)
	})
	if err := r.graph.UpdateOAuth2PermissionGrantScope(ctx, g.ID, strings.Join(scopes, " ")); err != nil {
		if !uncertain(err) {
			forget()
		}
		return fmt.Errorf("sam: adding delegated permissions on %s to the existing grant: %w", res.label(), err)
	}
	r.info(StepAdminConsent, "added to the grant on %s: %s", res.label(), strings.Join(scopes, " "))
	return nil
}

// mergeScopes adds the permissions' names to have, compared without case
// as Entra compares them.
func mergeScopes(have []string, want []Permission) ([]string, bool) {
	out := slices.Clone(have)
	changed := false
	for _, p := range want {
		if !slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(h, p.Name) }) {
			out = append(out, p.Name)
			changed = true
		}
	}
	return out, changed
}

func (r *setupRun) reconcileGrant(resourceSPID string, before []graph.OAuth2PermissionGrant) func(context.Context) error {
	return func(ctx context.Context) error {
		now, err := graph.Collect(r.graph.OAuth2PermissionGrants(ctx, r.clientSP.ID))
		if err != nil {
			return err
		}
		var errs []error
		for _, g := range now {
			if g.ResourceID == resourceSPID && !slices.ContainsFunc(before, func(b graph.OAuth2PermissionGrant) bool { return b.ID == g.ID }) {
				errs = append(errs, r.graph.DeleteOAuth2PermissionGrant(ctx, g.ID))
			}
		}
		return errors.Join(errs...)
	}
}

func (r *setupRun) assign(ctx context.Context, res ResourceAccess, rsp graph.ServicePrincipal, p Permission, before []graph.AppRoleAssignment) error {
	a, err := r.graph.AssignAppRole(ctx, rsp.ID, graph.AppRoleAssignment{PrincipalID: r.clientSP.ID, AppRoleID: p.ID})
	if err != nil {
		if uncertain(err) {
			r.journal.add("delete the assignment of "+p.String()+" this run made", r.reconcileAssignment(rsp.ID, p.ID, before))
		}
		return fmt.Errorf("sam: granting admin consent to application permission %s on %s: %w", p, res.label(), err)
	}
	r.journal.add("delete the assignment of "+p.String(), func(ctx context.Context) error {
		return r.graph.DeleteAppRoleAssignment(ctx, r.clientSP.ID, a.ID)
	})
	r.info(StepAdminConsent, "granted application permission %s on %s", p, res.label())
	return nil
}

func (r *setupRun) reconcileAssignment(resourceSPID, roleID string, before []graph.AppRoleAssignment) func(context.Context) error {
	return func(ctx context.Context) error {
		now, err := graph.Collect(r.graph.AppRoleAssignments(ctx, r.clientSP.ID))
		if err != nil {
			return err
		}
		var errs []error
		for _, a := range now {
			if a.ResourceID == resourceSPID && strings.EqualFold(a.AppRoleID, roleID) &&
				!slices.ContainsFunc(before, func(b graph.AppRoleAssignment) bool { return b.ID == a.ID }) {
				errs = append(errs, r.graph.DeleteAppRoleAssignment(ctx, r.clientSP.ID, a.ID))
			}
		}
		return errors.Join(errs...)
	}
}
