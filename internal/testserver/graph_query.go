package testserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// graphCollection describes how one Graph collection pages and filters.
type graphCollection struct {
	// fragment is the @odata.context fragment ("users").
	fragment string
	// resource names the entity type in filter errors ("User").
	resource string
	// filterable lists the properties $filter may test with eq; a "/"
	// walks into a complex property ("customer/tenantId").
	filterable []string
	// paging is the collection's page sizes: graphDirectoryPaging or
	// graphGDAPPaging.
	paging graphPaging
}

// graphPaging is how a collection pages: without $top a page holds
// defaultTop items; $top asks for 1 to maxTop, and more is refused.
type graphPaging struct {
	defaultTop, maxTop int
}

var (
	// graphDirectoryPaging is the directory's: "The default and maximum page
	// sizes are 100 and 999" objects for users, groups, applications,
	// service principals and memberships
	// (https://learn.microsoft.com/graph/api/user-list,
	// https://learn.microsoft.com/graph/api/group-list,
	// https://learn.microsoft.com/graph/api/application-list,
	// https://learn.microsoft.com/graph/api/serviceprincipal-list,
	// https://learn.microsoft.com/graph/api/user-list-transitivememberof).
	// The other directory collections the fake serves (grants, app role
	// assignments, contracts, domains, organization) document no sizes of
	// their own and are served by the same directory, which refuses a $top
	// above 999 with "Invalid page size specified" (MICROSOFT-APIS.md §2).
	graphDirectoryPaging = graphPaging{defaultTop: 100, maxTop: 999}
	// graphGDAPPaging is the GDAP collections': "$top supports up to 300
	// objects" (https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships,
	// https://learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments,
	// https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadmincustomers).
	// Microsoft documents no default for them; the fake uses Graph's usual
	// 100 (https://learn.microsoft.com/graph/paging), never more than the
	// service could send, so a client that omits $top still meets paging.
	graphGDAPPaging = graphPaging{defaultTop: 100, maxTop: 300}
)

// graphFilterClause is one "property eq value" of a $filter.
type graphFilterClause struct {
	prop, value string
}

// writeGraphCollection answers a collection read: it applies $filter, pages
// by $top (the collection's default page size without it) with an absolute
// @odata.nextLink holding an opaque $skiptoken, and applies $select. items
// must be in a stable order so that pages follow one another.
//
// World.MaxPageSize, when set, caps every page below what $top asks: Graph
// may return fewer items than $top and a client must follow
// @odata.nextLink until it is absent (https://learn.microsoft.com/graph/paging),
// so tests set it to make clients cross pages.
func (s *Server) writeGraphCollection(w http.ResponseWriter, r *http.Request, c Claims, col graphCollection, items []map[string]any) {
	q := r.URL.Query()
	size := col.paging.defaultTop
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > col.paging.maxTop {
			s.graphBadTop(w, r, col, v)
			return
		}
		size = n
	}
	clauses, bad := graphParseFilter(q.Get("$filter"))
	if bad != "" {
		s.writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid filter clause: "+bad)
		return
	}
	for _, cl := range clauses {
		if !slices.ContainsFunc(col.filterable, func(p string) bool { return strings.EqualFold(p, cl.prop) }) {
			s.writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery",
				"Unsupported or invalid query filter clause specified for property '"+cl.prop+"' of resource '"+col.resource+"'.")
			return
		}
	}
	offset := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		n, ok := s.graphOpenSkipToken(tok, r, c)
		if !ok {
			// The directory's answer to a page token it cannot use
			// (Directory_ExpiredPageToken); a client restarts the listing.
			s.writeGraphError(w, r, http.StatusBadRequest, "Directory_ExpiredPageToken",
				"The specified page token value has expired and can no longer be included in your request.")
			return
		}
		offset = n
	}

	matched := items[:0:0]
	for _, it := range items {
		if graphMatch(it, clauses) {
			matched = append(matched, it)
		}
	}
	s.mu.Lock()
	if limit := s.world.MaxPageSize; limit > 0 {
		size = min(size, limit)
	}
	s.mu.Unlock()
	offset = min(offset, len(matched))
	end := min(offset+size, len(matched))

	sel := graphParseSelect(q.Get("$select"))
	page := make([]map[string]any, 0, end-offset)
	for _, it := range matched[offset:end] {
		page = append(page, graphSelect(it, sel))
	}
	fragment := col.fragment
	if len(sel) > 0 {
		fragment += "(" + strings.Join(sel, ",") + ")"
	}
	body := map[string]any{"@odata.context": s.graphContext(fragment), "value": page}
	if end < len(matched) {
		body["@odata.nextLink"] = s.graphNextLink(r, c, end)
	}
	s.writeGraphJSON(w, r, http.StatusOK, body)
}

// graphBadTop refuses a $top the collection does not accept.
func (s *Server) graphBadTop(w http.ResponseWriter, r *http.Request, col graphCollection, v string) {
	if col.paging.maxTop == graphDirectoryPaging.maxTop {
		// The directory's own message.
		s.writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery",
			"Invalid page size specified: '"+v+"'. Must be between 1 and 999 inclusive.")
		return
	}
	// The OData stack's answer to a $top above a service's maximum; the
	// GDAP API documents the maximum, not the message.
	s.writeGraphError(w, r, http.StatusBadRequest, "BadRequest",
		fmt.Sprintf("The limit of '%d' for Top query has been exceeded. The value from the incoming request is '%s'.", col.paging.maxTop, v))
}

