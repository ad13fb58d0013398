package graph

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPagingFollowsNextLinkVerbatim(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	var names []string
	for u, err := range c.Users(t.Context(), ListOptions{Top: 2}) {
		if err != nil {
			t.Fatalf("Users: %v", err)
		}
		names = append(names, u.DisplayName)
	}
	if got := strings.Join(names, ","); got != "User 1,User 2,User 3,User 4,User 5" {
		t.Errorf("users = %s, want all five in order", got)
	}
	calls := m.requests()
	if len(calls) != 3 {
		t.Fatalf("server saw %d requests, want 3 pages", len(calls))
	}
	if calls[0].RawQuery != "$top=2" {
		t.Errorf("first page query = %q, want $top=2", calls[0].RawQuery)
	}
	if calls[2].RawQuery != "$top=2&$skiptoken=X%2b4%3d" {
		t.Errorf("last page query = %q, want the next link's own text", calls[2].RawQuery)
	}
}

func TestPagingStopsWhenCallerStops(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	for range c.Users(t.Context(), ListOptions{}) {
		break
	}
	if n := len(m.requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestPagingRefusesBadNextLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, link, want string
	}{
		{"another host", "https://evil.example/v1.0/users?$skiptoken=x", "refusing @odata.nextLink to https://evil.example/v1.0/users"},
		{"same host, another scheme", "https://HOST/v1.0/users", "refusing @odata.nextLink"},
		{"relative", "/users?$skiptoken=x", "not an absolute URL"},
		{"a loop", "SELF", "repeats a page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMini(t)
			host := strings.TrimPrefix(m.srv.URL, "http://")
			self := m.srv.URL + miniBase + "/users?$skiptoken=same"
			m.fault = func(w http.ResponseWriter, r *http.Request) bool {
				link := strings.ReplaceAll(tt.link, "HOST", host)
				if link == "SELF" {
					link = self
				}
				writeJSON(w, http.StatusOK, map[string]any{"value": []User{{ID: "1"}}, "@odata.nextLink": link})
				return true
			}
			c, _ := m.client(&counter{})
			users, err := Collect(c.Users(t.Context(), ListOptions{}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "skiptoken") {
				t.Errorf("error %q quotes the link's query", err)
			}
			wantPages, wantUsers := 1, 1
			if tt.link == "SELF" {
				wantPages, wantUsers = 2, 2
			}
			if len(users) != wantUsers || len(m.requests()) != wantPages {
				t.Errorf("read %d users in %d requests, want %d in %d", len(users), len(m.requests()), wantUsers, wantPages)
			}
		})
	}
}

func TestListOptionsRefused(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	for _, o := range []ListOptions{{Top: 1000}, {Top: -1}, {Select: []string{"id,displayName"}}, {Select: []string{"id&$x=1"}}} {
		if _, err := Collect(c.Users(t.Context(), o)); err == nil {
			t.Errorf("Users(%+v) succeeded, want ErrInvalidArgument", o)
		}
	}
	if n := len(m.requests()); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}

func TestListOptionsEncoding(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	opts := ListOptions{Top: 999, Select: []string{"id", "displayName"}, Filter: "displayName eq " + Quote("Jo & O'Neil+1")}
	if _, err := Collect(c.Users(t.Context(), opts)); err != nil {
		t.Fatalf("Users: %v", err)
	}
	want := "$filter=displayName%20eq%20%27Jo%20%26%20O%27%27Neil%2B1%27&$select=id%2CdisplayName&$top=999"
	if got := m.requests()[0].RawQuery; got != want {
		t.Errorf("query = %s\nwant    %s", got, want)
	}
}

// A server that sends the client round two pages (A → B → A) would keep it
// paging for ever; the second visit to A ends the listing with an error.
func TestPagingRefusesALoopOfPages(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	pageA := m.srv.URL + miniBase + "/users?$skiptoken=a"
	pageB := m.srv.URL + miniBase + "/users?$skiptoken=b"
	m.fault = func(w http.ResponseWriter, r *http.Request) bool {
		next := pageA // the first page, and B, lead to A
		if r.URL.Query().Get("$skiptoken") == "a" {
			next = pageB
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": []User{{ID: "1"}}, "@odata.nextLink": next})
		return true
	}
	c, _ := m.client(&counter{})
	users, err := Collect(c.Users(t.Context(), ListOptions{}))
	require.ErrorContains(t, err, "repeats a page already read")
	assert.NotContains(t, err.Error(), "skiptoken", "the error quotes no part of the link's query")
	assert.Len(t, users, 3, "the first page, A and B, then the loop is seen")
	assert.Len(t, m.requests(), 3, "A is not read a second time")
}
