package token

import (
	"sync"
	"time"
)

// cacheKey identifies a token: how it is obtained, by which client, for
// which tenant and scope. It is comparable, so a lookup hashes its fields
// in place and allocates nothing.
type cacheKey struct {
	kind   Kind
	client string
	tenant string
	scope  string
}

type cacheEntry struct {
	tok Token
	// refreshAt is when the token stops being served: the expiry window
	// before its expiry.
	refreshAt time.Time
}

// cache holds one token per key. Reads vastly outnumber writes (a token
// lives an hour and is read on every API call), hence a map under a
// read-write lock. Entries are replaced, never evicted: there is one per
// tenant and scope in use, a few hundred bytes each.
type cache struct {
	mu sync.RWMutex
	m  map[cacheKey]cacheEntry
}

// get returns the token for k if it may still be served at now.
func (c *cache) get(k cacheKey, now time.Time) (Token, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.refreshAt) {
		return Token{}, false
	}
	return e.tok, true
}

// put stores tok, obtained at now, to be served until window before its
// expiry. A window longer than half the token's lifetime is shortened to
// half, so that a server issuing short-lived tokens does not cause a
// request per call.
func (c *cache) put(k cacheKey, tok Token, now time.Time, window time.Duration) {
	if life := tok.Expiry.Sub(now); window > life/2 {
		window = max(0, life/2)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey]cacheEntry)
	}
	c.m[k] = cacheEntry{tok: tok, refreshAt: tok.Expiry.Add(-window)}
}

// invalidate drops k's token if it is still tok, so that a caller holding
// an old token cannot evict a fresher one.
func (c *cache) invalidate(k cacheKey, tok Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok && e.tok.AccessToken.Equal(tok.AccessToken) {
		delete(c.m, k)
	}
}
