package partner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// Customer is a customer of the partner, as Partner Center lists it.
type Customer struct {
	// ID is Partner Center's customer id, which is the customer's tenant
	// id.
	ID             string         `json:"id"`
	CompanyProfile CompanyProfile `json:"companyProfile"`
	// RelationshipToPartner is "reseller", "advisor", "none"…
	RelationshipToPartner string `json:"relationshipToPartner"`
}

// CompanyProfile identifies a customer's organization.
type CompanyProfile struct {
	TenantID    string `json:"tenantId"`
	Domain      string `json:"domain"`
	CompanyName string `json:"companyName"`
}

// TenantID returns the customer's Entra tenant id.
func (c Customer) TenantID() string {
	if c.CompanyProfile.TenantID != "" {
		return c.CompanyProfile.TenantID
	}
	return c.ID
}

// DefaultPageSize is how many customers Customers asks for per request
// when ListOptions.PageSize is 0.
const DefaultPageSize = 100

// ListOptions controls Customers.
type ListOptions struct {
	// PageSize is how many customers each request asks for (the size
	// parameter); the service may return fewer. DefaultPageSize when 0.
	PageSize int
}

// customerPage is one page of GET /v1/customers.
type customerPage struct {
	Items []Customer `json:"items"`
	Links struct {
		Next *link `json:"next"`
	} `json:"links"`
}

// link is a Partner Center resource link: the request that fetches the
// next page, headers (the continuation token) included.
type link struct {
	URI     string `json:"uri"`
	Method  string `json:"method"`
	Headers []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"headers"`
}

// Customers lists the partner's customers, page by page, following each
// page's links.next with the headers it names (the MS-ContinuationToken)
// until a page has none. It stops at the first error, which it yields.
// Breaking out of the loop stops the listing.
//
// https://learn.microsoft.com/partner-center/developer/get-a-list-of-customers
func (c *Client) Customers(ctx context.Context, opts ListOptions) iter.Seq2[Customer, error] {
	return func(yield func(Customer, error) bool) {
		size := opts.PageSize
		if size < 0 {
			yield(Customer{}, fmt.Errorf("partner: list customers: negative page size %d", size))
			return
		}
		if size == 0 {
			size = DefaultPageSize
		}
		op := newOperation("list customers")
		u := c.url(url.Values{"size": {strconv.Itoa(size)}}, "v1", "customers")
		var hdr http.Header
		followed := map[string]bool{}
		for {
			resp, err := c.send(ctx, op, http.MethodGet, u, hdr, nil, httpx.RetryIdempotent)
			if err != nil {
				yield(Customer{}, err)
				return
			}
			var page customerPage
			if err := json.Unmarshal(resp.body, &page); err != nil {
				yield(Customer{}, op.undecodable(resp, "decoding a page", err))
				return
			}
			for _, cust := range page.Items {
				if !yield(cust, nil) {
					return
				}
			}
			if page.Links.Next == nil || page.Links.Next.URI == "" {
				return
			}
			if u, hdr, err = c.follow(page.Links.Next); err != nil {
				yield(Customer{}, fmt.Errorf("partner: list customers: %w", err))
				return
			}
			// A service that hands back a link it already gave would page
			// forever.
			key := u.String() + "\x00" + hdr.Get("MS-ContinuationToken")
			if followed[key] {
				yield(Customer{}, errors.New("partner: list customers: the service returned the same next link twice"))
				return
			}
			followed[key] = true
		}
	}
}

// follow turns a next link into the request it describes. Its URI is
// relative to the API's version root in Partner Center's samples
// ("/customers?…&seekOperation=Next") and sometimes to the API root
// ("/v1/customers?…"); an absolute URI must point at the client's own
// host, so that a token never travels elsewhere. Of the link's headers,
// those that would replace the request's credentials or framing are
// ignored.
func (c *Client) follow(l *link) (*url.URL, http.Header, error) {
	if l.Method != "" && !strings.EqualFold(l.Method, http.MethodGet) {
		return nil, nil, fmt.Errorf("the next link asks for method %q, not GET", l.Method)
	}
	ref, err := url.Parse(l.URI)
	if err != nil {
		return nil, nil, fmt.Errorf("the next link is not a URL: %w", err)
	}
	for _, seg := range strings.Split(ref.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, nil, fmt.Errorf("the next link has a dot segment (%s)", httpx.RedactURL(ref))
		}
	}
	var u *url.URL
	switch {
	case ref.IsAbs() || ref.Host != "":
		if !strings.EqualFold(ref.Scheme, c.root.Scheme) || !strings.EqualFold(ref.Host, c.root.Host) {
			return nil, nil, fmt.Errorf("refusing to follow a next link to another host (%s)", httpx.RedactURL(ref))
		}
		u = ref
	default:
		p := "/" + strings.TrimPrefix(ref.Path, "/")
		if !strings.HasPrefix(p, "/v1/") {
			p = "/v1" + p
		}
		u = c.root.JoinPath(p)
		u.RawQuery = ref.RawQuery
	}
	hdr := http.Header{}
	for _, h := range l.Headers {
		switch http.CanonicalHeaderKey(h.Key) {
		case "", "Authorization", "Host", "Cookie", "Content-Length", "Transfer-Encoding", "Ms-Correlationid", "Ms-Requestid":
			continue
		}
		hdr.Add(h.Key, h.Value)
	}
	return u, hdr, nil
}
