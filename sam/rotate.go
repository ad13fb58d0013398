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

// CredentialKind names a kind of app credential.
type CredentialKind string

// The kinds of credential a rotation replaces.
const (
	CredentialSecret      CredentialKind = "secret"
	CredentialCertificate CredentialKind = "certificate"
)

// RotateOptions configures Partner.RotateCredentials and
// Partner.RotateSecret.
type RotateOptions struct {
	// Kind is what to replace; "" means the kind the store holds: the
	// certificate of a certificate-only app, else the client secret.
	// RotateSecret always replaces the secret.
	Kind CredentialKind
	// Unattended changes the app through the SAM refresh token's own
	// delegated permissions, with no sign-in: for cron jobs and timers.
	// The app needs Application.ReadWrite.All (delegated), which
	// UnattendedRotationManifest adds; without it the rotation fails with
	// ErrRotationPermission before anything changes.
	Unattended bool
	// AdminSignIn signs in an admin of the partner tenant, who may add and
	// remove the app's credentials, when the rotation is not Unattended;
	// nil means DeviceCodeSignIn{}.
	AdminSignIn AdminSignIn
	// BootstrapClientID is the public client the admin signs in with;
	// GraphCommandLineToolsClientID when empty.
	BootstrapClientID string
	// Progress, if set, is called as the admin's sign-in starts, ends and
	// needs the admin to act.
	Progress func(StepEvent)
	// Lifetime is how long a new secret is valid; DefaultSecretLifetime
	// when zero, at most two years.
	Lifetime time.Duration
	// Certificate shapes a new certificate; its zero value makes an RSA
	// 2048 certificate valid for a year, named after the app.
	Certificate CertificateOptions
	// Verify proves that credentials work. The default asks for an
	// app-only token in the partner tenant, retrying for up to two
	// minutes while a new credential replicates.
	Verify func(ctx context.Context, c token.Credentials) error
	// Sleep waits between the default verification's attempts; nil means
	// a timer. Tests give one that moves a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// rotation is what rotateCredential needs: the Graph client of an
// identity that may change the app, the store, and the settings of the
// Partner.
type rotation struct {
	// Graph updates the app: a client in the partner tenant whose identity
	// may add and remove the app's credentials (an admin, see adminGraph,
	// or the SAM app acting as the admin with Application.ReadWrite.All).
	Graph *graph.Client
	// Store holds the credentials whose secret or certificate is rotated.
	Store Store
	// Kind is what to replace; "" means CredentialSecret.
	Kind CredentialKind
	// Cloud is the Microsoft cloud; the zero value means cloud.Public.
	Cloud cloud.Configuration
	// HTTPClient carries the verification's token requests.
	HTTPClient  *http.Client
	Lifetime    time.Duration
	Certificate CertificateOptions
	Verify      func(ctx context.Context, c token.Credentials) error
	Sleep       func(ctx context.Context, d time.Duration) error
	// Logger receives debug logs, secrets redacted.
	Logger *slog.Logger
	// product names the caller's product in the verification's token
	// requests (WithUserAgent).
	product string

	// crashAt, in tests, stops the rotation dead at a named point, as a
	// killed process stops: it returns true to stop.
	crashAt func(point string) bool
}

// RotateResult describes a rotation.
type RotateResult struct {
	// Kind is what was replaced.
	Kind CredentialKind
	// KeyID and End describe the new credential, now in the store; Hint
	// starts a new secret, Thumbprint (SHA-1, upper-case hex, as inspect shows it) names a new
	// certificate.
	KeyID, Hint, Thumbprint string
	End                     time.Time
	// RemovedKeyID is the credential that was replaced and removed; ""
	// when the stored one could not be matched to one of the app's (secrets
	// are told apart by their first characters), which are then all left
	// in place.
	RemovedKeyID string
	// RemovedLeftovers are the key ids of credentials an interrupted
	// earlier rotation or setup had added and not removed, which this one
	// removed.
	RemovedLeftovers []string
}

// ErrOldSecretKept means the rotation succeeded (the store holds the new,
// working credential) but the old one could not be removed from the app.
var ErrOldSecretKept = errors.New("sam: the previous credential is still on the app")

// ErrRotationPermission means an unattended rotation cannot change the
// app: the SAM refresh token's delegated permissions lack
// Application.ReadWrite.All.
var ErrRotationPermission = errors.New("sam: the SAM app may not change its own credentials")

// RotateSecret replaces the client secret in the Partner's store; it is
// RotateCredentials with opts.Kind CredentialSecret.
func (p *Partner) RotateSecret(ctx context.Context, opts RotateOptions) (RotateResult, error) {
	opts.Kind = CredentialSecret
	return p.RotateCredentials(ctx, opts)
}

// RotateCredentials replaces the client secret or the certificate in the
// Partner's store: it adds a new one to the app, saves it, checks at the
// token endpoint that it works (retrying while Entra replicates it), and
// only then removes the old one. The new credential is checked before it
// is saved so that the store never holds one that does not work; if
// checking or saving fails, the new one is removed and the store keeps the
// old one. A certificate is added with Graph's addKey and removed with
// removeKey, each proven with a JWT signed by the stored certificate (a
// store with none yet has the first registered with a PATCH).
//
// Opts.Unattended changes the app through the SAM refresh token, with no
// sign-in; otherwise an admin of the partner tenant signs in first.
//
// A rotation is resumable. Every credential samkit adds is named with
// SecretNamePrefix, so a rotation killed between adding and saving, or
// between saving and removing, leaves one the next rotation recognises:
// before adding its own, RotateCredentials checks that the stored
// credential works and then removes the app's other samkit credentials of
// that kind (Inspection.Leftovers lists the secrets). It never removes the
// stored credential, nor one samkit did not add. So keep one credential
// store per app, and do not run two rotations of one app at once: each
// would take the other's new credential for a leftover.
//
// The Partner's Provider keeps the credentials it was opened with: Open
// the store again to use the new one for app-only tokens.
func (p *Partner) RotateCredentials(ctx context.Context, opts RotateOptions) (RotateResult, error) {
	if p.store == nil {
		return RotateResult{}, errors.New("sam: a rotation saves the new credential to the Partner's store, and this Partner has none: build it with Open")
	}
	if err := checkLifetime(opts.Lifetime); err != nil {
		return RotateResult{}, err
	}
	if opts.Kind == "" {
		opts.Kind = CredentialSecret
		if c, err := p.store.Load(ctx); err == nil && c.ClientSecret.IsZero() && c.Certificate != nil {
			opts.Kind = CredentialCertificate
		}
	}
	if opts.Kind != CredentialSecret && opts.Kind != CredentialCertificate {
		return RotateResult{}, fmt.Errorf("sam: RotateOptions.Kind %q: give %q or %q", opts.Kind, CredentialSecret, CredentialCertificate)
	}
	var g *graph.Client
	var err error
	if opts.Unattended {
		if err := p.checkRotationPermission(ctx); err != nil {
			return RotateResult{}, err
		}
		g, err = p.graph(p.p.TenantID())
	} else {
		g, err = adminGraph(ctx, SetupOptions{cloud: p.Cloud(), httpClient: p.p.HTTPClient(), Tenant: p.p.TenantID(),
			AdminSignIn: opts.AdminSignIn, BootstrapClientID: opts.BootstrapClientID, Progress: opts.Progress, logger: p.log, product: p.product})
	}
	if err != nil {
		return RotateResult{}, err
	}
	return rotateCredential(ctx, rotation{Graph: g, Store: p.store, Kind: opts.Kind, Cloud: p.Cloud(), HTTPClient: p.p.HTTPClient(),
		Lifetime: opts.Lifetime, Certificate: opts.Certificate, Verify: opts.Verify, Sleep: opts.Sleep, Logger: p.log, product: p.product})
}

// rotationScopes are the delegated permissions that let the SAM app, as
// the admin, add and remove its own credentials: the least privileged
// first (https://learn.microsoft.com/graph/api/application-addpassword,
// https://learn.microsoft.com/graph/api/application-addkey).
var rotationScopes = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}

