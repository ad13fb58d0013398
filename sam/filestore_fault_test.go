package sam_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// fileRotationStore reads back what a FileStore holds.
type fileRotationStore struct{ *sam.FileStore }

func (f fileRotationStore) Stored(ctx context.Context) (string, error) {
	c, err := f.Load(ctx)
	return c.RefreshToken.Reveal(), err
}

// TestFaultRotationDurableFileStore runs refresh-token rotation under 200
// concurrent callers across 50 tenants, with faults, into a FileStore:
// the file ends with the newest refresh token, which works, and no save
// wrote a token issued before the one saved ahead of it.
func TestFaultRotationDurableFileStore(t *testing.T) {
	t.Parallel()
	faulttest.Rotation(t, func(t *testing.T, c token.Credentials) faulttest.RotationStore {
		s := sam.NewFileStore(filepath.Join(t.TempDir(), "credentials.json"))
		if err := s.Save(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		return fileRotationStore{s}
	})
}
