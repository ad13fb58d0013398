package token

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProviderIdentityAccessors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Credentials{
		"secret": {TenantID: "11111111-1111-4111-8111-111111111111", ApplicationID: "22222222-2222-4222-8222-222222222222",
			ClientSecret: NewSecret("s3cret-value")},
		"domain tenant": {TenantID: "contoso.onmicrosoft.com", ApplicationID: "33333333-3333-4333-8333-333333333333",
			ClientSecret: NewSecret("other-s3cret")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := NewProvider(c)
			require.NoError(t, err)
			assert.Equal(t, c.TenantID, p.TenantID())
			assert.Equal(t, c.ApplicationID, p.ApplicationID())
		})
	}
}
