package token

import (
	"context"
	"fmt"
	"sync"
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
// that came with rt, never concurrently, and never with a token older than
// one it already saved (when rotations race, intermediate tokens may be
// skipped). An error fails that token request.
type RefreshTokenStore interface {
	SaveRefreshToken(ctx context.Context, kind RefreshKind, rt Secret) error
}

// RefreshTokenStoreFunc adapts a function to RefreshTokenStore.
type RefreshTokenStoreFunc func(ctx context.Context, kind RefreshKind, rt Secret) error

// SaveRefreshToken calls f.
func (f RefreshTokenStoreFunc) SaveRefreshToken(ctx context.Context, kind RefreshKind, rt Secret) error {
	return f(ctx, kind, rt)
}

// refreshChain is the newest refresh token of one kind and its
// persistence. Generations order rotations by when their responses
// arrived; saves are serialised and always write the newest generation,
// so a save that finishes late cannot overwrite a newer token.
type refreshChain struct {
	kind RefreshKind

	mu  sync.Mutex // guards rt and gen
	rt  Secret
	gen uint64

	saveMu sync.Mutex // serialises saves; guards saved
	saved  uint64     // generation last written to the store
}

// current returns the newest refresh token.
func (c *refreshChain) current() Secret {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rt
}

// rotate records rt, just received, as the newest refresh token and
// persists it (or a newer one, if another response arrived meanwhile).
// When the store fails, rt stays the one used for the next redemption, and
// the next rotation saves again.
func (c *refreshChain) rotate(ctx context.Context, rt Secret, store RefreshTokenStore) error {
	c.mu.Lock()
	c.gen++
	c.rt = rt
	c.mu.Unlock()
	if store == nil {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	newest, gen := c.rt, c.gen
	c.mu.Unlock()
	if gen <= c.saved {
		return nil
	}
	if err := store.SaveRefreshToken(ctx, c.kind, newest); err != nil {
		return fmt.Errorf("token: saving the rotated %s refresh token to %T: %w", c.kind, store, err)
	}
	c.saved = gen
	return nil
}
