package sam

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// rotateEnv is a set-up SAM app and the options to rotate its secret.
func rotateEnv(t *testing.T) (*setupEnv, rotation, token.Credentials) {
	t.Helper()
	e := newSetupEnv(t)
	e.setup(t.Context(), e.options())
	creds, err := e.store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return e, rotation{Graph: e.adminGraph(), Store: e.store, Cloud: e.s.Cloud(), HTTPClient: e.s.Client()}, creds
}

// rotateSecret replaces the client secret, as RotateSecret does after the
// admin's sign-in.
func rotateSecret(ctx context.Context, opts rotation) (RotateResult, error) {
	opts.Kind = CredentialSecret
	return rotateCredential(ctx, opts)
}

// secretWorks reports whether the identity platform accepts c's secret.
func (e *setupEnv) secretWorks(c token.Credentials) error {
	p, err := token.NewProvider(token.Credentials{TenantID: c.TenantID, ApplicationID: c.ApplicationID, ClientSecret: c.ClientSecret},
		token.WithCloud(e.s.Cloud()), token.WithHTTPClient(e.s.Client()))
	if err != nil {
		return err
	}
	_, err = p.AppToken(e.t.Context(), c.TenantID, e.s.Cloud().Graph.Scope())
	return err
}

func (e *setupEnv) secretCount(appID string) int {
	n := 0
	e.s.Read(func(w *testserver.World) { n = len(w.Apps[appID].Passwords) })
	return n
}

// assertKept checks that a failed rotation left the store and the app as
// they were, with a working secret.
func assertKept(t *testing.T, e *setupEnv, old token.Credentials) {
	t.Helper()
	now, err := e.store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !now.ClientSecret.Equal(old.ClientSecret) {
		t.Error("the store's secret changed after a failed rotation")
	}
	if err := e.secretWorks(now); err != nil {
		t.Errorf("the stored secret does not work: %v", err)
	}
	if n := e.secretCount(old.ApplicationID); n != 1 {
		t.Errorf("the app has %d secrets, want the old one alone", n)
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	var oldKey string
	e.s.Read(func(w *testserver.World) { oldKey = w.Apps[old.ApplicationID].Passwords[0].KeyID })

	res, err := rotateSecret(t.Context(), opts)
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	if res.RemovedKeyID != oldKey || res.KeyID == "" || res.KeyID == oldKey {
		t.Errorf("result = %+v, want the old key %s removed and a new one", res, oldKey)
	}
	now, err := e.store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if now.ClientSecret.Equal(old.ClientSecret) {
		t.Fatal("the store still holds the old secret")
	}
	if !now.RefreshToken.Equal(old.RefreshToken) {
		t.Error("the rotation changed the refresh token")
	}
	if err := e.secretWorks(now); err != nil {
		t.Errorf("the new secret does not work: %v", err)
	}
	if err := e.secretWorks(old); !errors.Is(err, token.ErrInvalidClient) {
		t.Errorf("the old secret: %v, want it refused", err)
	}
	if n := e.secretCount(old.ApplicationID); n != 1 {
		t.Errorf("the app has %d secrets, want 1", n)
	}
}

func TestRotateSecretVerifyFails(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "login", Path: "/oauth2/v2.0/token", Count: 100})
	_, err := rotateSecret(t.Context(), opts)
	e.s.ClearFaults()
	if err == nil {
		t.Fatal("RotateSecret succeeded with a secret that could not be verified")
	}
	assertKept(t, e, old)
}

func TestRotateSecretCustomVerifyFails(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	bad := errors.New("not accepted")
	opts.Verify = func(context.Context, token.Credentials) error { return bad }
	if _, err := rotateSecret(t.Context(), opts); !errors.Is(err, bad) {
		t.Fatalf("RotateSecret = %v, want the verification's error", err)
	}
	assertKept(t, e, old)
}

func TestRotateSecretSaveFails(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	opts.Store = failingStore{Store: e.store}
	if _, err := rotateSecret(t.Context(), opts); !errors.Is(err, errSaveFailed) {
		t.Fatalf("RotateSecret = %v, want the store's error", err)
	}
	assertKept(t, e, old)
}

