package testserver

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keysFixture is a SAM app with a certificate, an admin token to manage
// it, and a second certificate to roll to.
type keysFixture struct {
	credsFixture
	tok  string
	next AppInfo
}

func newKeysFixture(t *testing.T) keysFixture {
	t.Helper()
	f := newCredsFixture(t)
	cert, key, err := selfSignedCertificate("next", time.Now())
	require.NoError(t, err)
	next := f.app
	next.Certificate, next.Key = cert, key
	return keysFixture{credsFixture: f, tok: graphAdminToken(f.s, "", graphAllScopes...), next: next}
}

// proof is a proof of possession signed by signer's certificate, as
// https://learn.microsoft.com/graph/application-rollkey-prooftoken makes it.
func (f keysFixture) proof(t *testing.T, signer AppInfo, edit func(h, c map[string]any)) string {
	return assertion(t, signer, "00000003-0000-0000-c000-000000000000", func(h, c map[string]any) {
		c["iss"] = f.app.ObjectID
		delete(c, "sub")
		delete(c, "jti")
		h["alg"] = "RS256"
		if edit != nil {
			edit(h, c)
		}
	})
}

func (f keysFixture) addKey(t *testing.T, proof string) (int, map[string]any) {
	t.Helper()
	status, body, _ := graphDo(t, f.s, f.tok, http.MethodPost, "/applications/"+f.app.ObjectID+"/addKey", map[string]any{
		"keyCredential": map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify",
			"key": base64.StdEncoding.EncodeToString(f.next.Certificate.Raw)},
		"passwordCredential": nil, "proof": proof,
	})
	return status, body
}

func (f keysFixture) keys(t *testing.T) []any {
	t.Helper()
	_, got := graphGet(t, f.s, f.tok, "/applications/"+f.app.ObjectID)
	keys, _ := got["keyCredentials"].([]any)
	return keys
}

// TestGraphAddKeyProof: addKey takes a proof signed by a current
// certificate of the app, naming the app's object id, for at most ten
// minutes; anything else is refused as Graph refuses it.
func TestGraphAddKeyProof(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(f keysFixture) func(h, c map[string]any)
		// signer "next" signs with the certificate being added.
		signer string
	}{
		{"no proof", nil, "none"},
		{"iss is the appId, not the object id", func(f keysFixture) func(h, c map[string]any) {
			return func(_, c map[string]any) { c["iss"] = f.app.AppID }
		}, "current"},
		{"aud is not Graph", func(keysFixture) func(h, c map[string]any) {
			return func(_, c map[string]any) { c["aud"] = "https://graph.microsoft.com" }
		}, "current"},
		{"valid for longer than ten minutes", func(keysFixture) func(h, c map[string]any) {
			return func(_, c map[string]any) { c["exp"] = time.Now().Add(20 * time.Minute).Unix() }
		}, "current"},
		{"expired", func(keysFixture) func(h, c map[string]any) {
			return func(_, c map[string]any) {
				c["nbf"], c["exp"] = time.Now().Add(-20*time.Minute).Unix(), time.Now().Add(-11*time.Minute).Unix()
			}
		}, "current"},
		{"signed by a key the app does not have", nil, "next"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newKeysFixture(t)
			var edit func(h, c map[string]any)
			if tc.edit != nil {
				edit = tc.edit(f)
			}
			proof := ""
			switch tc.signer {
			case "current":
				proof = f.proof(t, f.app, edit)
			case "next":
				proof = f.proof(t, f.next, edit)
			}
			status, body := f.addKey(t, proof)
			assert.Equal(t, http.StatusUnauthorized, status, "a bad proof: %v", body)
			assert.Equal(t, "Authentication_MissingOrMalformed", graphErrCode(body))
			assert.Len(t, f.keys(t), 1, "a refused addKey adds nothing")
		})
	}
}

// TestGraphRollKey adds a certificate with addKey, waits out the
// credential delay, and removes the old one with removeKey; the token
// endpoint follows each step.
func TestGraphRollKey(t *testing.T) {
	t.Parallel()
	f := newKeysFixture(t)
	f.s.Mutate(func(w *World) { w.CredentialDelay = 5 * time.Second })
	oldKeyID := f.keys(t)[0].(map[string]any)["keyId"].(string)

	status, body := f.addKey(t, f.proof(t, f.app, nil))
	require.Equal(t, http.StatusOK, status, "addKey: %v", body)
	newKeyID, _ := body["keyId"].(string)
	require.NotEmpty(t, newKeyID)
	assert.Nil(t, body["key"], "Graph never returns the key")
	assert.NotEmpty(t, body["customKeyIdentifier"], "the certificate's thumbprint")
	require.Len(t, f.keys(t), 2)

	scope := "https://graph.microsoft.com/.default"
	withNext := func() tokenReply {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID}, "scope": {scope},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {assertion(t, f.next, f.endpoint(f.customer), nil)}}
		return postToken(t, f.s, f.customer, form)
	}
	r := withNext()
	wantError(t, r, http.StatusUnauthorized, "invalid_client", 700027)
	assert.Contains(t, r.str("error_description"), "The key was not found.", "not yet replicated to the token service")
	f.s.Clock().Advance(5 * time.Second)
	require.Equal(t, http.StatusOK, withNext().Status, "the new certificate works once replicated")

	// The new certificate proves possession to remove the old one.
	status, body, _ = graphDo(t, f.s, f.tok, http.MethodPost, "/applications/"+f.app.ObjectID+"/removeKey",
		map[string]any{"keyId": oldKeyID, "proof": f.proof(t, f.next, nil)})
	require.Equal(t, http.StatusNoContent, status, "removeKey: %v", body)
	keys := f.keys(t)
	require.Len(t, keys, 1)
	assert.Equal(t, newKeyID, keys[0].(map[string]any)["keyId"])
	r = postToken(t, f.s, f.customer, f.assertionForm(t, scope, nil))
	wantError(t, r, http.StatusUnauthorized, "invalid_client", 700027)

	// removeKey of a key the app does not have.
	status, body, _ = graphDo(t, f.s, f.tok, http.MethodPost, "/applications/"+f.app.ObjectID+"/removeKey",
		map[string]any{"keyId": oldKeyID, "proof": f.proof(t, f.next, nil)})
	assert.Equal(t, http.StatusBadRequest, status, "%v", body)
}

