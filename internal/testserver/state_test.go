package testserver

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A world saved and loaded into a new server keeps working: its refresh
// tokens, secrets, certificates, access tokens, clock and rehearsals.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	a, info := NewSandbox(SandboxSpec{Customers: 8, App: true})
	defer a.Close()
	cert := registerSAM(t, a, AppSpec{DisplayName: "with certificate", Certificate: true})
	a.Clock().Advance(time.Hour)
	require.NoError(t, a.Rehearse(RehearseInvokeCommandOff))
	graphTok := a.IssueAccessToken(TokenSpec{Resource: GraphResource, UserID: info.Partner.AdminID, UPN: info.Partner.AdminUPN,
		Scopes: []string{"User.Read.All"}, MFA: true})

	var buf bytes.Buffer
	require.NoError(t, a.SaveState(&buf))
	assert.NotContains(t, buf.String(), `"Certificate":{`, "certificates are saved as DER, not as Go structs")

	b := New()
	defer b.Close()
	require.NoError(t, b.LoadState(bytes.NewReader(buf.Bytes())))
	assert.Equal(t, a.Partner(), b.Partner())
	assert.Equal(t, GraphCommandLineToolsID, b.BootstrapClientID)
	assert.WithinDuration(t, a.Clock().Now(), b.Clock().Now(), time.Minute, "the clock keeps its offset")

	form := func(scope string) map[string][]string {
		return map[string][]string{"grant_type": {"refresh_token"}, "client_id": {info.App.AppID}, "client_secret": {info.App.Secret},
			"refresh_token": {info.RefreshToken}, "scope": {scope}}
	}
	r := postToken(t, b, info.Partner.TenantID, form("https://graph.microsoft.com/.default"))
	require.Equal(t, http.StatusOK, r.Status, "the refresh token minted before the restart works after it: %v", r.Body)
	var healthy string
	for _, c := range info.Customers {
		if c.Problem == ProblemNone {
			healthy = c.ID
			break
		}
	}
	r = postToken(t, b, healthy, form("https://graph.microsoft.com/.default"))
	assert.Equal(t, http.StatusOK, r.Status, "consent in a customer survives: %v", r.Body)

	status, _ := graphGet(t, b, graphTok, "/users?$top=1")
	assert.Equal(t, http.StatusOK, status, "an access token signed before the restart verifies after it")

	var kept bool
	b.Read(func(w *World) {
		app := w.Apps[cert.AppID]
		kept = app != nil && len(app.Certificates) == 1 && app.Certificates[0].Certificate.Equal(cert.Certificate)
	})
	assert.True(t, kept, "the certificate credential survives")
	assert.Contains(t, activeRehearsals(b), string(RehearseInvokeCommandOff))

	require.Error(t, b.LoadState(strings.NewReader(`{"version":99}`)), "another version is refused")
	require.Error(t, b.LoadState(strings.NewReader(`not json`)))
	assert.Equal(t, a.Partner(), b.Partner(), "a refused state changes nothing")
}

func activeRehearsals(s *Server) []string {
	var out []string
	for _, r := range s.Rehearsals() {
		if r.Active {
			out = append(out, string(r.Name))
		}
	}
	return out
}
