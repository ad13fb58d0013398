package sam

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

// TestSetupChecksStoreFirst: a store that cannot be written fails Setup
// before the admin signs in, so no MFA prompt and no app are wasted.
func TestSetupChecksStoreFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// store makes the unwritable store in dir.
		store func(t *testing.T, dir string) Store
		want  string
	}{
		{"world-readable file", func(t *testing.T, dir string) Store {
			if runtime.GOOS == "windows" {
				t.Skip("Windows files have no mode bits")
			}
			path := filepath.Join(dir, "credentials.json")
			s := NewFileStore(path)
			require.NoError(t, s.Save(t.Context(), testCredentials()))
			require.NoError(t, os.Chmod(path, 0o644))
			return s
		}, "chmod 600"},
		{"folder that is a file", func(t *testing.T, dir string) Store {
			blocker := filepath.Join(dir, "samkit")
			require.NoError(t, os.WriteFile(blocker, nil, 0o600))
			return NewFileStore(filepath.Join(blocker, "credentials.json"))
		}, "cannot be created"},
		{"environment variables", func(*testing.T, string) Store {
			return &EnvStore{Lookup: func(string) (string, bool) { return "", false }}
		},
			"environment variables cannot be written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSetupEnv(t)
			opts := e.options()
			opts.Store = tt.store(t, t.TempDir())
			before := e.snapshot()
			_, err := Setup(t.Context(), opts)
			var se *SetupError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, StepSave, se.Step)
			assert.ErrorIs(t, err, ErrReadOnlyStore)
			assert.ErrorContains(t, err, tt.want)
			assert.NotEmpty(t, se.Fix)
			assert.True(t, se.RolledBack, "nothing was made, so nothing is left")
			logins := e.s.Count(func(r testserver.Request) bool { return r.Service == "login" })
			assert.Zero(t, logins, "no sign-in may start before the store is known to be writable")
			assert.Empty(t, before.added(e.snapshot()))
			assert.NotContains(t, e.steps(StepStarted), StepSignIn)
		})
	}
}

func TestFileStoreWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := NewFileStore(filepath.Join(dir, "new", "credentials.json"))
	require.NoError(t, s.Writable(t.Context()), "a file that does not exist yet, in a folder to create")
	_, err := s.Load(t.Context())
	assert.True(t, errors.Is(err, ErrNoCredentials), "Writable must not create the credentials file: %v", err)
	leftovers, _ := filepath.Glob(filepath.Join(dir, "new", s.tempPattern()))
	assert.Empty(t, leftovers, "Writable must not leave its probe behind")

	require.NoError(t, s.Save(t.Context(), testCredentials()))
	require.NoError(t, s.Writable(t.Context()), "an existing, private file")
	got, err := s.Load(t.Context())
	require.NoError(t, err)
	assertSameCredentials(t, got, testCredentials())

	require.NoError(t, os.WriteFile(s.Path(), []byte("{not json"), 0o600))
	assert.ErrorIs(t, s.Writable(t.Context()), ErrReadOnlyStore, "Save would refuse a corrupt file")
}
