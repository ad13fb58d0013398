package testserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// JSON batching, POST /v1.0/$batch (https://learn.microsoft.com/graph/json-batching).
//
// What the fake holds clients to, as Graph does:
//   - at most 20 requests, ids unique without regard to case, relative urls;
//   - a write (POST, PATCH, PUT) carries a body and a Content-Type header;
//   - dependsOn names requests earlier in the batch, and a request whose
//     dependency failed answers 424 Failed Dependency;
//   - the batch answers 200 once it parses, whatever its items answer, and
//     the responses come back in another order than the requests (the
//     fake reverses them), to be matched by id;
//   - items run in parallel unless one of them has dependsOn, and then in
//     order;
//   - each item runs through the same handlers as a lone request, with the
//     batch's Authorization header, and injected Latency, Throttle and
//     Status faults match items by path, so one item can be throttled
//     (429 with a retry-after header) inside a 200 batch
//     (https://learn.microsoft.com/graph/throttling#throttling-and-batching).
//
// Only the $batch itself went over the wire, so only it is recorded
// (Server.Requests); its items are not.

// graphBatchLimit is the most requests one batch may carry.
const graphBatchLimit = 20

type graphBatchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type graphBatchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

func (s *Server) graphBatch(entry http.Handler) graphOp {
	return func(w http.ResponseWriter, r *http.Request, c Claims) {
		var b struct {
			Requests []graphBatchRequest `json:"requests"`
		}
		if !s.readGraphBody(w, r, &b) {
			return
		}
		if fail := graphCheckBatch(b.Requests); fail != nil {
			s.writeGraphFail(w, r, fail)
			return
		}
		out := make([]graphBatchResponse, len(b.Requests))
		if slices.ContainsFunc(b.Requests, func(req graphBatchRequest) bool { return len(req.DependsOn) > 0 }) {
			statuses := map[string]int{}
			for i, req := range b.Requests {
				out[i] = s.graphRunBatchItem(r, c, entry, req, statuses)
				statuses[strings.ToLower(req.ID)] = out[i].Status
			}
		} else {
			// With no dependsOn, Graph runs a batch's requests in parallel
			// ("fully sequential or fully parallel"), so a batch takes as
			// long as its slowest item, not the sum of them.
			// https://learn.microsoft.com/graph/json-batching
			// https://learn.microsoft.com/answers/questions/1532547/regarding-batching-response-order
			var wg sync.WaitGroup
			for i, req := range b.Requests {
				wg.Go(func() { out[i] = s.graphRunBatchItem(r, c, entry, req, nil) })
			}
			wg.Wait()
		}
		slices.Reverse(out)
		s.writeGraphJSON(w, r, http.StatusOK, map[string]any{"responses": out})
	}
}

// graphCheckBatch validates a batch as a whole; any fault fails it with 400.
func graphCheckBatch(reqs []graphBatchRequest) *graphFail {
	switch {
	case len(reqs) == 0:
		return graphFailBadRequest("BadRequest", "Invalid batch payload format: the batch contains no requests.")
	case len(reqs) > graphBatchLimit:
		return graphFailBadRequest("BadRequest", "Invalid batch payload format: a batch holds at most 20 requests.")
	}
	seen := map[string]bool{}
	for _, req := range reqs {
		if req.ID == "" || req.Method == "" || req.URL == "" {
			return graphFailBadRequest("BadRequest", "Invalid batch payload format: every request needs an id, a method and a url.")
		}
		id := strings.ToLower(req.ID)
		if seen[id] {
			return graphFailBadRequest("BadRequest", "Request Id "+req.ID+" has to be unique in a batch.")
		}
		for _, d := range req.DependsOn {
			if !seen[strings.ToLower(d)] {
				return graphFailBadRequest("BadRequest", "Invalid dependency for request Id "+req.ID+".")
			}
		}
		seen[id] = true
		switch strings.ToUpper(req.Method) {
		case http.MethodPost, http.MethodPatch, http.MethodPut:
			if batchHeader(req.Headers, "Content-Type") == "" || len(req.Body) == 0 {
				return graphFailBadRequest("BadRequest", "Write request id : "+req.ID+" does not contain Content-Type header or body.")
			}
		}
	}
	return nil
}

// graphRunBatchItem runs one request of a batch through entry and captures its
// response.
func (s *Server) graphRunBatchItem(outer *http.Request, c Claims, entry http.Handler, req graphBatchRequest, statuses map[string]int) graphBatchResponse {
	for _, d := range req.DependsOn {
		if statuses[strings.ToLower(d)] >= 400 {
			return s.graphItemError(req.ID, http.StatusFailedDependency, "FailedDependency",
				"The request depends on request Id "+d+", which failed.")
		}
	}
	target := req.URL
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	u, err := url.Parse("/v1.0" + target)
	if err != nil || strings.Contains(req.URL, "://") || u.Path == "/v1.0/$batch" {
		return s.graphItemError(req.ID, http.StatusBadRequest, "BadRequest", "Invalid request URL: "+req.URL)
	}
	hr, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(req.Method), u.String(), bytes.NewReader(batchBody(req.Body)))
	if err != nil {
		return s.graphItemError(req.ID, http.StatusBadRequest, "BadRequest", "Invalid request method: "+req.Method)
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	hr.Header.Set("Authorization", outer.Header.Get("Authorization"))

	rec := httptest.NewRecorder()
	if !s.graphBatchItemFault(rec, hr, c) {
		entry.ServeHTTP(rec, hr)
	}
	resp := graphBatchResponse{ID: req.ID, Status: rec.Code, Headers: map[string]string{}}
	for k, vs := range rec.Header() {
		switch k {
		case "Request-Id", "Client-Request-Id":
			// The batch as a whole carries these.
			continue
		case "Retry-After":
			// Graph writes this one in lower case inside a batch.
			k = "retry-after"
		}
		resp.Headers[k] = strings.Join(vs, ", ")
	}
	if b := rec.Body.Bytes(); len(b) > 0 {
		if json.Valid(b) {
			resp.Body = b
		} else {
			resp.Body = batchString(base64.StdEncoding.EncodeToString(b))
		}
	}
	return resp
}

// graphBatchItemFault applies an injected fault to a batch item, matched by the
// item's path under /graph, and reports whether it answered the item.
func (s *Server) graphBatchItemFault(w http.ResponseWriter, hr *http.Request, c Claims) bool {
	probe := hr.Clone(hr.Context())
	probe.URL.Path = "/graph" + hr.URL.Path
	f, ok := s.faults.take(probe, &Request{Service: "graph", Tenant: c.String("tid")}, Latency, Throttle, Status)
	if !ok {
		return false
	}
	switch f.Kind {
	case Latency:
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-hr.Context().Done():
		}
		return false
	case Throttle:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		serviceError(w, hr, "graph", http.StatusTooManyRequests)
	default:
		serviceError(w, hr, "graph", f.Status)
	}
	return true
}

// batchBody turns a request's body into bytes: a JSON value as it is, a
// string as the base64 it carries (binary bodies, per the batching page).
func batchBody(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if b, err := base64.StdEncoding.DecodeString(str); err == nil {
			return b
		}
		return []byte(str)
	}
	return raw
}

func (s *Server) graphItemError(id string, status int, code, message string) graphBatchResponse {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message,
		"innerError": map[string]any{"date": s.clock.Now().Format(time.RFC3339), "request-id": newID()}}})
	return graphBatchResponse{ID: id, Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

func batchString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// batchHeader reads a header from a batch request's map, ignoring case.
func batchHeader(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