// TestGraphAddKeyNeedsValidCertificate: an app with no certificate cannot
// use addKey (it uses PATCH), since nothing can sign the proof.
func TestGraphAddKeyNeedsValidCertificate(t *testing.T) {
	t.Parallel()
	f := newKeysFixture(t)
	f.s.Mutate(func(w *World) {
		for _, a := range w.Apps {
			if a.AppID == f.app.AppID {
				a.Certificates[0].End = time.Now().Add(-time.Hour)
			}
		}
	})
	status, body := f.addKey(t, f.proof(t, f.app, nil))
	assert.Equal(t, http.StatusUnauthorized, status, "an expired certificate proves nothing: %v", body)
}

// TestSecretStartAndDelay: a secret works from its startDateTime, and
// only once the credential delay has passed.
func TestSecretStartAndDelay(t *testing.T) {
	t.Parallel()
	f := newKeysFixture(t)
	f.s.Mutate(func(w *World) { w.CredentialDelay = 3 * time.Second })
	add := func(body map[string]any) string {
		status, got, _ := graphDo(t, f.s, f.tok, http.MethodPost, "/applications/"+f.app.ObjectID+"/addPassword", body)
		require.Equal(t, http.StatusOK, status, "addPassword: %v", got)
		return got["secretText"].(string)
	}
	try := func(secret string) tokenReply {
		form := f.secretForm("https://graph.microsoft.com/.default")
		form.Set("client_secret", secret)
		return postToken(t, f.s, f.customer, form)
	}
	now := add(map[string]any{"passwordCredential": map[string]any{"displayName": "now"}})
	later := add(map[string]any{"passwordCredential": map[string]any{"displayName": "later",
		"startDateTime": f.s.Clock().Now().Add(time.Hour).Format(time.RFC3339)}})
	wantError(t, try(now), http.StatusUnauthorized, "invalid_client", 7000215)
	f.s.Clock().Advance(3 * time.Second)
	assert.Equal(t, http.StatusOK, try(now).Status, "replicated")
	wantError(t, try(later), http.StatusUnauthorized, "invalid_client", 7000215)
	f.s.Clock().Advance(time.Hour)
	assert.Equal(t, http.StatusOK, try(later).Status, "started")
}

// TestPatchedKeyDelay: a certificate registered by PATCH also waits out
// the credential delay before the token endpoint knows it.
func TestPatchedKeyDelay(t *testing.T) {
	t.Parallel()
	f := newKeysFixture(t)
	f.s.Mutate(func(w *World) { w.CredentialDelay = 5 * time.Second })
	oldKeyID := f.keys(t)[0].(map[string]any)["keyId"].(string)
	status, body, _ := graphDo(t, f.s, f.tok, http.MethodPatch, "/applications/"+f.app.ObjectID, map[string]any{"keyCredentials": []any{
		map[string]any{"keyId": oldKeyID, "type": "AsymmetricX509Cert", "usage": "Verify", "key": nil},
		map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(f.next.Certificate.Raw)},
	}})
	require.Equal(t, http.StatusNoContent, status, "%v", body)
	form := func(signer AppInfo) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {assertion(t, signer, f.endpoint(f.customer), nil)}}
	}
	wantError(t, postToken(t, f.s, f.customer, form(f.next)), http.StatusUnauthorized, "invalid_client", 700027)
	assert.Equal(t, http.StatusOK, postToken(t, f.s, f.customer, form(f.app)).Status, "the certificate kept by keyId works on")
	f.s.Clock().Advance(5 * time.Second)
	assert.Equal(t, http.StatusOK, postToken(t, f.s, f.customer, form(f.next)).Status, "replicated")
}

// TestGraphKeyOnlyOnASelectedRead: a certificate's key comes back only on
// a read of one application that selects keyCredentials.
func TestGraphKeyOnlyOnASelectedRead(t *testing.T) {
	t.Parallel()
	f := newKeysFixture(t)
	require.NotEmpty(t, f.keys(t))
	for _, k := range f.keys(t) {
		assert.Nil(t, k.(map[string]any)["key"], "a plain read returns no key")
	}
	_, got := graphGet(t, f.s, f.tok, "/applications/"+f.app.ObjectID+"?$select="+url.QueryEscape("displayName,keyCredentials"))
	keys, _ := got["keyCredentials"].([]any)
	require.Len(t, keys, 1)
	assert.Equal(t, base64.StdEncoding.EncodeToString(f.app.Certificate.Raw), keys[0].(map[string]any)["key"])
	_, list := graphGet(t, f.s, f.tok, "/applications?$select=keyCredentials")
	for _, a := range list["value"].([]any) {
		for _, k := range a.(map[string]any)["keyCredentials"].([]any) {
			assert.Nil(t, k.(map[string]any)["key"], "a list returns no key")
		}
	}
}
