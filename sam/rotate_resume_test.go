package sam

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
)

// crashOn stops a rotation at point, on its nth visit there (from 1).
type crashOn struct {
	point string
	nth   int
}

func (c crashOn) hook() func(string) bool {
	seen := 0
	return func(p string) bool {
		if p != c.point {
			return false
		}
		seen++
		return seen == c.nth
	}
}

// TestRotateSecretResumes kills rotations at each of their steps, one or
// several in a row, and checks that the next whole rotation leaves the app
// with exactly one samkit secret — the stored one, which works — and the
// secret a person added by hand.
func TestRotateSecretResumes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		crashes []crashOn
		// extra is how many samkit secrets other runs left (a setup
		// killed after adding its secret, say) before the rotations.
		extra int
		// leftovers is how many samkit secrets besides the stored one the
		// crashes leave: each rotation first removes those before it.
		leftovers int
	}{
		{"after add", []crashOn{{"added", 1}}, 0, 1},
		{"after verify, before save", []crashOn{{"verified", 1}}, 0, 1},
		{"after save, before removing the old one", []crashOn{{"saved", 1}}, 0, 1},
		{"three kills in a row", []crashOn{{"added", 1}, {"saved", 1}, {"verified", 1}}, 0, 1},
		{"killed while removing leftovers", []crashOn{{"removing leftovers", 2}}, 3, 2},
		{"leftovers of other runs", nil, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, opts, first := rotateEnv(t)
			app, err := opts.Graph.ApplicationByAppID(t.Context(), first.ApplicationID)
			require.NoError(t, err)
			manual, err := opts.Graph.AddPassword(t.Context(), app.ID, graph.PasswordCredential{DisplayName: "CI pipeline", EndDateTime: time.Now().Add(24 * time.Hour)})
			require.NoError(t, err)
			for range tt.extra {
				_, err := opts.Graph.AddPassword(t.Context(), app.ID, graph.PasswordCredential{DisplayName: secretDisplayName(time.Now()), EndDateTime: time.Now().Add(time.Hour)})
				require.NoError(t, err)
			}

			for _, c := range tt.crashes {
				o := opts
				o.crashAt = c.hook()
				_, err := rotateSecret(t.Context(), o)
				require.ErrorIs(t, err, errCrashed, "the rotation should stop at %s", c.point)
				now, err := e.store.Load(t.Context())
				require.NoError(t, err)
				require.NoError(t, e.secretWorks(now), "after a kill at %s the stored secret must still work", c.point)
			}
			stored, err := e.store.Load(t.Context())
			require.NoError(t, err)
			in, err := inspect(t.Context(), opts.Graph, first.ApplicationID)
			require.NoError(t, err)
			assert.Len(t, in.Leftovers(stored.ClientSecret), tt.leftovers, "Inspect's leftovers after the kills")

			res, err := rotateSecret(t.Context(), opts)
			require.NoError(t, err)
			assert.Len(t, res.RemovedLeftovers, tt.leftovers, "the rotation should remove what the kills left")

			stored, err = e.store.Load(t.Context())
			require.NoError(t, err)
			require.NoError(t, e.secretWorks(stored), "the stored secret after the rotation")
			var samkit, others []string
			e.s.Read(func(w *testserver.World) {
				for _, p := range w.Apps[first.ApplicationID].Passwords {
					if IsSamkitSecret(p.DisplayName) {
						samkit = append(samkit, p.KeyID)
					} else {
						others = append(others, p.KeyID)
					}
				}
			})
			require.Len(t, samkit, 1, "exactly one samkit secret should be left")
			assert.Equal(t, res.KeyID, samkit[0], "the samkit secret left should be the new, stored one")
			assert.Equal(t, []string{manual.KeyID}, others, "the secret added by hand must stay")
			in, err = inspect(t.Context(), opts.Graph, first.ApplicationID)
			require.NoError(t, err)
			assert.Empty(t, in.Leftovers(stored.ClientSecret), "no leftovers after a whole rotation")
		})
	}
}

// TestRotateSecretKeepsLeftoversWhenStoredFails: with a stored secret that
// no longer works, the leftovers may hold the one that does; none is
// removed.
func TestRotateSecretKeepsLeftoversWhenStoredFails(t *testing.T) {
	t.Parallel()
	e, opts, first := rotateEnv(t)
	o := opts
	o.crashAt = crashOn{"added", 1}.hook()
	_, err := rotateSecret(t.Context(), o)
	require.ErrorIs(t, err, errCrashed)
	var leftover string
	e.s.Mutate(func(w *testserver.World) {
		for _, p := range w.Apps[first.ApplicationID].Passwords {
			if p.Secret == first.ClientSecret.Reveal() {
				p.End = time.Now().Add(-time.Hour) // expired: the identity platform refuses it
			} else {
				leftover = p.KeyID
			}
		}
	})
	require.NotEmpty(t, leftover)
	res, err := rotateSecret(t.Context(), opts)
	require.NoError(t, err)
	assert.Empty(t, res.RemovedLeftovers, "leftovers must stay when the stored secret does not prove them unused")
	var keys []string
	e.s.Read(func(w *testserver.World) {
		for _, p := range w.Apps[first.ApplicationID].Passwords {
			keys = append(keys, p.KeyID)
		}
	})
	assert.ElementsMatch(t, []string{leftover, res.KeyID}, keys, "the leftover and the new secret; the old, expired one removed")
}

func TestIsSamkitSecret(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		secretDisplayName(time.Now()): true,
		"samkit-managed 2026-01-01":   true,
		"samkit 2025-06-30":           true, // named by an older samkit
		"samkit prod":                 false,
		"samkit 2025-06-30 backup":    false,
		"CI pipeline":                 false,
		"":                            false,
	} {
		assert.Equal(t, want, IsSamkitSecret(name), "IsSamkitSecret(%q)", name)
	}
}

// TestRotateSecretLostAddAnswer: Graph added the secret but its answer was
// lost, so the rotation never knew it; the next rotation finds it by its
// name and removes it.
func TestRotateSecretLostAddAnswer(t *testing.T) {
	t.Parallel()
	e, opts, first := rotateEnv(t)
	lossy := e.options()
	hc := *e.s.Client()
	hc.Transport = &writeFaults{base: e.s.Client().Transport, target: 1}
	lossy.httpClient = &hc
	g, err := adminGraph(t.Context(), lossy)
	require.NoError(t, err)
	o := opts
	o.Graph = g
	_, err = rotateSecret(t.Context(), o)
	require.Error(t, err, "the answer to addPassword was lost")
	require.Equal(t, 2, e.secretCount(first.ApplicationID), "Graph should have added the secret whose answer was lost")

	res, err := rotateSecret(t.Context(), opts)
	require.NoError(t, err)
	assert.Len(t, res.RemovedLeftovers, 1, "the secret of the lost answer")
	assert.Equal(t, 1, e.secretCount(first.ApplicationID), "the new, stored secret alone")
	stored, err := e.store.Load(t.Context())
	require.NoError(t, err)
	assert.NoError(t, e.secretWorks(stored))
}
