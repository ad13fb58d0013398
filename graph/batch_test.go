package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

func TestBatchChunksAndOrder(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	var reqs []BatchRequest
	for i := range 45 {
		reqs = append(reqs, BatchRequest{Method: "POST", URL: "/applications", Body: Application{DisplayName: fmt.Sprintf("app %02d", i)}})
	}
	resps, err := c.Batch(t.Context(), reqs)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(resps) != len(reqs) {
		t.Fatalf("got %d responses, want %d", len(resps), len(reqs))
	}
	for i, r := range resps {
		var a Application
		if err := r.Decode(&a); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if want := fmt.Sprintf("app %02d", i); a.DisplayName != want || r.ID != fmt.Sprint(i+1) || r.Status != http.StatusCreated {
			t.Errorf("response %d = %s %d %q, want id %d, 201, %q", i, r.ID, r.Status, a.DisplayName, i+1, want)
		}
	}
	var sizes []int
	for _, call := range m.requests() {
		var body struct{ Requests []json.RawMessage }
		if err := json.Unmarshal([]byte(call.Body), &body); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(body.Requests))
		if call.Path != miniBase+"/$batch" || call.Method != "POST" {
			t.Errorf("request %s %s, want POST %s/$batch", call.Method, call.Path, miniBase)
		}
	}
	if fmt.Sprint(sizes) != "[20 20 5]" {
		t.Errorf("batch sizes = %v, want [20 20 5]", sizes)
	}
}

func TestBatchThrottledItemRetried(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, sl := m.client(&counter{})
	m.itemThrottle["/me"] = 1
	resps, err := c.Batch(t.Context(), []BatchRequest{
		{ID: "a", URL: "/users"},
		{ID: "me", URL: "/me"},
		{ID: "create", Method: "POST", URL: "/applications", Body: map[string]string{"displayName": "after me"}, DependsOn: []string{"me"}},
	})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	for _, r := range resps {
		if r.Status >= 400 {
			t.Errorf("item %s: status %d (%v), want success after the retry", r.ID, r.Status, r.Err())
		}
	}
	calls := m.requests()
	if len(calls) != 3 {
		t.Fatalf("server saw %d $batch calls, want 3 (independent, linked, linked retried)", len(calls))
	}
	var retry struct{ Requests []batchItem }
	if err := json.Unmarshal([]byte(calls[2].Body), &retry); err != nil {
		t.Fatal(err)
	}
	if len(retry.Requests) != 2 || retry.Requests[0].ID != "me" || retry.Requests[1].ID != "create" ||
		fmt.Sprint(retry.Requests[1].DependsOn) != "[me]" {
		t.Errorf("retry sent %+v, want me and its dependant", retry.Requests)
	}
	if got := sl.all(); len(got) != 1 || got[0] != fastPolicy.MaxRetryAfter {
		t.Errorf("waits = %v, want one, the item's retry-after capped at %v", got, fastPolicy.MaxRetryAfter)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.apps) != 1 {
		t.Errorf("%d applications created, want 1", len(m.apps))
	}
}

func TestBatchThrottleOutlastsPolicy(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, sl := m.client(&counter{})
	m.itemThrottle["/me"] = 100
	resps, err := c.Batch(t.Context(), []BatchRequest{{URL: "/me"}, {URL: "/users"}})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if resps[1].Status != http.StatusOK {
		t.Errorf("/users item status %d, want 200", resps[1].Status)
	}
	err = resps[0].Err()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrThrottled) || e.RetryAfter != 2*time.Second || e.Path != "/me" {
		t.Errorf("throttled item Err() = %#v, want a 429 *Error for /me with RetryAfter 2s", err)
	}
	if n := len(m.requests()); n != fastPolicy.MaxAttempts {
		t.Errorf("server saw %d calls, want %d", n, fastPolicy.MaxAttempts)
	}
	if n := len(sl.all()); n != fastPolicy.MaxAttempts-1 {
		t.Errorf("%d waits, want %d", n, fastPolicy.MaxAttempts-1)
	}
}

