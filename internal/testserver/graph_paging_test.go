package testserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gdapBasePath is the GDAP relationships collection, relative to /v1.0.
const gdapBasePath = "/tenantRelationships/delegatedAdminRelationships"

// graphCollectionCase is a collection the fake's Graph serves: its path
// relative to /v1.0, named with {id} for the ids in it, and the largest
// $top Microsoft accepts for it.
type graphCollectionCase struct {
	name, path string
	maxTop     int
}

// graphCollectionPaths lists every collection the fake's Graph serves.
func graphCollectionPaths(s *Server) []graphCollectionCase {
	var spID, relID, userID string
	s.Read(func(w *World) {
		p := w.Partner
		userID = p.Admin().ID
		for id := range p.ServicePrincipals {
			spID = id
			break
		}
		if len(p.Relationships) > 0 {
			relID = p.Relationships[0].ID
		}
	})
	var out []graphCollectionCase
	for _, c := range []struct {
		name, id string
		maxTop   int
	}{
		{"/users", "", 999},
		{"/users/{id}/memberOf", userID, 999},
		{"/users/{id}/transitiveMemberOf", userID, 999},
		{"/me/memberOf", "", 999},
		{"/me/transitiveMemberOf", "", 999},
		{"/groups", "", 999},
		{"/applications", "", 999},
		{"/servicePrincipals", "", 999},
		{"/servicePrincipals/{id}/oauth2PermissionGrants", spID, 999},
		{"/servicePrincipals/{id}/appRoleAssignments", spID, 999},
		{"/servicePrincipals/{id}/appRoleAssignedTo", spID, 999},
		{"/oauth2PermissionGrants", "", 999},
		{"/organization", "", 999},
		{"/domains", "", 999},
		{"/contracts", "", 999},
		{gdapBasePath, "", 300},
		{"/tenantRelationships/delegatedAdminCustomers", "", 300},
		{gdapBasePath + "/{id}/requests", relID, 300},
		{gdapBasePath + "/{id}/accessAssignments", relID, 300},
		{gdapBasePath + "/{id}/operations", relID, 300},
	} {
		out = append(out, graphCollectionCase{name: c.name, path: strings.Replace(c.name, "{id}", c.id, 1), maxTop: c.maxTop})
	}
	return out
}

// Every collection accepts $top up to its documented maximum and refuses
// one more with the service's own error.
func TestGraphTopBounds(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	s.AddCustomer(CustomerSpec{Name: "Fabrikam", GDAP: true, Contract: true})
	tok := graphAdminToken(s, "", graphAllScopes...)
	for _, c := range graphCollectionPaths(s) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path, maxTop := c.path, c.maxTop
			status, body := graphGet(t, s, tok, path+"?$top="+strconv.Itoa(maxTop))
			require.Equal(t, http.StatusOK, status, "$top=%d is the documented maximum: %v", maxTop, body)

			over := strconv.Itoa(maxTop + 1)
			status, body = graphGet(t, s, tok, path+"?$top="+over)
			require.Equal(t, http.StatusBadRequest, status, "$top=%s is above the maximum: %v", over, body)
			if maxTop == 999 {
				assert.Equal(t, "Request_UnsupportedQuery", graphErrCode(body))
				assert.Equal(t, "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.", graphErrMessage(body))
			} else {
				assert.Equal(t, "BadRequest", graphErrCode(body))
				assert.Equal(t, "The limit of '300' for Top query has been exceeded. The value from the incoming request is '301'.", graphErrMessage(body))
			}
		})
	}
}

// readAllPages follows @odata.nextLink from path and returns each page's
// size and every item's id.
func readAllPages(t *testing.T, s *Server, tok, path string) (sizes []int, ids []string) {
	t.Helper()
	for next := path; next != ""; {
		status, body := graphGet(t, s, tok, next)
		require.Equal(t, http.StatusOK, status, "page %d of %s: %v", len(sizes)+1, path, body)
		page := graphValues(t, body)
		sizes = append(sizes, len(page))
		for _, it := range page {
			ids = append(ids, it["id"].(string))
		}
		next, _ = body["@odata.nextLink"].(string)
		require.Less(t, len(sizes), 100, "%s never ends", path)
	}
	return sizes, ids
}

// pagesOf is how a collection of n items splits into pages of size.
func pagesOf(n, size int) []int {
	var out []int
	for ; n > size; n -= size {
		out = append(out, size)
	}
	return append(out, n)
}

