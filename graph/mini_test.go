package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/token"
)

// mini is a small stateful stand-in for Graph, for tests of the client's
// plumbing: it keeps applications and users, pages, batches, refuses
// tokens it has not issued and answers in Graph's own shapes. It serves
// under a base path, so a request built from an absolute path fails.
// Tests bend it with fault, which sees each request first.
type mini struct {
	t   *testing.T
	srv *httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	valid    map[string]bool // accepted access tokens
	calls    []call
	apps     map[string]*Application // by object id
	lag      map[string]int          // object id → reads that still miss it
	users    []User
	pageSize int
	// itemThrottle: batch item url → how many more times it answers 429.
	itemThrottle map[string]int
	// fault, when set, may answer a request itself (returning true).
	fault func(w http.ResponseWriter, r *http.Request) bool
}

// call is a request as the mini server saw it.
type call struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

const miniBase = "/tenant-a/graph/v1.0"

func newMini(t *testing.T) *mini {
	t.Helper()
	m := &mini{t: t, mux: http.NewServeMux(), valid: map[string]bool{"tok-1": true}, apps: map[string]*Application{},
		lag: map[string]int{}, pageSize: 2, itemThrottle: map[string]int{}}
	for i := 1; i <= 5; i++ {
		m.users = append(m.users, User{ID: fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i), DisplayName: fmt.Sprintf("User %d", i)})
	}
	m.routes()
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

// fastPolicy shrinks retry waits to milliseconds.
var fastPolicy = token.RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 4 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

// client returns a client of m with src (tokens "tok-N"), fast retries and
// a sleep that records waits instead of waiting.
func (m *mini) client(src token.Source, opts ...Option) (*Client, *sleeps) {
	m.t.Helper()
	all := append([]Option{WithBaseURL(m.srv.URL + miniBase), WithHTTPClient(m.srv.Client()), WithRetryPolicy(fastPolicy)}, opts...)
	c, err := New(src, all...)
	if err != nil {
		m.t.Fatalf("New: %v", err)
	}
	sl := &sleeps{}
	c.sleep = sl.sleep
	return c, sl
}

// sleeps records the waits a client asks for.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func (m *mini) requests() []call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]call(nil), m.calls...)
}

func (m *mini) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	m.mu.Lock()
	m.calls = append(m.calls, call{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	fault := m.fault
	m.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	if !strings.HasPrefix(r.URL.Path, miniBase+"/") {
		m.t.Errorf("request to %s, outside the base path %s", r.URL.Path, miniBase)
		http.Error(w, "not under the base path", http.StatusNotFound)
		return
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	m.mu.Lock()
	ok := m.valid[auth]
	m.mu.Unlock()
	if !ok {
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return
	}
	r.URL.Path = strings.TrimPrefix(r.URL.Path, miniBase)
	m.mux.ServeHTTP(w, r)
}

// graphError writes Graph's error body, as graph.microsoft.com does.
func graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("request-id", "req-"+strconv.Itoa(status))
	w.Header().Set("client-request-id", r.Header.Get("client-request-id"))
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": "2026-01-02T03:04:05", "request-id": "req-" + strconv.Itoa(status),
			"client-request-id": r.Header.Get("client-request-id")}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (m *mini) routes() {
	m.mux.HandleFunc("GET /users", m.listUsers)
	m.mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, m.users[0])
	})
	m.mux.HandleFunc("POST /applications", func(w http.ResponseWriter, r *http.Request) {
		var a Application
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil || a.DisplayName == "" {
			graphError(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid request body.")
			return
		}
		m.mu.Lock()
		n := len(m.apps) + 1
		a.ID = fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", n)
		a.AppID = fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", n)
		m.apps[a.ID] = &a
		m.mu.Unlock()
		writeJSON(w, http.StatusCreated, a)
	})
	m.mux.HandleFunc("GET /applications", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		var out []Application
		for _, a := range m.apps {
			f := r.URL.Query().Get("$filter")
			if f != "displayName eq "+Quote(a.DisplayName) && f != "appId eq "+Quote(a.AppID) {
				continue
			}
			if m.lag[a.ID] > 0 {
				m.lag[a.ID]--
				continue
			}
			out = append(out, *a)
		}
		m.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"value": out})
	})
	m.mux.HandleFunc("GET /applications/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		m.mu.Lock()
		a, lagging := m.apps[id], m.lag[id] > 0
		if lagging {
			m.lag[id]--
		}
		m.mu.Unlock()
		if a == nil || lagging {
			graphError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
				"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
			return
		}
		writeJSON(w, http.StatusOK, a)
	})
	m.mux.HandleFunc("POST /$batch", m.batch)
}