// checkRotationPermission fails with ErrRotationPermission unless the SAM
// refresh token's Graph token in the partner tenant carries a permission
// that may change the app.
func (p *Partner) checkRotationPermission(ctx context.Context) error {
	tok, err := p.p.Token(ctx, p.p.TenantID(), p.Cloud().Graph.Scope())
	if err != nil {
		return fmt.Errorf("sam: a Graph token for the unattended rotation: %w", err)
	}
	c, err := tok.Claims()
	if err != nil {
		return fmt.Errorf("sam: reading the Graph token: %w", err)
	}
	for _, s := range rotationScopes {
		if slices.ContainsFunc(c.Scopes, func(have string) bool { return strings.EqualFold(have, s) }) {
			return nil
		}
	}
	return fmt.Errorf("%w: its delegated Microsoft Graph permissions lack Application.ReadWrite.All; add it (UnattendedRotationManifest, then Setup again to consent), or rotate with an admin's sign-in", ErrRotationPermission)
}

// checkLifetime refuses a secret lifetime Entra would refuse; zero means
// the default.
func checkLifetime(d time.Duration) error {
	if d != 0 && (d < time.Hour || d > maxSecretLifetime) {
		return fmt.Errorf("sam: RotateOptions.Lifetime %v is outside 1h–2 years (Entra's limit)", d)
	}
	return nil
}

