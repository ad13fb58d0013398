package token

import (
	"slices"
	"sync"
	"time"
)

// cacheKey identifies a token: how it is obtained, by which client, for
// which tenant and scope. It is comparable, so that a map of flights can
// be keyed by it.
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
// lives an hour and is read on every API call), hence maps under a
// read-write lock. Entries are replaced, never evicted: there is one per
// tenant and scope in use, a few hundred bytes each.
//
// The tokens are grouped by tenant: a hit hashes one short string and
// then compares the few slots of that tenant, one per resource and kind
// in use (their strings are usually the very same, compared by pointer),
// instead of hashing four fields into a map of every key, whose wide
// slots spread a large cache over many more cache lines.
type cache struct {
	mu sync.RWMutex
	m  map[string][]cacheSlot // by tenant
}

type cacheSlot struct {
	kind          Kind
	client, scope string
	cacheEntry
}

// find returns the index of k's slot among one tenant's, or -1.
func find(slots []cacheSlot, k cacheKey) int {
	for i := range slots {
		s := &slots[i]
		if s.kind == k.kind && s.scope == k.scope && s.client == k.client {
			return i
		}
	}
	return -1
}

// get returns the token for k if it may still be served at now.
func (c *cache) get(k cacheKey, now time.Time) (Token, bool) {
	c.mu.RLock()
	var e cacheEntry
	slots := c.m[k.tenant]
	i := find(slots, k)
	if i >= 0 {
		e = slots[i].cacheEntry
	}
	c.mu.RUnlock()
	ok := i >= 0
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
	e := cacheEntry{tok: tok, refreshAt: tok.Expiry.Add(-window)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string][]cacheSlot)
	}
	slots := c.m[k.tenant]
	if i := find(slots, k); i >= 0 {
		slots[i].cacheEntry = e
		return
	}
	c.m[k.tenant] = append(slots, cacheSlot{kind: k.kind, client: k.client, scope: k.scope, cacheEntry: e})
}

// invalidate drops k's token if it is still tok, so that a caller holding
// an old token cannot evict a fresher one.
func (c *cache) invalidate(k cacheKey, tok Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	slots := c.m[k.tenant]
	if i := find(slots, k); i >= 0 && slots[i].tok.AccessToken.Equal(tok.AccessToken) {
		c.m[k.tenant] = slices.Delete(slots, i, i+1)
	}
}
