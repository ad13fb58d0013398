package graph

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

func newKeyCert(t *testing.T) *token.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "graph test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &token.Certificate{Chain: []*x509.Certificate{c}, Key: key}
}

// TestAddKeyRemoveKey: the first certificate goes on with a PATCH, the
// next with AddKey proven by the first, and the first comes off with
// RemoveKey proven by the next; a proof from a key the app lacks is
// refused.
func TestAddKeyRemoveKey(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	ctx := t.Context()
	app, err := f.c.CreateApplication(ctx, Application{DisplayName: "keys"})
	require.NoError(t, err)
	first, next, stranger := newKeyCert(t), newKeyCert(t), newKeyCert(t)
	require.NoError(t, f.c.UpdateApplication(ctx, app.ID, Application{KeyCredentials: []KeyCredential{
		{Type: "AsymmetricX509Cert", Usage: "Verify", Key: first.Chain[0].Raw}}}))
	got, err := f.c.GetApplication(ctx, app.ID)
	require.NoError(t, err)
	require.Len(t, got.KeyCredentials, 1)
	firstID := got.KeyCredentials[0].KeyID
	assert.Empty(t, got.KeyCredentials[0].Key, "a plain read returns no key")
	keys, err := f.c.ApplicationKeyCredentials(ctx, app.ID)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, first.Chain[0].Raw, keys[0].Key, "a read selecting keyCredentials returns the certificate")

	proof, err := token.KeyProof(stranger, app.ID, time.Now())
	require.NoError(t, err)
	_, err = f.c.AddKey(ctx, app.ID, KeyCredential{Key: next.Chain[0].Raw}, proof)
	require.ErrorIs(t, err, ErrUnauthorized, "a proof signed by a key the app does not have")

	proof, err = token.KeyProof(first, app.ID, time.Now())
	require.NoError(t, err)
	kc, err := f.c.AddKey(ctx, app.ID, KeyCredential{DisplayName: "next", Key: next.Chain[0].Raw}, proof)
	require.NoError(t, err)
	assert.NotEmpty(t, kc.KeyID)
	assert.Empty(t, kc.Key, "Graph never returns the key")
	assert.Equal(t, "next", kc.DisplayName)

	proof, err = token.KeyProof(next, app.ID, time.Now())
	require.NoError(t, err)
	require.NoError(t, f.c.RemoveKey(ctx, app.ID, firstID, proof))
	var left []string
	f.s.Read(func(w *testserver.World) {
		for _, k := range w.Apps[app.AppID].Certificates {
			left = append(left, k.KeyID)
		}
	})
	assert.Equal(t, []string{kc.KeyID}, left)

	_, err = f.c.AddKey(ctx, app.ID, KeyCredential{}, proof)
	assert.ErrorIs(t, err, ErrInvalidArgument, "no certificate: refused before sending")
	assert.ErrorIs(t, f.c.RemoveKey(ctx, app.ID, "not-a-guid", proof), ErrInvalidArgument)
}
