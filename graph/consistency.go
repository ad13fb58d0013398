package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// The directory is eventually consistent: an application, service
// principal or grant created a moment ago may be unknown to the replica
// that serves the next call, which then fails with 404
// Request_ResourceNotFound, or with 400 "The appId … does not reference a
// valid application object" when a service principal is created for a
// new app. The client remembers the ids of objects it created (and those
// a caller names with MarkCreated) and retries calls that address one of
// them, briefly, while they fail that way. Calls about other objects fail
// at once: a missing object is then a real answer.

const (
	// recentFor is how long an id counts as just created; replication
	// normally completes within seconds, rarely a minute.
	recentFor = 10 * time.Minute
	// recentMax bounds the memory of a long-lived client.
	recentMax = 1024
)

// MarkCreated tells the client that the objects with these ids (object
// ids or application ids) were created a moment ago, for example by
// another process, so that calls addressing them ride out replication
// delay as calls about the client's own creations do.
func (c *Client) MarkCreated(ids ...string) {
	if c.consistency <= 0 {
		return
	}
	now := time.Now()
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	if c.recent == nil {
		c.recent = make(map[string]time.Time)
	}
	if len(c.recent)+len(ids) > recentMax {
		c.pruneRecentLocked(now)
	}
	for _, id := range ids {
		if id != "" {
			c.recent[strings.ToLower(id)] = now
		}
	}
}

// pruneRecentLocked drops expired ids and, if the memory is still full,
// the oldest ones.
func (c *Client) pruneRecentLocked(now time.Time) {
	for id, t := range c.recent {
		if now.Sub(t) > recentFor {
			delete(c.recent, id)
		}
	}
	for len(c.recent) >= recentMax {
		var oldest string
		for id, t := range c.recent {
			if oldest == "" || t.Before(c.recent[oldest]) {
				oldest = id
			}
		}
		delete(c.recent, oldest)
	}
}

// isRecent reports whether any of ids was created lately.
func (c *Client) isRecent(ids []string) bool {
	if c.consistency <= 0 {
		return false
	}
	now := time.Now()
	c.recentMu.Lock()
	defer c.recentMu.Unlock()
	for _, id := range ids {
		if t, ok := c.recent[strings.ToLower(id)]; ok && now.Sub(t) <= recentFor {
			return true
		}
	}
	return false
}

// consistently calls fn, retrying it through replication delay when refs
// names an object created lately.
func (c *Client) consistently(ctx context.Context, refs []string, fn func() error) error {
	if len(refs) == 0 || !c.isRecent(refs) {
		return fn()
	}
	return c.retryReplication(ctx, fn)
}

// retryReplication calls fn until it succeeds, fails other than by
// replication lag, or the consistency budget of waiting is spent. Waits
// start at 500ms and double up to 5s.
func (c *Client) retryReplication(ctx context.Context, fn func() error) error {
	var waited time.Duration
	wait := consistencyFirstWait
	for {
		err := fn()
		if err == nil || !isReplicationLag(err) || waited >= c.consistency {
			return err
		}
		wait = min(wait, c.consistency-waited)
		c.log.DebugContext(ctx, "graph object not replicated yet, retrying", "wait", wait, "error", err)
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		waited += wait
		wait = min(2*wait, consistencyMaxWait)
	}
}

// isReplicationLag reports whether err is how Graph answers a call about
// an object that has not reached the serving replica yet.
func isReplicationLag(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return errors.Is(err, ErrNotFound)
	}
	switch e.StatusCode {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		if strings.Contains(e.Message, "does not reference a valid application object") {
			return true
		}
		for _, d := range e.Details {
			if d.Code == "NoBackingApplicationObject" {
				return true
			}
		}
	}
	return false
}
