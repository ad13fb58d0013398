package testserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// graphBatchPost posts a $batch and returns its status, body and responses by id.
func graphBatchPost(t *testing.T, s *Server, tok string, reqs []map[string]any) (int, map[string]any, map[string]map[string]any) {
	t.Helper()
	status, body, _ := graphDo(t, s, tok, http.MethodPost, "/$batch", map[string]any{"requests": reqs})
	byID := map[string]map[string]any{}
	if rs, ok := body["responses"].([]any); ok {
		for _, r := range rs {
			m := r.(map[string]any)
			byID[m["id"].(string)] = m
		}
	}
	return status, body, byID
}

func TestGraphBatch(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	s.Mutate(func(w *World) { w.MaxPageSize = 2 })
	tok := graphAdminToken(s, "", graphAllScopes...)
	s.Inject(Fault{Kind: Throttle, Service: "graph", Path: "/users", RetryAfter: "7", Count: 1})

	status, body, got := graphBatchPost(t, s, tok, []map[string]any{
		{"id": "1", "method": "GET", "url": "/users?$top=1"},
		{"id": "2", "method": "GET", "url": "organization"},
		{"id": "3", "method": "GET", "url": "/me", "dependsOn": []string{"2"}},
		{"id": "4", "method": "GET", "url": "/applications/" + newID()},
		{"id": "5", "method": "GET", "url": "/domains", "dependsOn": []string{"4"}},
		{"id": "6", "method": "POST", "url": "/applications", "headers": map[string]string{"Content-Type": "application/json"},
			"body": map[string]any{"displayName": "From a batch"}},
		{"id": "7", "method": "GET", "url": "/me/memberOf?$top=1"},
	})
	if status != http.StatusOK || len(got) != 7 {
		t.Fatalf("got %d %v", status, body)
	}
	// Responses come back in another order than the requests.
	if first := body["responses"].([]any)[0].(map[string]any)["id"]; first == "1" {
		t.Error("responses are in request order; clients must match them by id")
	}

	throttled := got["1"]
	h := throttled["headers"].(map[string]any)
	if throttled["status"] != float64(429) || h["retry-after"] != "7" || graphErrCode(throttled["body"].(map[string]any)) != "TooManyRequests" {
		t.Errorf("throttled item = %v, want 429 with retry-after 7", throttled)
	}
	for id, want := range map[string]float64{"2": 200, "3": 200, "4": 404, "5": 424, "6": 201, "7": 200} {
		if got[id]["status"] != want {
			t.Errorf("item %s: status %v, want %v (%v)", id, got[id]["status"], want, got[id]["body"])
		}
	}
	if b := got["3"]["body"].(map[string]any); b["userPrincipalName"] != s.Partner().AdminUPN {
		t.Errorf("/me in a batch = %v", b)
	}
	if b := got["6"]["body"].(map[string]any); b["appId"] == nil {
		t.Errorf("created in a batch = %v", b)
	}
	link, _ := got["7"]["body"].(map[string]any)["@odata.nextLink"].(string)
	if !strings.HasPrefix(link, s.URL()+"/graph/v1.0/me/memberOf?") {
		t.Errorf("nextLink inside a batch = %q, want an absolute URL", link)
	}
	if status, body := graphGet(t, s, tok, link); status != 200 || len(graphValues(t, body)) != 1 {
		t.Errorf("following a batch item's nextLink: %d %v", status, body)
	}

	// The fault was used up by the item: the next read is served.
	_, _, again := graphBatchPost(t, s, tok, []map[string]any{{"id": "a", "method": "GET", "url": "/users"}})
	if again["a"]["status"] != float64(200) {
		t.Errorf("second batch: %v", again["a"])
	}
}

func TestGraphBatchErrors(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	tok := graphAdminToken(s, "", graphAllScopes...)
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/organization"}
	}
	for _, tc := range []struct {
		name string
		reqs []map[string]any
		msg  string
	}{
		{"21 requests", many, "at most 20"},
		{"none", []map[string]any{}, ""},
		{"duplicate id", []map[string]any{
			{"id": "a", "method": "GET", "url": "/me"}, {"id": "A", "method": "GET", "url": "/users"}},
			"Request Id A has to be unique in a batch."},
		{"write without a body", []map[string]any{{"id": "1", "method": "POST", "url": "/applications"}},
			"Write request id : 1 does not contain Content-Type header or body."},
		{"dependency later in the batch", []map[string]any{
			{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"2"}}, {"id": "2", "method": "GET", "url": "/users"}},
			"Invalid dependency for request Id 1."},
		{"missing url", []map[string]any{{"id": "1", "method": "GET"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body, _ := graphBatchPost(t, s, tok, tc.reqs)
			if status != http.StatusBadRequest || graphErrCode(body) != "BadRequest" || !strings.Contains(graphErrMessage(body), tc.msg) {
				t.Errorf("got %d %v, want 400 BadRequest %q", status, body, tc.msg)
			}
		})
	}

	t.Run("items are authorized one by one", func(t *testing.T) {
		t.Parallel()
		weak := graphAdminToken(s, "", "User.Read")
		_, _, got := graphBatchPost(t, s, weak, []map[string]any{
			{"id": "me", "method": "GET", "url": "/me"},
			{"id": "users", "method": "GET", "url": "/users"},
			{"id": "bad", "method": "GET", "url": "/nowhere"},
		})
		if got["me"]["status"] != float64(200) || got["users"]["status"] != float64(403) || got["bad"]["status"] != float64(400) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		t.Parallel()
		status, body, _ := graphBatchPost(t, s, "", []map[string]any{{"id": "1", "method": "GET", "url": "/me"}})
		if status != http.StatusUnauthorized {
			t.Errorf("got %d %v, want 401", status, body)
		}
	})
}

func TestGraphBatchRunsIndependentItemsInParallel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := New(WithoutListener(), WithSigningKeyBits(1024))
		defer s.Close()
		tok := graphAdminToken(s, "", graphAllScopes...)
		const latency = 20 * time.Millisecond
		s.Inject(Fault{Kind: Latency, Latency: latency})
		items := []map[string]any{
			{"id": "1", "method": "GET", "url": "/users?$top=1"},
			{"id": "2", "method": "GET", "url": "/organization"},
			{"id": "3", "method": "GET", "url": "/domains"},
		}

		start := time.Now()
		status, _, got := graphBatchPost(t, s, tok, items)
		require.Equal(t, http.StatusOK, status)
		require.Len(t, got, 3)
		assert.Equal(t, 2*latency, time.Since(start), "the batch's own latency, then its three items at once")

		// A dependsOn makes the batch sequential: each item waits for the
		// one before.
		items[1]["dependsOn"], items[2]["dependsOn"] = []string{"1"}, []string{"2"}
		start = time.Now()
		status, _, got = graphBatchPost(t, s, tok, items)
		require.Equal(t, http.StatusOK, status)
		require.Len(t, got, 3)
		assert.Equal(t, 4*latency, time.Since(start), "the batch's own latency, then its three items one by one")
	})
}

func TestDateHeaderFollowsTheClock(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	tok := graphAdminToken(s, "", graphAllScopes...)
	s.Clock().Advance(80 * 24 * time.Hour)
	_, _, h := graphDo(t, s, tok, http.MethodGet, "/organization", nil)
	date, err := http.ParseTime(h.Get("Date"))
	require.NoError(t, err, "Date %q", h.Get("Date"))
	assert.WithinDuration(t, s.Clock().Now(), date, 2*time.Second, "Date is the fake's now, 80 days ahead of the machine's")
}