func rotateCredential(ctx context.Context, opts rotation) (RotateResult, error) {
	if opts.Graph == nil || opts.Store == nil {
		return RotateResult{}, errors.New("sam: a rotation needs a Graph client and a store")
	}
	if opts.Cloud.Name == "" && opts.Cloud.LoginEndpoint == "" {
		opts.Cloud = cloud.Public
	}
	if opts.Kind == "" {
		opts.Kind = CredentialSecret
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = DefaultSecretLifetime
	}
	if err := checkLifetime(opts.Lifetime); err != nil {
		return RotateResult{}, err
	}
	log := httpx.RedactingLogger(opts.Logger)
	old, err := opts.Store.Load(ctx)
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: loading the credentials to rotate: %w", err)
	}
	app, err := opts.Graph.ApplicationByAppID(ctx, old.ApplicationID)
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: reading application %s: %w", old.ApplicationID, err)
	}
	var k credentialKind = secretKind{g: opts.Graph, app: app, lifetime: opts.Lifetime}
	if opts.Kind == CredentialCertificate {
		if opts.Certificate.Subject == "" {
			opts.Certificate.Subject = app.DisplayName
		}
		k = certificateKind{g: opts.Graph, app: app, options: opts.Certificate}
	}
	// only keeps the kind's own credential, so that the check proves that
	// one, not another the store also holds.
	only := func(c token.Credentials) token.Credentials {
		c2 := token.Credentials{TenantID: c.TenantID, ApplicationID: c.ApplicationID}
		if opts.Kind == CredentialCertificate {
			c2.Certificate = c.Certificate
		} else {
			c2.ClientSecret = c.ClientSecret
		}
		return c2
	}
	// verify waits for a new credential to replicate; verifyStored asks
	// once, since the stored one has long been in use.
	verify, verifyStored := opts.Verify, opts.Verify
	if verify == nil {
		hc := httpx.NewClient(opts.HTTPClient, httpx.RetryPolicy{}, log)
		verifyStored = func(ctx context.Context, c token.Credentials) error {
			return appCredentialWorks(ctx, only(c), opts.Cloud, hc, opts.Logger, opts.product)
		}
		verify = func(ctx context.Context, c token.Credentials) error {
			return waitCredentialReady(ctx, opts.Sleep, func(ctx context.Context) error { return verifyStored(ctx, c) })
		}
	}
	crashed := func(point string) bool { return opts.crashAt != nil && opts.crashAt(point) }

	oldKey := k.stored(old)
	res := RotateResult{Kind: opts.Kind}
	if leftovers := k.leftovers(old); len(leftovers) > 0 {
		// Only a stored credential that works proves the leftovers unused:
		// one of them may be the one a person means to keep otherwise.
		if err := verifyStored(ctx, old); err != nil {
			log.Warn("leftover credentials kept: the stored one does not work", "app", app.AppID, "kind", string(opts.Kind), "leftovers", len(leftovers))
		} else {
			for _, id := range leftovers {
				if crashed("removing leftovers") {
					return res, errCrashed
				}
				if err := k.remove(ctx, old, id); err != nil && !errors.Is(err, graph.ErrNotFound) {
					return res, fmt.Errorf("sam: removing %s %s, left by an interrupted rotation: %w", k, id, err)
				}
				res.RemovedLeftovers = append(res.RemovedLeftovers, id)
			}
			log.Info("removed credentials left by an interrupted rotation", "app", app.AppID, "kind", string(opts.Kind), "count", len(leftovers))
		}
	}

	next, added, err := k.add(ctx, old, time.Now())
	if err != nil {
		return res, fmt.Errorf("sam: adding a %s to %s: %w", k, app.AppID, err)
	}
	res.KeyID, res.Hint, res.Thumbprint, res.End = added.KeyID, added.Hint, added.Thumbprint, added.End
	if crashed("added") {
		return res, errCrashed
	}
	// undo removes the new credential on a context that outlives ctx, so
	// that a cancelled rotation does not leave it behind.
	undo := func(cause error) error {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if err := k.remove(uctx, old, added.KeyID); err != nil {
			return errors.Join(cause, fmt.Errorf("sam: removing the new %s %s failed too, remove it by hand: %w", k, added.KeyID, err))
		}
		return cause
	}

	if err := verify(ctx, next); err != nil {
		return RotateResult{}, undo(fmt.Errorf("sam: the new %s does not work, the stored one is kept: %w", k, err))
	}
	if crashed("verified") {
		return res, errCrashed
	}
	if err := saveAppCredential(ctx, opts.Store, next); err != nil {
		// A store may fail after the new credential is in place (a
		// FileStore whose directory cannot be synced after the rename):
		// undoing then would leave it holding a removed credential.
		if !storeHolds(ctx, opts.Store, only(next)) {
			return RotateResult{}, undo(fmt.Errorf("sam: saving the new %s failed, the stored one is kept: %w", k, err))
		}
		log.Warn("saving the new credential reported an error, but the store holds it", "app", app.AppID, "kind", string(opts.Kind), "error", err)
	}
	log.Info("credential rotated", "app", app.AppID, "kind", string(opts.Kind), "key_id", added.KeyID)
	if crashed("saved") {
		return res, errCrashed
	}

	if oldKey == "" || strings.EqualFold(oldKey, added.KeyID) {
		return res, nil
	}
	// The old certificate proves possession for its own removal: the
	// directory has long known it, while the new one may still be
	// replicating.
	if err := k.remove(ctx, old, oldKey); err != nil {
		return res, fmt.Errorf("%w (key id %s): %w", ErrOldSecretKept, oldKey, err)
	}
	res.RemovedKeyID = oldKey
	return res, nil
}