func TestRotateSecretCannotRemoveNew(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	opts.Store = failingStore{Store: e.store}
	e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "graph", Path: "/removePassword", Count: 100})
	_, err := rotateSecret(t.Context(), opts)
	e.s.ClearFaults()
	if !errors.Is(err, errSaveFailed) || !errors.Is(err, graph.ErrBadRequest) {
		t.Fatalf("RotateSecret = %v, want the store's error and the failed removal", err)
	}
	now, _ := e.store.Load(t.Context())
	if !now.ClientSecret.Equal(old.ClientSecret) || e.secretWorks(now) != nil {
		t.Error("the store lost its working secret")
	}
}

func TestRotateSecretOldRemovalFails(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	e.s.Inject(testserver.Fault{Kind: testserver.Status, Status: http.StatusBadRequest, Service: "graph", Path: "/removePassword", Count: 100})
	res, err := rotateSecret(t.Context(), opts)
	e.s.ClearFaults()
	if !errors.Is(err, ErrOldSecretKept) {
		t.Fatalf("RotateSecret = %v, want ErrOldSecretKept", err)
	}
	if res.KeyID == "" || res.RemovedKeyID != "" {
		t.Errorf("result = %+v, want the new key and nothing removed", res)
	}
	now, _ := e.store.Load(t.Context())
	if now.ClientSecret.Equal(old.ClientSecret) {
		t.Error("the store kept the old secret after a rotation that succeeded")
	}
	if err := e.secretWorks(now); err != nil {
		t.Errorf("the stored secret does not work: %v", err)
	}
	if n := e.secretCount(old.ApplicationID); n != 2 {
		t.Errorf("the app has %d secrets, want both", n)
	}
}

func TestRotateOptionsValidation(t *testing.T) {
	t.Parallel()
	if _, err := rotateSecret(t.Context(), rotation{}); err == nil {
		t.Error("RotateSecret accepted options without Graph and Store")
	}
}

func TestMatchSecret(t *testing.T) {
	t.Parallel()
	pcs := []graph.PasswordCredential{{KeyID: "a", Hint: "abc"}, {KeyID: "b", Hint: "xyz"}, {KeyID: "c", Hint: "xyz"}}
	tests := []struct {
		secret, want string
	}{
		{"abc8Q~rest", "a"},
		{"xyz8Q~rest", ""}, // two secrets share the hint: neither is removed
		{"qqq8Q~rest", ""},
		{"", ""},
	}
	for _, tt := range tests {
		s := token.Secret{}
		if tt.secret != "" {
			s = token.NewSecret(tt.secret)
		}
		if got := matchSecret(pcs, s); got != tt.want {
			t.Errorf("matchSecret(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
}

// savedButFailingStore saves, then reports a failure, as a FileStore does
// when the directory cannot be synced after the new file was renamed into
// place.
type savedButFailingStore struct{ Store }

func (s savedButFailingStore) Save(ctx context.Context, c token.Credentials) error {
	if err := s.Store.Save(ctx, c); err != nil {
		return err
	}
	return errSaveFailed
}

// TestRotateSecretSaveFailsAfterSaving: a save that reports a failure
// once the store already holds the new secret must not be undone by
// removing that secret from the app, which would leave the store without a
// working credential.
func TestRotateSecretSaveFailsAfterSaving(t *testing.T) {
	t.Parallel()
	e, opts, old := rotateEnv(t)
	opts.Store = savedButFailingStore{Store: e.store}
	res, err := rotateSecret(t.Context(), opts)
	require.NoError(t, err, "the store holds the new secret: the rotation completes")
	now, err := e.store.Load(t.Context())
	require.NoError(t, err)
	assert.False(t, now.ClientSecret.Equal(old.ClientSecret), "the store holds the new secret")
	require.NoError(t, e.secretWorks(now), "the stored secret works")
	assert.Equal(t, 1, e.secretCount(old.ApplicationID), "the old secret was removed, the new one kept")
	assert.NotEmpty(t, res.RemovedKeyID)
}
