// Package respkey holds the context key under which api.WithResponse
// leaves the Response that samkit's API clients fill.
package respkey

// Key is the context key of an *api.Response.
type Key struct{}
