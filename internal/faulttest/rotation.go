package faulttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// Rotation sizes: callers spread over tenants, each asking for two
// resources, so that many redemptions of the one refresh token, each
// rotating it, are in flight at once.
const (
	rotationCallers = 200
	rotationTenants = 50
)

// RotationStore is the store under test: the refresh token it was created
// with is the SAM app's, and Stored reads back what it holds now.
type RotationStore interface {
	token.RefreshTokenStore
	Stored(ctx context.Context) (string, error)
}

// NewRotationStore makes the store under test, holding c.
type NewRotationStore func(t *testing.T, c token.Credentials) RotationStore

// Rotation runs 200 concurrent callers across 50 tenants through one
// Provider persisting to the store, with the identity platform throttling,
// failing and dropping connections now and then, and checks that nothing
// is lost and nothing goes backwards:
//
//   - every save is a refresh token the fake issued, issued no earlier
//     than the one saved before it;
//   - the store ends with the newest refresh token the Provider holds;
//   - a fresh Provider started from the store gets tokens with it.
func Rotation(t *testing.T, newStore NewRotationStore) {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		t.Fatal(err)
	}
	var tenants []string
	for range rotationTenants {
		id := srv.AddCustomer(testserver.CustomerSpec{GDAP: true, Users: 1})
		if err := srv.GrantConsent(app.AppID, id); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, id)
	}
	rt, err := srv.MintRefreshToken(app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	creds := token.Credentials{TenantID: srv.Partner().TenantID, ApplicationID: app.AppID,
		ClientSecret: token.NewSecret(app.Secret), RefreshToken: token.NewSecret(rt)}
	rec := &recordingStore{next: newStore(t, creds)}
	provider := func(c token.Credentials, store token.RefreshTokenStore) *token.Provider {
		opts := []token.Option{token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()), token.WithClock(srv.Clock().Now),
			token.WithRetryPolicy(token.RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond,
				MaxRetryAfter: 20 * time.Millisecond})}
		if store != nil {
			opts = append(opts, token.WithRefreshTokenStore(store))
		}
		p, err := token.NewProvider(c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := provider(creds, rec)

	for _, f := range []testserver.Fault{
		{Kind: testserver.Throttle, RetryAfter: "0.01", Count: 15},
		{Kind: testserver.Status, Status: 503, Count: 10},
		{Kind: testserver.Reset, Count: 10},
	} {
		f.Service = "login"
		srv.Inject(f)
	}
	scopes := []string{srv.Cloud().Graph.Scope(), srv.Cloud().Exchange.Scope()}
	var wg sync.WaitGroup
	errs := make(chan error, rotationCallers)
	for i := range rotationCallers {
		wg.Go(func() {
			tenant := tenants[i%rotationTenants]
			for _, scope := range scopes {
				// A request whose every attempt met a fault fails; the
				// caller tries again, as a job would on its next run.
				var err error
				for range 3 {
					if _, err = p.Token(t.Context(), tenant, scope); err == nil {
						break
					}
				}
				if err != nil {
					errs <- fmt.Errorf("tenant %s: %w", tenant, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	srv.ClearFaults()

	saved := rec.list()
	if len(saved) < 2 {
		t.Fatalf("%d refresh tokens saved, want several: redemptions begun after a rotation rotate again", len(saved))
	}
	var issued []time.Time
	srv.Read(func(w *testserver.World) {
		for _, s := range saved {
			if r := w.RefreshTokens[s]; r != nil {
				issued = append(issued, r.IssuedAt)
			}
		}
	})
	if len(issued) != len(saved) {
		t.Fatalf("%d of %d saved refresh tokens were never issued by the identity platform", len(saved)-len(issued), len(saved))
	}
	for i := 1; i < len(saved); i++ {
		if saved[i] == saved[i-1] || issued[i].Before(issued[i-1]) {
			t.Errorf("save %d went backwards: issued %v, after one issued %v", i, issued[i].Format(time.RFC3339Nano), issued[i-1].Format(time.RFC3339Nano))
		}
	}
	stored, err := rec.next.Stored(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if newest := p.RefreshToken(token.RefreshSAM).Reveal(); stored != newest || stored != saved[len(saved)-1] {
		t.Error("the store does not hold the newest refresh token")
	}
	creds.RefreshToken = token.NewSecret(stored)
	if _, err := provider(creds, nil).Token(t.Context(), srv.Partner().TenantID, scopes[0]); err != nil {
		t.Errorf("the stored refresh token does not work: %v", err)
	}
	t.Logf("%d rotations saved", len(saved))
}

// recordingStore records each save, in order, before passing it on.
type recordingStore struct {
	next RotationStore

	mu    sync.Mutex
	saved []string
}

func (s *recordingStore) SaveRefreshToken(ctx context.Context, kind token.RefreshKind, rt token.Secret) error {
	if kind != token.RefreshSAM {
		return errors.New("unexpected refresh token kind")
	}
	s.mu.Lock()
	s.saved = append(s.saved, rt.Reveal())
	s.mu.Unlock()
	return s.next.SaveRefreshToken(ctx, kind, rt)
}

func (s *recordingStore) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.saved...)
}

// MemoryStore is a RotationStore in memory.
type MemoryStore struct {
	mu sync.Mutex
	rt string
}

// SaveRefreshToken keeps rt.
func (m *MemoryStore) SaveRefreshToken(_ context.Context, _ token.RefreshKind, rt token.Secret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rt = rt.Reveal()
	return nil
}

// Stored returns the refresh token kept.
func (m *MemoryStore) Stored(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rt, nil
}
