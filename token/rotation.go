package token

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// RefreshKind names one of the two refresh tokens a Provider holds.
type RefreshKind uint8

const (
	// RefreshSAM is Credentials.RefreshToken, of the SAM app.
	RefreshSAM RefreshKind = iota + 1
	// RefreshExchange is Credentials.ExchangeRefreshToken, of the Exchange
	// Online PowerShell public client.
	RefreshExchange
)

func (k RefreshKind) String() string {
	switch k {
	case RefreshSAM:
		return "SAM"
	case RefreshExchange:
		return "Exchange"
	}
	return fmt.Sprintf("RefreshKind(%d)", uint8(k))
}

// RefreshTokenStore persists rotated refresh tokens. Every token response
// carries a new refresh token and the lifetime of the chain is 90 days of
// inactivity, so a store that keeps the newest one keeps the credential
// alive for as long as it is used.
//
// The Provider calls SaveRefreshToken before it returns the access token
// that came with rt, never concurrently, and never with a token issued
// before one it already saved (when rotations race, some tokens are
// skipped). An error fails that token request.
type RefreshTokenStore interface {
	SaveRefreshToken(ctx context.Context, kind RefreshKind, rt Secret) error
}

// RefreshTokenObtainedStore is a RefreshTokenStore that is also told when
// each refresh token was obtained (on the Provider's clock, as its answer
// arrived). The Provider calls SaveRefreshTokenObtained instead of
// SaveRefreshToken when its store has it. A store that processes share
// needs the time: each Provider keeps its own chain from stepping back,
// but only the store sees the tokens of the others, and it keeps the file
// from stepping back by never replacing a token with one obtained
// earlier.
type RefreshTokenObtainedStore interface {
	RefreshTokenStore
	SaveRefreshTokenObtained(ctx context.Context, kind RefreshKind, rt Secret, obtainedAt time.Time) error
}

// RefreshTokenStoreFunc adapts a function to RefreshTokenStore.
type RefreshTokenStoreFunc func(ctx context.Context, kind RefreshKind, rt Secret) error

// SaveRefreshToken calls f.
func (f RefreshTokenStoreFunc) SaveRefreshToken(ctx context.Context, kind RefreshKind, rt Secret) error {
	return f(ctx, kind, rt)
}

// refreshChain is the newest refresh token of one kind and its
// persistence. Redemptions run concurrently, and the identity platform
// may issue their rotated tokens in another order than they arrive; so a
// rotated token is adopted only if no other was adopted since its
// redemption began: one that began earlier may have been issued before
// the token in use, and adopting it would step the chain back. The
// tokens not adopted stay valid (rotation revokes nothing) and are
// simply not kept. Saves are serialised and always write the newest
// generation, so a save that finishes late cannot overwrite a newer
// token.
type refreshChain struct {
	kind RefreshKind

	mu       sync.Mutex // guards rt, obtained and gen
	rt       Secret
	obtained time.Time // when rt arrived; zero for the initial token
	gen      uint64    // adoptions so far

	saveMu sync.Mutex // serialises saves; guards saved
	saved  uint64     // generation last written to the store
}

// current returns the newest refresh token.
func (c *refreshChain) current() Secret {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rt
}

// take returns the newest refresh token, for a redemption, and its
// generation, which the redemption hands back to rotate.
func (c *refreshChain) take() (Secret, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rt, c.gen
}

// rotate adopts rt, just received (at obtained) for a redemption that took
// the token of generation from, unless a newer token was adopted
// meanwhile; then it persists the newest token if the store does not hold
// it yet. When the store fails, the adopted token stays the one used for
// the next redemption, and the next rotation saves again.
func (c *refreshChain) rotate(ctx context.Context, rt Secret, obtained time.Time, from uint64, store RefreshTokenStore) error {
	c.mu.Lock()
	if c.gen == from {
		c.gen++
		c.rt, c.obtained = rt, obtained
	}
	c.mu.Unlock()
	if store == nil {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	newest, at, gen := c.rt, c.obtained, c.gen
	c.mu.Unlock()
	if gen <= c.saved {
		return nil
	}
	save := store.SaveRefreshToken
	if ts, ok := store.(RefreshTokenObtainedStore); ok {
		save = func(ctx context.Context, kind RefreshKind, rt Secret) error {
			return ts.SaveRefreshTokenObtained(ctx, kind, rt, at)
		}
	}
	if err := save(ctx, c.kind, newest); err != nil {
		return fmt.Errorf("token: saving the rotated %s refresh token to %T: %w", c.kind, store, err)
	}
	c.saved = gen
	return nil
}
