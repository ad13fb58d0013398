package sam

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

// custom is a cloud that no name describes.
var custom = cloud.Configuration{
	Name:          "contoso-sovereign",
	LoginEndpoint: "https://login.contoso.example",
	Graph:         cloud.Service{Endpoint: "https://graph.contoso.example", Resource: "https://graph.contoso.example"},
	PartnerCenter: cloud.Service{Endpoint: "https://partner.contoso.example", Resource: "https://partner.contoso.example"},
	Exchange:      cloud.Service{Endpoint: "https://outlook.contoso.example", Resource: "https://outlook.contoso.example"},
}

func TestFileStoreCloudRoundTrip(t *testing.T) {
	t.Parallel()
	renamed := cloud.Public
	renamed.Name = "my-public"
	for name, c := range map[string]cloud.Configuration{
		"built-in":               cloud.USGovernmentDoD,
		"custom":                 custom,
		"a built-in's endpoints": renamed,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newTestStore(t, WithFileCloud(c))
			require.NoError(t, s.Save(ctx, testCredentials()))
			got, err := s.Cloud(ctx)
			require.NoError(t, err)
			assert.Equal(t, c, got)
			_, hasEndpoints := readDoc(t, s.Path())["cloudEndpoints"]
			assert.Equal(t, !c.IsBuiltin(), hasEndpoints, "endpoints are saved for a custom cloud only")

			// A store without WithFileCloud keeps it, and so does a
			// rotated refresh token.
			again := NewFileStore(s.Path())
			require.NoError(t, again.Save(ctx, testCredentials()))
			require.NoError(t, again.SaveRefreshToken(ctx, token.RefreshSAM, testCredentials().RefreshToken))
			got, err = again.Cloud(ctx)
			require.NoError(t, err)
			assert.Equal(t, c, got)
		})
	}
}

func TestFileStoreRefusesBadCustomCloud(t *testing.T) {
	t.Parallel()
	noName := custom
	noName.Name = ""
	plain := custom
	plain.Graph.Endpoint = "http://graph.contoso.example"
	for name, c := range map[string]cloud.Configuration{"no name": noName, "plain http": plain} {
		s := newTestStore(t, WithFileCloud(c))
		err := s.Save(t.Context(), testCredentials())
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "WithFileCloud", name)
		_, statErr := os.Stat(s.Path())
		assert.True(t, os.IsNotExist(statErr), "%s: nothing written", name)
	}
}

// TestFileStoreUnknownCloudName: a file that names a cloud without its
// endpoints (as files saved before endpoints were kept do) says how to go
// on.
func TestFileStoreUnknownCloudName(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	require.NoError(t, s.Save(ctx, testCredentials()))
	doc := readDoc(t, s.Path())
	doc["cloud"] = "contoso-sovereign"
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.Path(), b, 0o600))
	_, err = s.Cloud(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--cloud-file")

	// Endpoints that belong to another name are refused too.
	e := custom
	doc["cloudEndpoints"] = e
	doc["cloud"] = "public"
	b, err = json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.Path(), b, 0o600))
	_, err = s.Cloud(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "save the credentials again")
}