// graphNextLink is the absolute URL of the page that starts at offset: the same
// request, every other query option kept, with a $skiptoken
// (https://learn.microsoft.com/graph/paging).
func (s *Server) graphNextLink(r *http.Request, c Claims, offset int) string {
	q := r.URL.Query()
	q.Del("$skiptoken")
	query := graphEncodeQuery(q)
	if query != "" {
		query += "&"
	}
	return s.URL() + "/graph" + r.URL.Path + "?" + query + "$skiptoken=" + s.graphSealSkipToken(r, c, offset)
}

// graphSealSkipToken makes a $skiptoken bound to the tenant, the path and the
// other query options of the request it continues, so that only the
// nextLink Graph gave, followed verbatim, reads the next page.
func (s *Server) graphSealSkipToken(r *http.Request, c Claims, offset int) string {
	pos := strconv.Itoa(offset)
	return b64.EncodeToString([]byte(pos)) + "." + b64.EncodeToString(s.graphSkipTokenMAC(r, c, pos))
}

func (s *Server) graphOpenSkipToken(tok string, r *http.Request, c Claims) (int, bool) {
	p, mac, ok := strings.Cut(tok, ".")
	if !ok {
		return 0, false
	}
	pos, err1 := b64.DecodeString(p)
	sum, err2 := b64.DecodeString(mac)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, s.graphSkipTokenMAC(r, c, string(pos))) {
		return 0, false
	}
	n, err := strconv.Atoi(string(pos))
	return n, err == nil && n >= 0
}

func (s *Server) graphSkipTokenMAC(r *http.Request, c Claims, pos string) []byte {
	q := r.URL.Query()
	q.Del("$skiptoken")
	key := sha256.Sum256(append([]byte("samkit graph skiptoken "), s.key.D.Bytes()...))
	m := hmac.New(sha256.New, key[:])
	for _, part := range []string{c.String("tid"), r.URL.Path, graphEncodeQuery(q), pos} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return m.Sum(nil)[:16]
}

// graphEncodeQuery encodes query options in a stable order, keeping the "$" of
// system query options and the punctuation of OData expressions readable
// and escaping spaces as %20, as Graph's links do.
func graphEncodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		ek := strings.ReplaceAll(url.QueryEscape(k), "%24", "$")
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek + "=" + graphQueryValue.Replace(url.QueryEscape(v)))
		}
	}
	return b.String()
}

// graphQueryValue undoes the escaping of characters a query value may hold
// as they are, and escapes spaces as %20 rather than "+".
var graphQueryValue = strings.NewReplacer("+", "%20", "%2C", ",", "%27", "'", "%28", "(", "%29", ")", "%3A", ":", "%2F", "/")

// graphParseSelect splits a $select list.
func graphParseSelect(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// graphSelect returns a copy of obj with only the selected properties (and
// its @odata annotations); a selected property the fake does not model
// reads as null, as an unset one does in Graph.
func graphSelect(obj map[string]any, sel []string) map[string]any {
	out := make(map[string]any, len(obj))
	if len(sel) == 0 {
		for k, v := range obj {
			out[k] = v
		}
		return out
	}
	for k, v := range obj {
		if strings.HasPrefix(k, "@odata.") {
			out[k] = v
		}
	}
	for _, f := range sel {
		found := false
		for k, v := range obj {
			if strings.EqualFold(k, f) {
				out[k], found = v, true
			}
		}
		if !found {
			out[f] = nil
		}
	}
	return out
}

// graphParseFilter parses the $filter subset the fake supports: clauses of
// "property eq value" joined by "and", values quoted ('it”s') or bare
// (true, false, numbers). It returns the clause it could not read, if any.
func graphParseFilter(expr string) ([]graphFilterClause, string) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, ""
	}
	var out []graphFilterClause
	for expr != "" {
		prop, rest, ok := strings.Cut(expr, " ")
		rest = strings.TrimLeft(rest, " ")
		op, rest2, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || !strings.EqualFold(op, "eq") {
			return nil, expr
		}
		rest2 = strings.TrimLeft(rest2, " ")
		var value string
		if strings.HasPrefix(rest2, "'") {
			i, end := 1, -1
			var b strings.Builder
			for i < len(rest2) {
				if rest2[i] == '\'' {
					if i+1 < len(rest2) && rest2[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					end = i
					break
				}
				b.WriteByte(rest2[i])
				i++
			}
			if end < 0 {
				return nil, expr
			}
			value, rest2 = b.String(), rest2[end+1:]
		} else {
			value, rest2, _ = strings.Cut(rest2, " ")
			rest2 = " " + rest2
		}
		out = append(out, graphFilterClause{prop: prop, value: value})
		rest2 = strings.TrimSpace(rest2)
		if rest2 == "" {
			break
		}
		conj, next, ok := strings.Cut(rest2, " ")
		if !ok || !strings.EqualFold(conj, "and") {
			return nil, rest2
		}
		expr = strings.TrimSpace(next)
		if expr == "" {
			return nil, rest2
		}
	}
	return out, ""
}

// graphMatch reports whether obj satisfies every clause; string comparisons
// ignore case, as the directory's do.
func graphMatch(obj map[string]any, clauses []graphFilterClause) bool {
	for _, cl := range clauses {
		v, ok := graphLookup(obj, cl.prop)
		if !ok || v == nil || !strings.EqualFold(fmt.Sprint(v), cl.value) {
			return false
		}
	}
	return true
}

func graphLookup(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		for k, v := range m {
			if strings.EqualFold(k, part) {
				cur, found = v, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return cur, true
}
