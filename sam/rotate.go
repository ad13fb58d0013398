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

// RotateOptions configures RotateSecret.
type RotateOptions struct {
	// Graph updates the app: a client in the partner tenant whose identity
	// may add and remove the app's secrets (an admin, see AdminGraph).
	Graph *graph.Client
	// Store holds the credentials whose secret is rotated.
	Store Store
	// Cloud is the Microsoft cloud; the zero value means cloud.Public.
	Cloud cloud.Configuration
	// HTTPClient carries the verification's token requests.
	HTTPClient *http.Client
	// Lifetime is how long the new secret is valid; DefaultSecretLifetime
	// when zero, at most two years.
	Lifetime time.Duration
	// Verify proves that credentials work. The default asks for an
	// app-only token in the partner tenant, waiting up to two minutes for
	// a new secret to replicate.
	Verify func(ctx context.Context, c token.Credentials) error
	// Logger receives debug logs, secrets redacted.
	Logger *slog.Logger
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
}

// ErrOldSecretKept means the rotation succeeded (the store holds the new,
// working secret) but the old secret could not be removed from the app.
var ErrOldSecretKept = errors.New("sam: the previous client secret is still on the app")

// RotateSecret replaces the client secret in the store: it adds a new
// secret to the app, checks at the token endpoint that it works, saves it,
// and only then removes the old one. The new secret is checked before it
// is saved so that the store never holds a secret that does not work; if
// checking or saving fails, the new secret is removed and the store keeps
// the old one. A crash between adding and saving leaves at most an unused
// secret on the app, which Inspect lists.
func RotateSecret(ctx context.Context, opts RotateOptions) (RotateResult, error) {
	if opts.Graph == nil || opts.Store == nil {
		return RotateResult{}, errors.New("sam: RotateOptions needs Graph and Store")
	}
	if opts.Cloud.Name == "" && opts.Cloud.LoginEndpoint == "" {
		opts.Cloud = cloud.Public
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = DefaultSecretLifetime
	}
	if opts.Lifetime < time.Hour || opts.Lifetime > maxSecretLifetime {
		return RotateResult{}, fmt.Errorf("sam: RotateOptions.Lifetime %v is outside 1h–2 years (Entra's limit)", opts.Lifetime)
	}
	log := httpx.RedactingLogger(opts.Logger)
	verify := opts.Verify
	if verify == nil {
		hc := httpx.NewClient(opts.HTTPClient, httpx.RetryPolicy{}, log)
		verify = func(ctx context.Context, c token.Credentials) error {
			return waitSecretReady(ctx, func(ctx context.Context) error {
				p, err := token.NewProvider(token.Credentials{TenantID: c.TenantID, ApplicationID: c.ApplicationID, ClientSecret: c.ClientSecret},
					token.WithCloud(opts.Cloud), token.WithHTTPClient(hc), token.WithLogger(opts.Logger))
				if err != nil {
					return err
				}
				_, err = p.AppToken(ctx, c.TenantID, opts.Cloud.Graph.Scope())
				return err
			})
		}
	}

	old, err := opts.Store.Load(ctx)
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: loading the credentials to rotate: %w", err)
	}
	app, err := opts.Graph.ApplicationByAppID(ctx, old.ApplicationID)
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: reading application %s: %w", old.ApplicationID, err)
	}
	oldKey := matchSecret(app.PasswordCredentials, old.ClientSecret)

	now := time.Now()
	pc, err := opts.Graph.AddPassword(ctx, app.ID, graph.PasswordCredential{DisplayName: secretDisplayName(now), EndDateTime: now.Add(opts.Lifetime)})
	if err != nil {
		return RotateResult{}, fmt.Errorf("sam: adding a client secret to %s: %w", app.AppID, err)
	}
	res := RotateResult{KeyID: pc.KeyID, Hint: pc.Hint, End: pc.EndDateTime}
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
	if err := opts.Store.Save(ctx, next); err != nil {
		return RotateResult{}, undo(fmt.Errorf("sam: saving the new client secret failed, the stored one is kept: %w", err))
	}
	log.Info("client secret rotated", "app", app.AppID, "key_id", pc.KeyID)

	if oldKey == "" || strings.EqualFold(oldKey, pc.KeyID) {
		return res, nil
	}
	if err := opts.Graph.RemovePassword(ctx, app.ID, oldKey); err != nil {
		return res, fmt.Errorf("%w (key id %s): %w", ErrOldSecretKept, oldKey, err)
	}
	res.RemovedKeyID = oldKey
	return res, nil
}

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
