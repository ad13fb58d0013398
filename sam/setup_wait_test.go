package sam

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// setupKinds are Setup's two kinds of new credential.
var setupKinds = []struct {
	name string
	opts func(*SetupOptions)
	// what names the credential in Setup's error.
	what string
}{
	{"secret", func(*SetupOptions) {}, "the new client secret (key id "},
	{"certificate", func(o *SetupOptions) {
		o.Certificate = true
		o.Manifest = UnattendedRotationManifest(DefaultManifest())
	}, "the new certificate "},
}

// delayedSetup is a fake whose new credentials work only after delay,
// and Setup's options, shaped by kind, with a Sleep that moves the fake's
// clock.
func delayedSetup(t *testing.T, kind func(*SetupOptions), delay time.Duration) (*setupEnv, SetupOptions, *clockWaits) {
	t.Helper()
	e := newSetupEnv(t)
	e.s.Mutate(func(w *testserver.World) { w.CredentialDelay = delay })
	clock := &clockWaits{s: e.s}
	opts := e.options()
	opts.Sleep = clock.Sleep
	kind(&opts)
	return e, opts, clock
}

// Setup waits for its new secret or certificate to replicate through
// SetupOptions.Sleep, on the fake's clock: a credential the fake holds
// back for 5 seconds is used after waits of 1, 2 and 4 seconds; one it
// never accepts ends Setup after two minutes of waits at most, with an
// error that names it and says what to do, and the run is undone.
func TestSetupWaitsForNewCredential(t *testing.T) {
	t.Parallel()
	for _, k := range setupKinds {
		t.Run(k.name+" replicated", func(t *testing.T) {
			t.Parallel()
			e, opts, clock := delayedSetup(t, k.opts, 5*time.Second)
			res := e.setup(t.Context(), opts)
			waits, _ := clock.All()
			assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, waits,
				"three doubling waits cover the 5 s the new %s takes to work", k.name)
			require.NoError(t, e.credentialWorks(res.Credentials), "the saved %s works", k.name)
		})
		t.Run(k.name+" never replicated", func(t *testing.T) {
			t.Parallel()
			e, opts, clock := delayedSetup(t, k.opts, 24*time.Hour)
			_, err := Setup(t.Context(), opts)
			var se *SetupError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, StepSecret, se.Step)
			assert.ErrorIs(t, err, errNotReplicated)
			assert.ErrorIs(t, err, token.ErrInvalidClient, "the identity platform's own refusal is kept")
			assert.Contains(t, err.Error(), k.what, "the error names the credential")
			assert.Contains(t, se.Fix, "wait a few minutes and run setup again")
			assert.True(t, se.RolledBack, "the run is undone: %v", se.RollbackErr)
			assert.Empty(t, e.appsNamed(DefaultDisplayName), "no application is left behind")

			waits, sum := clock.All()
			assert.LessOrEqual(t, sum, secretReadyTimeout, "the waits are bounded")
			assert.Greater(t, sum, secretReadyTimeout-10*time.Second, "it waits out nearly the whole bound before giving up")
			assert.Len(t, waits, 14, "waits of 1, 2, 4, 8 s, then 10 s each up to two minutes")
		})
	}
}

// A cancelled context ends the wait for a new credential at once.
func TestSetupWaitForNewCredentialCancelled(t *testing.T) {
	t.Parallel()
	_, opts, _ := delayedSetup(t, func(*SetupOptions) {}, 24*time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	opts.Sleep = func(ctx context.Context, _ time.Duration) error {
		calls++
		cancel()
		return ctx.Err()
	}
	_, err := Setup(ctx, opts)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, calls, "no wait after the context ends")
	assert.NotErrorIs(t, err, errNotReplicated, "a cancelled wait is not a replication failure")
}
