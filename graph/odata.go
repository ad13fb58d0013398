package graph

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// Quote returns s as an OData string literal for a $filter: in single
// quotes, with each single quote doubled, so that a value such as
// "O'Brien's app" cannot end the literal and change the query.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ListOptions narrows a collection read.
type ListOptions struct {
	// Top is the page size ($top), 1 to 999 for directory collections; 0
	// leaves it to Graph (100). Iterators still walk every page: stop
	// ranging to stop reading.
	Top int
	// Select names the properties to return ($select); nil returns
	// Graph's default set.
	Select []string
	// Filter is an OData $filter expression. Build string literals in it
	// with Quote.
	Filter string
}

// maxTop is the largest page directory collections serve.
const maxTop = 999

func (o ListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o.Top < 0 || o.Top > maxTop {
		return nil, invalidArg("ListOptions.Top %d is outside 0–%d", o.Top, maxTop)
	}
	if o.Top > 0 {
		q.Set("$top", strconv.Itoa(o.Top))
	}
	if len(o.Select) > 0 {
		for _, p := range o.Select {
			if !isPropertyName(p) {
				return nil, invalidArg("ListOptions.Select: %q is not a property name", p)
			}
		}
		q.Set("$select", strings.Join(o.Select, ","))
	}
	if o.Filter != "" {
		q.Set("$filter", o.Filter)
	}
	return q, nil
}

// isPropertyName reports whether s looks like an OData property name
// (letters, digits, underscores, dots for paths and casts).
func isPropertyName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// encodeQuery encodes q with its keys in order, keeping the "$" of OData
// system options readable and writing spaces as %20, as Graph's
// documentation does, rather than HTML forms' "+".
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		ek := strings.ReplaceAll(url.QueryEscape(k), "%24", "$")
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return b.String()
}

// checkGUID refuses an id that is not a GUID before it reaches a URL or a
// filter. Directory object ids and application ids are GUIDs.
func checkGUID(what, id string) error {
	if !httpx.IsGUID(id) {
		return invalidArg("%s %s is not a GUID", what, shorten(id))
	}
	return nil
}

// checkSegment refuses an id that could leave its path segment ("..",
// "/", "?", "#", "%"…). Ids that are not GUIDs (permission grants, app
// role assignments) go through it.
func checkSegment(what, id string) error {
	if err := httpx.ValidPathSegment(id); err != nil {
		return invalidArg("%s: %v", what, err)
	}
	return nil
}

// shorten quotes a refused value for an error message, cut so that a long
// or hostile value does not flood it.
func shorten(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		return strconv.Quote(s[:maxLen]) + "…"
	}
	return strconv.Quote(s)
}
