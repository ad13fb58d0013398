package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Reading GDAP state in bulk: every relationship in few pages, and the
// access assignments of many relationships in few requests.

// maxRelationshipsTop is the largest page the GDAP API serves
// (https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships:
// "$top supports up to 300 objects").
const maxRelationshipsTop = 300

// DelegatedAdminRelationshipsFor lists the partner's GDAP relationships
// with customer (a tenant id), whatever their status, or all of them when
// customer is empty, in pages of 300, the largest the API serves.
//
// See https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships.
func (c *Client) DelegatedAdminRelationshipsFor(ctx context.Context, customer string) iter.Seq2[DelegatedAdminRelationship, error] {
	q := url.Values{"$top": {strconv.Itoa(maxRelationshipsTop)}}
	if customer != "" {
		if err := checkGUID("customer tenant id", customer); err != nil {
			return fail[DelegatedAdminRelationship](err)
		}
		q.Set("$filter", "customer/tenantId eq "+Quote(customer))
	}
	return list[DelegatedAdminRelationship](ctx, c, relationshipsPath, q)
}

// BatchLimit is the most requests Graph takes in one $batch call.
const BatchLimit = maxBatch

// DelegatedAdminAccessAssignmentsOf lists the access assignments of each
// relationship in ids, all in $batch calls of BatchLimit relationships:
// reading those of many relationships costs one request per BatchLimit of
// them (and one per further page, which few relationships need) instead
// of one each. out[i] holds those of ids[i]. The first relationship whose
// list fails fails the call; throttled items are retried by Batch.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments
// and https://learn.microsoft.com/graph/json-batching.
func (c *Client) DelegatedAdminAccessAssignmentsOf(ctx context.Context, ids []string) ([][]DelegatedAdminAccessAssignment, error) {
	urls := make([]string, len(ids))
	for i, id := range ids {
		if err := checkRelationshipID(id); err != nil {
			return nil, err
		}
		urls[i] = relationshipsPath + "/" + id + "/accessAssignments"
	}
	out, err := batchLists[DelegatedAdminAccessAssignment](ctx, c, urls)
	if err != nil {
		return nil, fmt.Errorf("listing the access assignments of GDAP relationships: %w", err)
	}
	return out, nil
}

// batchLists reads the first page of each collection in urls through
// $batch, then follows each @odata.nextLink with plain requests.
func batchLists[T any](ctx context.Context, c *Client, urls []string) ([][]T, error) {
	reqs := make([]BatchRequest, len(urls))
	for i, u := range urls {
		reqs[i] = BatchRequest{Method: http.MethodGet, URL: u}
	}
	resps, err := c.Batch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	out := make([][]T, len(urls))
	for i, r := range resps {
		var p page[T]
		if err := r.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s: %w", urls[i], err)
		}
		out[i] = p.Value
		if p.NextLink == "" {
			continue
		}
		if err := c.checkNextLink(p.NextLink, ""); err != nil {
			return nil, err
		}
		for v, err := range pages[T](ctx, c, request{method: http.MethodGet, next: p.NextLink}) {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", urls[i], err)
			}
			out[i] = append(out[i], v)
		}
	}
	return out, nil
}
