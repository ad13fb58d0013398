package token_test

import (
	"testing"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/token"
)

// TestFaultRotationDurable: refresh-token rotation under 200 concurrent
// callers across 50 tenants, with faults, loses nothing and never goes
// backwards (see faulttest.Rotation); sam's FileStore runs the same
// scenario in its package.
func TestFaultRotationDurable(t *testing.T) {
	t.Parallel()
	faulttest.Rotation(t, func(*testing.T, token.Credentials) faulttest.RotationStore { return &faulttest.MemoryStore{} })
}