// storeHolds reports whether s holds want's secret or certificate (want
// holds one of them), read on a context that outlives ctx: a save cut
// short by a cancellation may have completed.
func storeHolds(ctx context.Context, s Store, want token.Credentials) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	c, err := s.Load(rctx)
	if err != nil {
		return false
	}
	if want.Certificate != nil {
		return sameCertificate(c.Certificate, want.Certificate)
	}
	return !want.ClientSecret.IsZero() && c.ClientSecret.Equal(want.ClientSecret)
}

// appCredentialSaver is a Store that can replace the client secret and
// certificate alone, keeping a refresh token another process rotated
// since Load.
type appCredentialSaver interface {
	saveAppCredential(ctx context.Context, c token.Credentials) error
}

// saveAppCredential saves c's client secret and certificate, and nothing
// else where the store allows it: c's refresh tokens were loaded before
// the rotation began and may be older than the store's by now.
func saveAppCredential(ctx context.Context, s Store, c token.Credentials) error {
	if cs, ok := s.(appCredentialSaver); ok {
		return cs.saveAppCredential(ctx, c)
	}
	return s.Save(ctx, c)
}

// errCrashed ends a rotation where a test simulates the process dying:
// nothing is undone.
var errCrashed = errors.New("sam: rotation stopped (simulated crash)")

// matchSecret finds the app's secret whose hint (its first characters, as
// Graph reports them) starts the stored secret's value. Only a single
// match identifies it.
func matchSecret(pcs []graph.PasswordCredential, s token.Secret) string {
	if s.IsZero() {
		return ""
	}
	v := s.Reveal()
	found := ""
	for _, p := range pcs {
		if p.Hint == "" || !strings.HasPrefix(v, p.Hint) {
			continue
		}
		if found != "" {
			return ""
		}
		found = p.KeyID
	}
	return found
}
