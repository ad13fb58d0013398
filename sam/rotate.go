package sam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// RotateOptions configures Partner.RotateSecret.
type RotateOptions struct {
	// AdminSignIn signs in an admin of the partner tenant, who may add and
	// remove the app's secrets (the SAM app's own rights do not reach
	// them); nil means DeviceCodeSignIn{}.
	AdminSignIn AdminSignIn
	// BootstrapClientID is the public client the admin signs in with;
	// GraphCommandLineToolsClientID when empty.
	BootstrapClientID string
	// Progress, if set, is called as the admin's sign-in starts, ends and
	// needs the admin to act.
	Progress func(StepEvent)
	// Lifetime is how long the new secret is valid; DefaultSecretLifetime
	// when zero, at most two years.
	Lifetime time.Duration
	// Verify proves that credentials work. The default asks for an
	// app-only token in the partner tenant, waiting up to two minutes for
	// a new secret to replicate.
	Verify func(ctx context.Context, c token.Credentials) error
}

// rotation is what rotateSecret needs: the Graph client of a signed-in
// admin, the store, and the settings of the Partner.
type rotation struct {
	// Graph updates the app: a client in the partner tenant whose identity
	// may add and remove the app's secrets (an admin, see adminGraph).
	Graph *graph.Client
	// Store holds the credentials whose secret is rotated.
	Store Store
	// Cloud is the Microsoft cloud; the zero value means cloud.Public.
	Cloud cloud.Configuration
	// HTTPClient carries the verification's token requests.
	HTTPClient *http.Client
	Lifetime   time.Duration
	Verify     func(ctx context.Context, c token.Credentials) error
	// Logger receives debug logs, secrets redacted.
	Logger *slog.Logger

	// crashAt, in tests, stops the rotation dead at a named point, as a
	// killed process stops: it returns true to stop.
	crashAt func(point string) bool
}

// RotateResult describes a rotation.
type RotateResult struct {
	// KeyID, Hint and End describe the new secret, now in the store.
	KeyID, Hint string
	End         time.Time
	// RemovedKeyID is the secret that was replaced and removed; "" when
	// the stored secret could not be matched to one of the app's secrets
	// (they are told apart by their first characters), which are then
	// all left in place.
	RemovedKeyID string
	// RemovedLeftovers are the key ids of secrets an interrupted earlier
	// rotation or setup had added and not removed, which this one removed.
	RemovedLeftovers []string
}

// ErrOldSecretKept means the rotation succeeded (the store holds the new,
// working secret) but the old secret could not be removed from the app.
var ErrOldSecretKept = errors.New("sam: the previous client secret is still on the app")

// RotateSecret replaces the client secret in the Partner's store, once an
// admin of the partner tenant has signed in (opts.AdminSignIn): it adds a new
// secret to the app, checks at the token endpoint that it works, saves it,
// and only then removes the old one. The new secret is checked before it
// is saved so that the store never holds a secret that does not work; if
// checking or saving fails, the new secret is removed and the store keeps
// the old one.
//
// A rotation is resumable. Every secret samkit adds is named with
// SecretNamePrefix, so a rotation killed between adding and saving, or
// between saving and removing, leaves a secret the next rotation
// recognises: before adding its own, RotateSecret checks that the stored
// secret works and then removes the app's other samkit secrets
// (Inspection.Leftovers lists them). It never removes the stored secret,
// nor a secret samkit did not add. So keep one credential store per app,
// and do not run two rotations of one app at once: each would take the
// other's new secret for a leftover.
//
// The Partner's Provider keeps the secret it was opened with: Open the
// store again to use the new one for app-only tokens.
func (p *Partner) RotateSecret(ctx context.Context, opts RotateOptions) (RotateResult, error) {
	if p.store == nil {
		return RotateResult{}, errors.New("sam: RotateSecret saves the new secret to the Partner's store, and this Partner has none: build it with Open")
	}
	if err := checkLifetime(opts.Lifetime); err != nil {
		return RotateResult{}, err
	}
	g, err := adminGraph(ctx, SetupOptions{cloud: p.Cloud(), httpClient: p.p.HTTPClient(), Tenant: p.p.TenantID(),
		AdminSignIn: opts.AdminSignIn, BootstrapClientID: opts.BootstrapClientID, Progress: opts.Progress, logger: p.log})
	if err != nil {
		return RotateResult{}, err
	}
	return rotateSecret(ctx, rotation{Graph: g, Store: p.store, Cloud: p.Cloud(), HTTPClient: p.p.HTTPClient(),
		Lifetime: opts.Lifetime, Verify: opts.Verify, Logger: p.log})
}

// checkLifetime refuses a secret lifetime Entra would refuse; zero means
// the default.
func checkLifetime(d time.Duration) error {
	if d != 0 && (d < time.Hour || d > maxSecretLifetime) {
		return fmt.Errorf("sam: RotateOptions.Lifetime %v is outside 1h–2 years (Entra's limit)", d)
	}
	return nil
}

