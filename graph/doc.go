// Package graph is a small Microsoft Graph client: the operations the
// Secure Application Model needs (the tenant, its users and domains, app
// registrations and their secrets, service principals, consent grants,
// partner contracts and GDAP relationships) over plumbing that handles
// paging, batching, throttling, replication delay and Graph's errors.
//
// It is written by hand rather than generated: each operation is one
// method with a typed result, and the types hold the properties samkit
// reads, named as in Graph's JSON.
//
//	src := provider.Source(customerTenantID, cloud.Public.Graph.Scope())
//	c, err := graph.New(src)
//	if err != nil { … }
//	org, err := c.Organization(ctx)
//
// # Authentication
//
// A Client takes a token.Source, bound to one tenant and to Graph's
// resource, and asks it for a token before every request; the source
// caches. The token goes only to the Graph host the client was built for
// (WithCloud, WithBaseURL), and each attempt carries it on its own copy of
// the request. When Graph refuses a token as invalid (401
// InvalidAuthenticationToken: revoked, or signed with rolled keys) and the
// source is a token.Invalidator, the client drops that token and tries
// once more with a fresh one. For the same calls in many tenants, build
// one Client and take a view of it per tenant with Client.For.
//
// # Paging
//
// Collections are iterators, iter.Seq2[T, error]: range over them and stop
// when you have enough; Collect gathers one into a slice. Pages are read
// as the range needs them by following @odata.nextLink exactly as Graph
// wrote it; a link to another host is refused, so the token cannot be
// sent elsewhere. ListOptions.Top sets the page size, not a total.
//
//	for u, err := range c.Users(ctx, graph.ListOptions{Top: 999}) {
//		if err != nil { … }
//		fmt.Println(u.UserPrincipalName)
//	}
//
// # Batching
//
// Batch sends any number of requests through $batch, 20 per call, and
// returns one response per request in the caller's order, whatever order
// Graph answered in. Requests linked by DependsOn go in the same call.
// Each item has its own status: a throttled item is sent again after the
// wait Graph asked for, so one busy item does not fail the rest.
//
// # Throttling
//
// Graph answers 429 (and sometimes 503 or 504) when a tenant or app sends
// too much, usually with a Retry-After in seconds. The client waits that
// long (capped by WithRetryPolicy's MaxRetryAfter), or backs off
// exponentially when there is none, and tries again, up to MaxAttempts in
// all. Reads, updates and deletes are also retried after 5xx answers and
// broken connections; creates (POST) only after throttling, since another
// failure may follow a create that happened. Every wait ends when the
// context does.
//
// # Replication delay
//
// The directory is eventually consistent: for seconds after an app is
// created, calls about it may answer 404, and creating its service
// principal may answer that the app does not exist. The client remembers
// the objects it created and retries calls about them through such
// answers, backing off from 500ms, for up to DefaultConsistencyRetry
// (WithConsistencyRetry). Calls about other objects are answered at once.
// MarkCreated extends the same care to objects created elsewhere.
//
// # Errors
//
// Failures Graph reports are *Error, with the HTTP status, Graph's code
// and message, and the request-id and date Microsoft support asks for;
// errors.As finds it through any wrapping. errors.Is matches it against
// ErrNotFound, ErrForbidden, ErrThrottled and the other sentinels by
// status. A response that is not Graph's JSON (a proxy's HTML page, an
// empty body) is an *Error too, whose Message quotes the start of it.
// Arguments that would put an unsafe value in a URL (an id holding "/" or
// "?", say) are refused with ErrInvalidArgument before anything is sent.
// When the context ends a call, the error is the context's.
package graph
