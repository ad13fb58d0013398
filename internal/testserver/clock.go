package testserver

import (
	"sync"
	"time"
)

// Clock is the fake's notion of now: real time plus an offset that tests move
// forward with Advance. Token lifetimes, secret expiry, device code expiry
// and refresh-token idleness all read it.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the fake's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
