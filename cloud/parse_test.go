package cloud

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	custom := Configuration{
		Name:          "contoso-sovereign",
		LoginEndpoint: "https://login.contoso.example",
		Graph:         Service{Endpoint: "https://graph.contoso.example", Resource: "https://graph.contoso.example"},
		PartnerCenter: Service{Endpoint: "https://partner.contoso.example", Resource: "https://partner.contoso.example"},
		Exchange:      Service{Endpoint: "https://outlook.contoso.example", Resource: "https://outlook.contoso.example"},
	}
	b, err := json.Marshal(custom)
	require.NoError(t, err)
	got, err := Parse(strings.NewReader(string(b)))
	require.NoError(t, err)
	assert.Equal(t, custom, got, "what Marshal writes, Parse reads")
	assert.False(t, got.IsBuiltin())

	for name, c := range map[string]struct{ json, want string }{
		"misspelt field": {`{"name":"x","loginEndpont":"https://login.example"}`, "loginEndpont"},
		"no name":        {strings.Replace(string(b), `"name":"contoso-sovereign"`, `"name":" "`, 1), `no "name"`},
		"plain http":     {strings.Replace(string(b), "https://graph.contoso", "http://graph.contoso", 1), "must use https"},
		"no resource":    {strings.Replace(string(b), `"resource":"https://outlook.contoso.example"`, `"resource":""`, 1), "Exchange resource"},
		"two objects":    {string(b) + string(b), "more than one"},
		"not JSON":       {"public", "reading a cloud description"},
	} {
		_, err := Parse(strings.NewReader(c.json))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

func TestIsBuiltin(t *testing.T) {
	t.Parallel()
	for _, c := range Builtins() {
		assert.True(t, c.IsBuiltin(), c.Name)
		c.Name += "-copy"
		assert.False(t, c.IsBuiltin(), c.Name)
	}
}
