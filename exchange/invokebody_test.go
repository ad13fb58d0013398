package exchange

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIsCmdletIsTheGrammar holds isCmdlet to Verb-Noun as a regular
// expression states it.
func TestIsCmdletIsTheGrammar(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[A-Za-z]+-[A-Za-z0-9]+$`)
	for _, s := range []string{"Get-OrganizationConfig", "Get-Mailbox2", "get-x", "Get-", "-Mailbox", "Get", "Get-Mail-box",
		"Get2-Mailbox", "Get-Mail box", "Get-Mailbox;", "Gét-Mailbox", "Get-Mailbox\n", "Get-[]", "Get-@", "Get-`", "Get-{", "Ge\x00t-X", ""} {
		assert.Equal(t, re.MatchString(s), isCmdlet(s), "%q", s)
	}
	ok := "Get-"
	for len(ok) < 128 {
		ok += "x"
	}
	assert.True(t, isCmdlet(ok), "128 bytes")
	assert.False(t, isCmdlet(ok+"x"), "129 bytes")
}

// TestInvokeBodyIsWhatJSONWrites holds the written body to json.Marshal's
// encoding of the same request.
func TestInvokeBodyIsWhatJSONWrites(t *testing.T) {
	t.Parallel()
	for _, params := range []map[string]any{nil, {}, {"Identity": "a\"b<c>", "ResultSize": 1, "Filter": []string{"x"}}} {
		got, err := invokeBody("Get-Mailbox", params)
		require.NoError(t, err)
		p := params
		if p == nil {
			p = map[string]any{}
		}
		want, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "Get-Mailbox", "Parameters": p}})
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
	_, err := invokeBody("Get-Mailbox", map[string]any{"Bad": func() {}})
	require.Error(t, err, "a parameter JSON cannot encode")
}
