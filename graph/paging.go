package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/samkit/samkit/internal/httpx"
)

// page is one page of a Graph collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// list reads the collection at path, page after page, following
// @odata.nextLink verbatim: the link holds an opaque $skiptoken, and
// rebuilding it from parts can skip or repeat items. refs are ids the
// collection hangs off (see request.refs).
//
// See https://learn.microsoft.com/graph/paging.
func list[T any](ctx context.Context, c *Client, path string, query url.Values, refs ...string) iter.Seq2[T, error] {
	return pages[T](ctx, c, request{method: http.MethodGet, path: path, query: query, refs: refs})
}

// pages reads the collection r starts, page after page, as list does.
func pages[T any](ctx context.Context, c *Client, r request) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for {
			var p page[T]
			if err := c.do(ctx, r, &p); err != nil {
				yield(zero, err)
				return
			}
			for _, v := range p.Value {
				if !yield(v, nil) {
					return
				}
			}
			if p.NextLink == "" {
				return
			}
			if err := c.checkNextLink(p.NextLink, r.next); err != nil {
				yield(zero, err)
				return
			}
			r = request{method: http.MethodGet, next: p.NextLink}
		}
	}
}

// checkNextLink refuses a next link that would send the client's token
// anywhere but the Graph root, or that repeats the page just read (a
// server loop).
func (c *Client) checkNextLink(next, prev string) error {
	u, err := httpx.CheckNextLink(next, c.root)
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	if next == prev {
		return fmt.Errorf("graph: @odata.nextLink %s repeats the page just read", httpx.RedactURL(u))
	}
	return nil
}

// fail returns a sequence that yields err alone, for iterators whose
// arguments are refused before any request.
func fail[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

// Collect reads a whole sequence into a slice, stopping at the first
// error (and returning the items read before it).
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
