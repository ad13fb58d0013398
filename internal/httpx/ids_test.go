package httpx

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewGUIDIsRandomUUIDv4(t *testing.T) {
	t.Parallel()
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewGUID()
		require.Regexp(t, v4, id, "a version 4, variant 1 UUID in lower case")
		assert.True(t, IsGUID(id), "IsGUID accepts what NewGUID makes")
		assert.False(t, seen[id], "request id %s repeated", id)
		seen[id] = true
	}
}
