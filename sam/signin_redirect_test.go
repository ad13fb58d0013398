package sam

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
)

// TestSignInFollowsNoRedirect: the admin sign-in's requests, which carry
// device codes and refresh tokens, are not re-sent to where a 307 points,
// even through a caller's client that would follow it.
func TestSignInFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	elsewhere := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(elsewhere.Close)
	login := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(login.Close)

	c := cloud.Public
	c.Name, c.LoginEndpoint = "redirecting", login.URL
	// httptest's TLS servers share one certificate: the caller trusts both,
	// and follows redirects, as Go's default does.
	caller := login.Client()
	p := SignInParams{Cloud: c, HTTPClient: caller, ClientID: GraphCommandLineToolsClientID, Tenant: "organizations",
		Scopes: adminScopes(c.Graph.Endpoint), Notify: func(string) {}}
	_, err := DeviceCodeSignIn{}.SignIn(t.Context(), p)
	require.Error(t, err, "a sign-in answered only with redirects")
	assert.Zero(t, reached.Load(), "requests that reached the redirect's target")
	assert.Nil(t, caller.CheckRedirect, "the caller's client is left as it was")
}