// listUsers pages users with a $skiptoken written as Graph writes them:
// percent-escapes in lower case, which a client that re-encodes the link
// turns to upper case, and the server then refuses.
func (m *mini) listUsers(w http.ResponseWriter, r *http.Request) {
	offset := 0
	if i := strings.Index(r.URL.RawQuery, "$skiptoken="); i >= 0 {
		tok := r.URL.RawQuery[i+len("$skiptoken="):]
		n, ok := strings.CutPrefix(tok, "X%2b")
		n, ok2 := strings.CutSuffix(n, "%3d")
		v, err := strconv.Atoi(n)
		if !ok || !ok2 || err != nil {
			graphError(w, r, http.StatusBadRequest, "Directory_ExpiredPageToken",
				"The specified page token value has expired and can no longer be included in your request.")
			return
		}
		offset = v
	}
	end := min(offset+m.pageSize, len(m.users))
	body := map[string]any{"value": m.users[offset:end]}
	if end < len(m.users) {
		body["@odata.nextLink"] = m.srv.URL + miniBase + "/users?$top=2&$skiptoken=X%2b" + strconv.Itoa(end) + "%3d"
	}
	writeJSON(w, http.StatusOK, body)
}

// batch runs each item through the same routes, in order, honouring
// dependsOn (424 after a failed dependency) and itemThrottle, and answers
// in reverse order, as Graph may.
func (m *mini) batch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Requests) > maxBatch {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid batch payload.")
		return
	}
	type item struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    any               `json:"body,omitempty"`
	}
	status := map[string]int{}
	var out []item
	for _, it := range in.Requests {
		failed := false
		for _, d := range it.DependsOn {
			s, ok := status[d]
			if !ok {
				graphError(w, r, http.StatusBadRequest, "BadRequest", "Dependency "+d+" is not in the batch.")
				return
			}
			failed = failed || s >= 400
		}
		if failed {
			status[it.ID] = http.StatusFailedDependency
			out = append(out, item{ID: it.ID, Status: http.StatusFailedDependency, Headers: map[string]string{},
				Body: map[string]any{"error": map[string]any{"code": "BadRequest", "message": "Failed dependency"}}})
			continue
		}
		m.mu.Lock()
		throttled := m.itemThrottle[it.URL] > 0
		if throttled {
			m.itemThrottle[it.URL]--
		}
		m.mu.Unlock()
		if throttled {
			status[it.ID] = http.StatusTooManyRequests
			out = append(out, item{ID: it.ID, Status: http.StatusTooManyRequests, Headers: map[string]string{"retry-after": "2"},
				Body: map[string]any{"error": map[string]any{"code": "TooManyRequests", "message": "Too many requests."}}})
			continue
		}
		b, _ := json.Marshal(it.Body)
		sub := httptest.NewRequestWithContext(r.Context(), it.Method, it.URL, bytes.NewReader(b))
		rec := httptest.NewRecorder()
		m.mux.ServeHTTP(rec, sub)
		var body any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		status[it.ID] = rec.Code
		out = append(out, item{ID: it.ID, Status: rec.Code, Headers: map[string]string{"content-type": "application/json"}, Body: body})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

// counter is a token.Source that hands out "tok-N", moving to the next N
// when told its token was refused.
type counter struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (s *counter) Token(context.Context) (token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return token.Token{AccessToken: token.NewSecret("tok-" + strconv.Itoa(s.n+1)), Expiry: time.Now().Add(time.Hour)}, nil
}

func (s *counter) Invalidate(t token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, t.AccessToken.Reveal())
	s.n++
}

// fixed is a token.Source without invalidation.
type fixed string

func (f fixed) Token(context.Context) (token.Token, error) {
	return token.Token{AccessToken: token.NewSecret(string(f)), Expiry: time.Now().Add(time.Hour)}, nil
}
