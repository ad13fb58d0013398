package token

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRotationPersistedBeforeTokenReturned(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	store := &memStore{}
	p := newTestProvider(t, s, testCredentials(), WithRefreshTokenStore(store))
	for i, tenant := range []string{customerA, customerB, partnerTID} {
		if _, err := p.Token(t.Context(), tenant, graphScope); err != nil {
			t.Fatal(err)
		}
		saved := store.list()
		want := fmt.Sprintf("1.AQ-rotated-%d", i+1)
		if len(saved) != i+1 || saved[i] != want {
			t.Fatalf("after token %d the store holds %v, want it to end with %s", i+1, saved, want)
		}
		if got := p.RefreshToken(RefreshSAM).Reveal(); got != want {
			t.Errorf("Provider's refresh token = %s, want %s", got, want)
		}
	}
	// Every redemption used the token saved by the one before.
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.calls {
		want := testRT
		if i > 0 {
			want = fmt.Sprintf("1.AQ-rotated-%d", i)
		}
		if got := c.form.Get("refresh_token"); got != want {
			t.Errorf("redemption %d used %s, want %s", i+1, got, want)
		}
	}
}

func TestStoreFailureFailsTheRequest(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	store := &memStore{err: errors.New("disk full")}
	p := newTestProvider(t, s, testCredentials(), WithRefreshTokenStore(store))
	tok, err := p.Token(t.Context(), customerA, graphScope)
	if err == nil || !errors.Is(err, store.err) || !strings.Contains(err.Error(), "*token.memStore") || !tok.AccessToken.IsZero() {
		t.Fatalf("Token = %v, %v; want no token and an error naming the store and wrapping its error", tok.AccessToken, err)
	}
	// The new refresh token is kept in memory and used next time, when
	// the save is retried.
	if got := p.RefreshToken(RefreshSAM).Reveal(); got != "1.AQ-rotated-1" {
		t.Errorf("in-memory refresh token = %s, want the rotated 1.AQ-rotated-1", got)
	}
	store.mu.Lock()
	store.err = nil
	store.mu.Unlock()
	if _, err := p.Token(t.Context(), customerA, graphScope); err != nil {
		t.Fatal(err)
	}
	if got := s.lastCall().form.Get("refresh_token"); got != "1.AQ-rotated-1" {
		t.Errorf("retry redeemed %s, want 1.AQ-rotated-1", got)
	}
	if got := store.list(); len(got) != 1 || got[0] != "1.AQ-rotated-2" {
		t.Errorf("store holds %v, want [1.AQ-rotated-2]", got)
	}
}

// TestRotationOrdering drives refreshChain directly: while one save is
// slow, two newer rotations arrive; the store then sees the newest, once,
// and never the one in between after it.
func TestRotationOrdering(t *testing.T) {
	t.Parallel()
	c := &refreshChain{kind: RefreshSAM, rt: NewSecret("rt-0")}
	release := make(chan struct{})
	var (
		mu    sync.Mutex
		saved []string
	)
	first := true
	store := RefreshTokenStoreFunc(func(_ context.Context, _ RefreshKind, rt Secret) error {
		mu.Lock()
		block := first
		first = false
		mu.Unlock()
		if block {
			<-release
		}
		mu.Lock()
		saved = append(saved, rt.Reveal())
		mu.Unlock()
		return nil
	})
	ctx := t.Context()
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.rotate(ctx, NewSecret("rt-1"), time.Time{}, 0, store) })
	waitGen(t, c, 1)
	wg.Go(func() { _ = c.rotate(ctx, NewSecret("rt-2"), time.Time{}, 1, store) })
	waitGen(t, c, 2)
	wg.Go(func() { _ = c.rotate(ctx, NewSecret("rt-3"), time.Time{}, 2, store) })
	waitGen(t, c, 3)
	close(release)
	wg.Wait()
	if want := []string{"rt-1", "rt-3"}; fmt.Sprint(saved) != fmt.Sprint(want) {
		t.Errorf("store saw %v, want %v", saved, want)
	}
	if c.current().Reveal() != "rt-3" {
		t.Errorf("current = %s, want rt-3", c.current().Reveal())
	}
}

func waitGen(t *testing.T, c *refreshChain, gen uint64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		g := c.gen
		c.mu.Unlock()
		if g >= gen {
			return
		}
	}
	t.Fatalf("rotation %d never arrived", gen)
}

// TestConcurrentRotationsNewestWins races redemptions for many tenants
// against a slow store: the store ends with the Provider's newest token
// and never sees a token twice or an older one after a newer.
func TestConcurrentRotationsNewestWins(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	var (
		mu    sync.Mutex
		saved []string
	)
	store := RefreshTokenStoreFunc(func(_ context.Context, _ RefreshKind, rt Secret) error {
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, rt.Reveal())
		return nil
	})
	p := newTestProvider(t, s, testCredentials(), WithRefreshTokenStore(store))
	scopes := []string{graphScope, pcScope, exoResource + "/.default"}
	var wg sync.WaitGroup
	for _, tenant := range []string{customerA, customerB, partnerTID} {
		for _, scope := range scopes {
			wg.Go(func() {
				if _, err := p.Token(t.Context(), tenant, scope); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(saved) == 0 || saved[len(saved)-1] != p.RefreshToken(RefreshSAM).Reveal() {
		t.Fatalf("store ends with %v, want the Provider's newest %s", saved, p.RefreshToken(RefreshSAM).Reveal())
	}
	seen := map[string]bool{}
	for _, rt := range saved {
		if seen[rt] {
			t.Errorf("store saw %s twice: %v", rt, saved)
		}
		seen[rt] = true
	}
}

// obtainedStore records what a RefreshTokenObtainedStore is told.
type obtainedStore struct {
	kind RefreshKind
	rt   string
	at   time.Time
}

func (s *obtainedStore) SaveRefreshToken(context.Context, RefreshKind, Secret) error {
	return errors.New("SaveRefreshToken called on a store that takes the obtained-at time")
}

func (s *obtainedStore) SaveRefreshTokenObtained(_ context.Context, kind RefreshKind, rt Secret, at time.Time) error {
	s.kind, s.rt, s.at = kind, rt.Reveal(), at
	return nil
}

// TestRotateTellsWhenObtained: a store that takes the obtained-at time gets
// the time the token arrived, which processes sharing the store order
// their tokens by.
func TestRotateTellsWhenObtained(t *testing.T) {
	t.Parallel()
	c := &refreshChain{kind: RefreshExchange, rt: NewSecret("rt-0")}
	s := &obtainedStore{}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := c.rotate(t.Context(), NewSecret("rt-1"), at, 0, s); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if s.kind != RefreshExchange || s.rt != "rt-1" || !s.at.Equal(at) {
		t.Errorf("store told %v %q obtained %v, want Exchange rt-1 obtained %v", s.kind, s.rt, s.at, at)
	}
}