func rotateSecret(ctx context.Context, opts rotation) (RotateResult, error) {
	if opts.Graph == nil || opts.Store == nil {
		return RotateResult{}, errors.New("sam: a rotation needs a Graph client and a store")
	}
	if opts.Cloud.Name == "" && opts.Cloud.LoginEndpoint == "" {
		opts.Cloud = cloud.Public
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = DefaultSecretLifetime
	}
	if err := checkLifetime(opts.Lifetime); err != nil {
		return RotateResult{}, err
	}
	log := httpx.RedactingLogger(opts.Logger)
	// verify waits for a new secret to replicate; verifyStored asks once,
	// since the stored secret has long been in use.
	verify, verifyStored := opts.Verify, opts.Verify
	if verify == nil {
		hc := httpx.NewClient(opts.HTTPClient, httpx.RetryPolicy{}, log)
		verifyStored = func(ctx context.Context, c token.Credentials) error {
			p, err := token.NewProvider(token.Credentials{TenantID: c.TenantID, ApplicationID: c.ApplicationID, ClientSecret: c.ClientSecret},
				token.WithCloud(opts.Cloud), token.WithHTTPClient(hc), token.WithLogger(opts.Logger))
			if err != nil {
				return err
			}
			_, err = p.AppToken(ctx, c.TenantID, opts.Cloud.Graph.Scope())
			return err
		}
		verify = func(ctx context.Context, c token.Credentials) error {
			return waitSecretReady(ctx, func(ctx context.Context) error { return verifyStored(ctx, c) })
		}
	}
	crashed := func(point string) bool { return opts.crashAt != nil && opts.crashAt(point) }

	old, err := opts.Store.Load(ctx)
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: loading the credentials to rotate: %w", err)
	}
	app, err := opts.Graph.ApplicationByAppID(ctx, old.ApplicationID)
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: reading application %s: %w", old.ApplicationID, err)
	}
	oldKey := matchSecret(app.PasswordCredentials, old.ClientSecret)

	var res RotateResult
	if leftovers := leftoverSecrets(app.PasswordCredentials, old.ClientSecret); len(leftovers) > 0 {
		// Only a stored secret that works proves the leftovers unused: one
		// of them may be the secret a person means to keep otherwise.
		if err := verifyStored(ctx, old); err != nil {
			log.Warn("leftover client secrets kept: the stored secret does not work", "app", app.AppID, "leftovers", len(leftovers))
		} else {
			for _, id := range leftovers {
				if crashed("removing leftovers") {
					return res, errCrashed
				}
				if err := opts.Graph.RemovePassword(ctx, app.ID, id); err != nil && !errors.Is(err, graph.ErrNotFound) {
					return res, fmt.Errorf("sam: removing client secret %s, left by an interrupted rotation: %w", id, err)
				}
				res.RemovedLeftovers = append(res.RemovedLeftovers, id)
			}
			log.Info("removed client secrets left by an interrupted rotation", "app", app.AppID, "count", len(leftovers))
		}
	}

	now := time.Now()
	pc, err := opts.Graph.AddPassword(ctx, app.ID, graph.PasswordCredential{DisplayName: secretDisplayName(now), EndDateTime: now.Add(opts.Lifetime)})
	if err != nil {
		return res, fmt.Errorf("sam: adding a client secret to %s: %w", app.AppID, err)
	}
	res.KeyID, res.Hint, res.End = pc.KeyID, pc.Hint, pc.EndDateTime
	if crashed("added") {
		return res, errCrashed
	}
	// undo removes the new secret on a context that outlives ctx, so that
	// a cancelled rotation does not leave it behind.
	undo := func(cause error) error {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if err := opts.Graph.RemovePassword(uctx, app.ID, pc.KeyID); err != nil {
			return errors.Join(cause, fmt.Errorf("sam: removing the new client secret %s failed too, remove it by hand: %w", pc.KeyID, err))
		}
		return cause
	}

	next := old
	next.ClientSecret = pc.SecretText
	if err := verify(ctx, next); err != nil {
		return RotateResult{}, undo(fmt.Errorf("sam: the new client secret does not work, the stored one is kept: %w", err))
	}
	if crashed("verified") {
		return res, errCrashed
	}
	if err := saveAppCredential(ctx, opts.Store, next); err != nil {
		return RotateResult{}, undo(fmt.Errorf("sam: saving the new client secret failed, the stored one is kept: %w", err))
	}
	log.Info("client secret rotated", "app", app.AppID, "key_id", pc.KeyID)
	if crashed("saved") {
		return res, errCrashed
	}

	if oldKey == "" || strings.EqualFold(oldKey, pc.KeyID) {
		return res, nil
	}
	if err := opts.Graph.RemovePassword(ctx, app.ID, oldKey); err != nil {
		return res, fmt.Errorf("%w (key id %s): %w", ErrOldSecretKept, oldKey, err)
	}
	res.RemovedKeyID = oldKey
	return res, nil
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
