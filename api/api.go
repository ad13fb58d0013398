// Package api holds what samkit's API clients (graph, partner and
// exchange) share with their callers beyond a call's result: the record of
// the response a call got.
//
// A successful call returns its data only. To see the service's request
// id or its throttling headers too, give the call a context made by
// WithResponse:
//
//	var resp api.Response
//	org, err := g.Organization(api.WithResponse(ctx, &resp))
//	fmt.Println(resp.RequestID, resp.Header.Get("x-ms-throttle-limit-percentage"))
//
// Failed calls carry the same ids in their service's error type.
package api

import (
	"context"
	"net/http"

	"github.com/samkit/samkit/internal/respkey"
)

// Response is what a service answered to the last request of a call.
type Response struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// RequestID is the id the service gave the request (Graph's
	// request-id, Partner Center's MS-RequestId…), or the id samkit sent
	// when the service echoed none.
	RequestID string
	// ClientRequestID is the id samkit sent (client-request-id or
	// MS-RequestId), which the service logs.
	ClientRequestID string
	// Header holds the response's headers: Retry-After,
	// x-ms-resource-unit, x-ms-throttle-limit-percentage and the like.
	Header http.Header
}

// WithResponse returns a context whose calls, by any samkit API client,
// record their last successful response in dst; a call that pages records
// each page's in turn. Give each call its own dst: calls that run at once
// (the workers of sam.Partner.Check, say) would write one concurrently.
func WithResponse(ctx context.Context, dst *Response) context.Context {
	return context.WithValue(ctx, respkey.Key{}, dst)
}
