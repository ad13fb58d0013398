package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// maxBatch is the most requests Graph accepts in one $batch.
const maxBatch = 20

// BatchRequest is one request of a JSON batch.
type BatchRequest struct {
	// ID identifies the request within the call; when empty, its 1-based
	// position is used. IDs must be unique.
	ID string
	// Method is the HTTP method ("GET" when empty).
	Method string
	// URL is relative to the version root, with its query: "/users/{id}"
	// or "/users?$select=id". It may not leave the version root.
	URL string
	// Headers are sent with the request; Content-Type defaults to
	// application/json when Body is set.
	Headers map[string]string
	// Body is marshalled to JSON as the request's body.
	Body any
	// DependsOn lists IDs of earlier requests that must succeed before
	// this one runs; a failed dependency answers 424. Requests linked by
	// DependsOn are sent in the same $batch.
	DependsOn []string
}

// BatchResponse is Graph's answer to one BatchRequest.
type BatchResponse struct {
	ID      string
	Status  int
	Headers map[string]string
	// Body is the response body as Graph embedded it: JSON, or a
	// base64-encoded string for other content.
	Body json.RawMessage

	method, url string
}

// Err returns the *Error the response stands for, or nil for a status
// below 400.
func (r BatchResponse) Err() error {
	if r.Status < 400 {
		return nil
	}
	e := &Error{StatusCode: r.Status, Method: r.method, Path: r.url}
	if !e.fill(r.Body) {
		e.Message = describeBody(r.header("Content-Type"), r.Body, nil)
	}
	if id := r.header("request-id"); id != "" {
		e.RequestID = id
	}
	if d, ok := httpx.ParseRetryAfter(r.header("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// Decode unmarshals a successful response's body into v (leaving v alone
// when there is none, as for 204), or returns Err.
func (r BatchResponse) Decode(v any) error {
	if err := r.Err(); err != nil {
		return err
	}
	if len(r.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("graph: $batch item %s: decoding response: %w", r.ID, err)
	}
	return nil
}

// header looks name up case-insensitively: Graph writes item headers in
// lower case ("retry-after") while callers spell them canonically.
func (r BatchResponse) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Batch sends reqs through Graph's $batch endpoint, 20 per call, and
// returns one response per request, in the order of reqs. Items Graph
// throttles (429, or 503 with a retry-after) are sent again after the
// wait they ask for, within the client's retry policy, together with the
// items that failed only because they depended on them; so are failed
// GET, PUT, PATCH and DELETE items. Other failures are per item: see
// BatchResponse.Err.
//
// The error is for the batch as a whole (refused arguments, a failed
// $batch call); the responses returned with it are those already
// received, and items never sent have Status 0.
//
// See https://learn.microsoft.com/graph/json-batching.
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	items, err := prepareBatch(reqs)
	if err != nil {
		return nil, err
	}
	out := make([]BatchResponse, len(items))
	for _, chunk := range planBatch(items) {
		if err := c.runBatch(ctx, items, chunk, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// batchItem is a BatchRequest as sent.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      any               `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

// prepareBatch checks reqs and returns them as items, with IDs assigned
// and defaults filled.
func prepareBatch(reqs []BatchRequest) ([]batchItem, error) {
	items := make([]batchItem, len(reqs))
	seen := make(map[string]int, len(reqs))
	for i, r := range reqs {
		it := batchItem{ID: r.ID, Method: strings.ToUpper(r.Method), URL: r.URL, Body: r.Body}
		if it.ID == "" {
			it.ID = strconv.Itoa(i + 1)
		}
		if j, dup := seen[it.ID]; dup {
			return nil, invalidArg("$batch requests %d and %d share the id %s", j+1, i+1, shorten(it.ID))
		}
		seen[it.ID] = i
		if it.Method == "" {
			it.Method = http.MethodGet
		}
		if err := checkBatchURL(it.URL); err != nil {
			return nil, invalidArg("$batch request %s: %v", shorten(it.ID), err)
		}
		if len(r.Headers) > 0 || r.Body != nil {
			it.Headers = make(map[string]string, len(r.Headers)+1)
			for k, v := range r.Headers {
				it.Headers[k] = v
			}
			if r.Body != nil && (BatchResponse{Headers: it.Headers}).header("Content-Type") == "" {
				it.Headers["Content-Type"] = "application/json"
			}
		}
		for _, d := range r.DependsOn {
			if j, ok := seen[d]; !ok || j == i {
				return nil, invalidArg("$batch request %s depends on %s, which is not an earlier request", shorten(it.ID), shorten(d))
			}
		}
		it.DependsOn = slices.Clone(r.DependsOn)
		items[i] = it
	}
	return items, nil
}

// checkBatchURL refuses URLs that are absolute or leave the version root:
// a batch runs with the caller's token, wherever its items point.
func checkBatchURL(u string) error {
	if u == "" {
		return fmt.Errorf("empty url")
	}
	path, _, _ := strings.Cut(u, "?")
	if strings.Contains(u, "://") || strings.HasPrefix(u, "//") || strings.ContainsAny(u, "#\\") {
		return fmt.Errorf("url %s must be relative to the version root", shorten(u))
	}
	for seg := range strings.SplitSeq(strings.TrimPrefix(path, "/"), "/") {
		if seg == "." || seg == ".." || strings.Contains(strings.ToLower(seg), "%2e") || strings.Contains(strings.ToLower(seg), "%2f") {
			return fmt.Errorf("url %s has a dot or encoded segment", shorten(u))
		}
	}
	for _, r := range u {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("url %s contains a control character", shorten(u))
		}
	}
	return nil
}

// planBatch splits items into $batch calls: requests linked by DependsOn
// travel together, one linked group per call (Graph refuses a batch that
// mixes sequential and parallel requests); independent requests fill
// calls of up to 20. Calls follow the order of their first request.
func planBatch(items []batchItem) [][]int {
	index := make(map[string]int, len(items))
	root := make([]int, len(items))
	for i := range root {
		root[i] = i
	}
	find := func(i int) int {
		for root[i] != i {
			root[i] = root[root[i]]
			i = root[i]
		}
		return i
	}
	for i, it := range items {
		index[it.ID] = i
		for _, d := range it.DependsOn {
			root[find(i)] = find(index[d])
		}
	}
	size := make([]int, len(items))
	for i := range items {
		size[find(i)]++
	}
	var (
		chunks [][]int
		group  = map[int]int{} // root → position in chunks
		open   = -1            // position of the chunk of independent requests being filled
	)
	for i := range items {
		r := find(i)
		if size[r] > 1 {
			if pos, ok := group[r]; ok {
				chunks[pos] = append(chunks[pos], i)
				continue
			}
			group[r] = len(chunks)
			chunks = append(chunks, []int{i})
			continue
		}
		if open < 0 || len(chunks[open]) == maxBatch {
			open = len(chunks)
			chunks = append(chunks, nil)
		}
		chunks[open] = append(chunks[open], i)
	}
	return chunks
}

// batchReply is the $batch response body.
type batchReply struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

// runBatch sends the items at positions idx in one $batch call and stores
// their responses in out, sending throttled items again as Batch says.
func (c *Client) runBatch(ctx context.Context, items []batchItem, idx []int, out []BatchResponse) error {
	if len(idx) > maxBatch {
		return invalidArg("$batch requests %s…: %d requests are linked by dependsOn, more than the %d one call takes",
			shorten(items[idx[0]].ID), len(idx), maxBatch)
	}
	pending := idx
	for attempt := 1; ; attempt++ {
		sent := make(map[string]int, len(pending))
		body := struct {
			Requests []batchItem `json:"requests"`
		}{Requests: make([]batchItem, 0, len(pending))}
		for _, i := range pending {
			sent[items[i].ID] = i
		}
		for _, i := range pending {
			it := items[i]
			// A dependency that already succeeded is not resent, and
			// Graph refuses a dependsOn naming a request absent from
			// the batch.
			it.DependsOn = slices.DeleteFunc(slices.Clone(it.DependsOn), func(d string) bool { _, ok := sent[d]; return !ok })
			body.Requests = append(body.Requests, it)
		}
		var reply batchReply
		// Items may be writes: the $batch call itself is replayed only
		// when Graph certainly did not run it.
		err := c.do(ctx, request{method: http.MethodPost, path: "/$batch", body: body, class: httpx.RetryThrottleOnly}, &reply)
		if err != nil {
			return err
		}
		got := make(map[string]bool, len(reply.Responses))
		for _, r := range reply.Responses {
			i, ok := sent[r.ID]
			if !ok || got[r.ID] {
				return fmt.Errorf("graph: $batch answered an unknown or repeated id %s", shorten(r.ID))
			}
			got[r.ID] = true
			out[i] = BatchResponse{ID: r.ID, Status: r.Status, Headers: r.Headers, Body: r.Body, method: items[i].Method, url: items[i].URL}
		}
		if len(got) != len(pending) {
			return fmt.Errorf("graph: $batch answered %d of %d requests", len(got), len(pending))
		}
		if attempt >= c.policy.MaxAttempts {
			return nil
		}
		retry, wait := c.batchRetries(items, pending, out, attempt)
		if len(retry) == 0 {
			return nil
		}
		c.log.DebugContext(ctx, "graph $batch items throttled, retrying", "items", len(retry), "wait", wait, "attempt", attempt)
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		pending = retry
	}
}

// batchRetries picks the items of pending to send again and how long to
// wait first: the longest retry-after among them, or an exponential
// backoff, capped by the policy.
func (c *Client) batchRetries(items []batchItem, pending []int, out []BatchResponse, attempt int) ([]int, time.Duration) {
	var (
		retry   []int
		wait    time.Duration
		retried = map[string]bool{}
	)
	for _, i := range pending {
		r := out[i]
		switch {
		case itemRetryable(items[i].Method, r):
			d, ok := httpx.ParseRetryAfter(r.header("Retry-After"), time.Now())
			if !ok {
				d = c.policy.MinWait << min(attempt-1, 16)
				d = min(d, c.policy.MaxWait)
			}
			wait = max(wait, d)
		case r.Status == http.StatusFailedDependency && slices.ContainsFunc(items[i].DependsOn, func(d string) bool { return retried[d] }):
			// Pending is in request order and dependencies come first, so
			// one pass sees every retried dependency.
		default:
			continue
		}
		retried[items[i].ID] = true
		retry = append(retry, i)
	}
	return retry, min(wait, c.policy.MaxRetryAfter)
}

// itemRetryable reports whether a batch item's answer may be retried: it
// was throttled, or it failed transiently and its method is idempotent.
func itemRetryable(method string, r BatchResponse) bool {
	switch r.Status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		if r.header("Retry-After") != "" {
			return true
		}
		fallthrough
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		switch method {
		case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete:
			return true
		}
	}
	return false
}