func TestBatchRefused(t *testing.T) {
	t.Parallel()
	linked := []BatchRequest{{ID: "0", URL: "/me"}}
	for i := 1; i <= maxBatch; i++ {
		linked = append(linked, BatchRequest{ID: fmt.Sprint(i), URL: "/me", DependsOn: []string{fmt.Sprint(i - 1)}})
	}
	tests := []struct {
		name string
		reqs []BatchRequest
		want string
	}{
		{"duplicate ids", []BatchRequest{{ID: "x", URL: "/me"}, {ID: "x", URL: "/users"}}, "share the id"},
		{"assigned id clashes", []BatchRequest{{ID: "2", URL: "/me"}, {URL: "/users"}}, "share the id"},
		{"forward dependency", []BatchRequest{{ID: "a", URL: "/me", DependsOn: []string{"b"}}, {ID: "b", URL: "/me"}}, "not an earlier request"},
		{"absolute url", []BatchRequest{{URL: "https://evil.example/v1.0/me"}}, "relative"},
		{"dot segment", []BatchRequest{{URL: "/../beta/me"}}, "dot"},
		{"encoded dot segment", []BatchRequest{{URL: "/%2e%2e/beta/me"}}, "dot"},
		{"empty url", []BatchRequest{{}}, "empty url"},
		{"too many linked", linked, "linked by dependsOn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMini(t)
			c, _ := m.client(&counter{})
			_, err := c.Batch(t.Context(), tt.reqs)
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidArgument containing %q", err, tt.want)
			}
			if n := len(m.requests()); n != 0 {
				t.Errorf("server saw %d requests, want none", n)
			}
		})
	}
}

func TestBatchAnswerMismatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply string
		want  string
	}{
		{"unknown id", `{"responses":[{"id":"1","status":200},{"id":"9","status":200}]}`, "unknown or repeated id"},
		{"missing id", `{"responses":[{"id":"1","status":200}]}`, "answered 1 of 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMini(t)
			m.fault = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.reply)
				return true
			}
			c, _ := m.client(&counter{})
			if _, err := c.Batch(t.Context(), []BatchRequest{{URL: "/me"}, {URL: "/users"}}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPlanBatch(t *testing.T) {
	t.Parallel()
	items := []batchItem{
		{ID: "a"}, {ID: "b"}, {ID: "c", DependsOn: []string{"a"}}, {ID: "d"}, {ID: "e", DependsOn: []string{"c"}}, {ID: "f", DependsOn: []string{"d"}},
	}
	for i := range 22 {
		items = append(items, batchItem{ID: fmt.Sprint("s", i)})
	}
	got := planBatch(items)
	want := "[[0 2 4] [1 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24] [3 5] [25 26 27]]"
	if fmt.Sprint(got) != want {
		t.Errorf("planBatch = %v\nwant        %s", got, want)
	}
}

func TestBatchAgainstFake(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	p := f.s.Partner()
	// One item throttled inside a 200 batch, with Graph's lower-case
	// retry-after.
	f.s.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "graph", Path: "/v1.0/users/" + p.AdminID, Count: 1, RetryAfter: "3"})
	reqs := []BatchRequest{
		{ID: "org", URL: "/organization"},
		{ID: "admin", URL: "/users/" + p.AdminID + "?$select=id,userPrincipalName"},
		{ID: "create", Method: "POST", URL: "/applications", Body: Application{DisplayName: "batched"}},
		{ID: "find", URL: "/applications?$filter=displayName eq 'batched'", DependsOn: []string{"create"}},
		{ID: "missing", URL: "/applications/99999999-9999-4999-8999-999999999999"},
	}
	resps, err := f.c.Batch(t.Context(), reqs)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	for i, r := range resps {
		if r.ID != reqs[i].ID {
			t.Errorf("response %d is %s, want %s", i, r.ID, reqs[i].ID)
		}
	}
	var orgs page[Organization]
	if err := resps[0].Decode(&orgs); err != nil || len(orgs.Value) != 1 || orgs.Value[0].ID != p.TenantID {
		t.Errorf("org item: %+v, %v", orgs, err)
	}
	var admin User
	if err := resps[1].Decode(&admin); err != nil || admin.UserPrincipalName != p.AdminUPN {
		t.Errorf("throttled admin item after retry: %+v, %v", admin, err)
	}
	var created Application
	if err := resps[2].Decode(&created); err != nil || resps[2].Status != 201 || created.AppID == "" {
		t.Errorf("create item: %d %+v, %v", resps[2].Status, created, err)
	}
	var found page[Application]
	if err := resps[3].Decode(&found); err != nil || len(found.Value) != 1 || found.Value[0].ID != created.ID {
		t.Errorf("dependent find item: %+v, %v", found, err)
	}
	if err := resps[4].Err(); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "GET /applications/9999") {
		t.Errorf("missing item Err() = %v, want ErrNotFound naming the item", err)
	}
	n := 0
	f.s.Read(func(w *testserver.World) {
		for _, a := range w.Apps {
			if a.DisplayName == "batched" {
				n++
			}
		}
	})
	if n != 1 {
		t.Errorf("%d apps created, want exactly 1", n)
	}
	if w := f.waits.all(); len(w) != 1 || w[0] != fastPolicy.MaxRetryAfter {
		t.Errorf("waits = %v, want one, retry-after 3s capped at %v", w, fastPolicy.MaxRetryAfter)
	}
	// Independent items in one call, the linked pair in another, then the
	// throttled item alone.
	if got := len(f.graphRequests()); got != 3 {
		t.Errorf("%d $batch calls, want 3", got)
	}
}