// With more items than a page holds, a collection pages by $top up to its
// maximum, and by its documented default without $top, directly and
// inside $batch.
func TestGraphPageSizes(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	const customers = 301
	for i := range customers {
		s.AddCustomer(CustomerSpec{Name: fmt.Sprintf("Customer %03d", i), Users: 1, GDAP: true})
	}
	var users, groups int
	s.Mutate(func(w *World) {
		p := w.Partner
		for i := len(p.Users); i < 1000; i++ {
			u := &User{ID: newID(), UPN: fmt.Sprintf("user%04d@%s", i, p.DefaultDomain), DisplayName: fmt.Sprintf("User %04d", i), HomeTenant: p.ID}
			p.Users[u.ID] = u
		}
		for i := len(p.Groups); i < 150; i++ {
			g := &Group{ID: newID(), DisplayName: fmt.Sprintf("Group %03d", i), Members: map[string]bool{}}
			p.Groups[g.ID] = g
		}
		users, groups = len(p.Users), len(p.Groups)
	})
	require.Equal(t, 1000, users)
	require.Equal(t, 150, groups)
	tok := graphAdminToken(s, "", graphAllScopes...)

	for _, tc := range []struct {
		path  string
		items int
		want  []int
	}{
		{"/users", users, pagesOf(users, 100)},
		{"/users?$top=999", users, []int{999, 1}},
		{"/users?$top=250", users, pagesOf(users, 250)},
		{"/groups", groups, pagesOf(groups, 100)},
		{gdapBasePath, customers, []int{100, 100, 100, 1}},
		{gdapBasePath + "?$top=300", customers, []int{300, 1}},
		{"/tenantRelationships/delegatedAdminCustomers", customers, []int{100, 100, 100, 1}},
		{"/tenantRelationships/delegatedAdminCustomers?$top=300", customers, []int{300, 1}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			sizes, ids := readAllPages(t, s, tok, tc.path)
			assert.Equal(t, tc.want, sizes, "page sizes")
			assert.Len(t, ids, tc.items, "every item once")
			seen := map[string]bool{}
			for _, id := range ids {
				seen[id] = true
			}
			assert.Len(t, seen, tc.items, "no item twice")
		})
	}

	t.Run("$batch", func(t *testing.T) {
		t.Parallel()
		status, body, got := graphBatchPost(t, s, tok, []map[string]any{
			{"id": "top", "method": "GET", "url": gdapBasePath + "?$top=300"},
			{"id": "default", "method": "GET", "url": gdapBasePath},
			{"id": "over", "method": "GET", "url": gdapBasePath + "?$top=301"},
			{"id": "users", "method": "GET", "url": "/users?$top=999"},
		})
		require.Equal(t, http.StatusOK, status, "%v", body)
		for id, want := range map[string]int{"top": 300, "default": 100, "users": 999} {
			require.Equal(t, float64(200), got[id]["status"], "item %s: %v", id, got[id]["body"])
			item := got[id]["body"].(map[string]any)
			assert.Len(t, graphValues(t, item), want, "item %s pages as the request would alone", id)
			link, _ := item["@odata.nextLink"].(string)
			assert.True(t, strings.HasPrefix(link, s.URL()+"/graph/v1.0/"), "item %s: nextLink %q is absolute", id, link)
		}
		over := got["over"]
		require.Equal(t, float64(400), over["status"])
		assert.Equal(t, "The limit of '300' for Top query has been exceeded. The value from the incoming request is '301'.",
			graphErrMessage(over["body"].(map[string]any)))
	})
}

// MaxPageSize caps pages below $top, as a service that sends fewer items
// than asked does; the next link keeps asking the same $top, and every item
// still arrives once.
func TestGraphMaxPageSize(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	for i := range 20 {
		s.AddCustomer(CustomerSpec{Name: fmt.Sprintf("Customer %02d", i), Users: 1, GDAP: true})
	}
	s.Mutate(func(w *World) { w.MaxPageSize = 7 })
	tok := graphAdminToken(s, "", graphAllScopes...)

	status, body := graphGet(t, s, tok, gdapBasePath+"?$top=300")
	require.Equal(t, http.StatusOK, status, "%v", body)
	next, _ := body["@odata.nextLink"].(string)
	u, err := url.Parse(next)
	require.NoError(t, err)
	assert.Equal(t, "300", u.Query().Get("$top"), "the next link asks the same $top")

	sizes, ids := readAllPages(t, s, tok, gdapBasePath+"?$top=300")
	assert.Equal(t, []int{7, 7, 6}, sizes, "pages capped at MaxPageSize 7")
	assert.Len(t, ids, 20)

	sizes, _ = readAllPages(t, s, tok, gdapBasePath+"?$top=5")
	assert.Equal(t, []int{5, 5, 5, 5}, sizes, "a $top below the cap is honoured")

	// The cap never lifts the maximum: $top above it is still refused.
	status, body = graphGet(t, s, tok, gdapBasePath+"?$top=301")
	assert.Equal(t, http.StatusBadRequest, status, "%v", body)
}

// Neither a new server nor the sandbox caps pages: they page as Microsoft
// documents.
func TestMaxPageSizeOffByDefault(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	sb, _ := NewSandbox(SandboxSpec{Customers: 1, Healthy: true}, WithoutListener())
	t.Cleanup(sb.Close)
	for name, srv := range map[string]*Server{"New": s, "NewSandbox": sb} {
		srv.Read(func(w *World) { assert.Zero(t, w.MaxPageSize, "%s caps pages", name) })
	}
}
