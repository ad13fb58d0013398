package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/rest"
)

// InvokeOption configures one Invoke call.
type InvokeOption func(*invokeConfig)

type invokeConfig struct {
	onWarning func(string)
	anchor    string
	err       error
}

// OnWarning calls fn with each warning the cmdlet reports
// (@adminapi.warnings) — "There are more results available than are
// currently displayed…" — once per distinct text, as pages arrive and
// before their rows are yielded. Without it, warnings are logged at warn
// level through the client's logger.
func OnWarning(fn func(warning string)) InvokeOption {
	return func(c *invokeConfig) { c.onWarning = fn }
}

// AnchorMailbox sets this call's X-AnchorMailbox (see WithAnchorMailbox).
func AnchorMailbox(anchor string) InvokeOption {
	return func(c *invokeConfig) {
		if err := checkAnchor(anchor); err != nil {
			c.err = fmt.Errorf("AnchorMailbox: %w", err)
		}
		c.anchor = anchor
	}
}

// isCmdlet reports whether s is a cmdlet name: Verb-Noun, ASCII letters
// for the verb, letters and digits for the noun, at most 128 bytes. Such
// a name needs no escaping in JSON.
func isCmdlet(s string) bool {
	verb, noun, ok := strings.Cut(s, "-")
	if !ok || verb == "" || noun == "" || len(s) > 128 {
		return false
	}
	for i := range len(verb) {
		if c := verb[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	for i := range len(noun) {
		if c := noun[i]; (c|0x20 < 'a' || c|0x20 > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// invokeBody is InvokeCommand's request body, as json.Marshal would write
// {"CmdletInput": {"CmdletName": cmdlet, "Parameters": params}}. The
// checked cmdlet name is written as it is; params are encoded only when
// there are some.
func invokeBody(cmdlet string, params map[string]any) ([]byte, error) {
	p := []byte("{}")
	if len(params) > 0 {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return nil, err
		}
	}
	const head, mid, tail = `{"CmdletInput":{"CmdletName":"`, `","Parameters":`, `}}`
	b := make([]byte, 0, len(head)+len(cmdlet)+len(mid)+len(p)+len(tail))
	b = append(append(append(append(append(b, head...), cmdlet...), mid...), p...), tail...)
	return b, nil
}

// envelope is one page of InvokeCommand's answer.
type envelope struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
	Warnings []string          `json:"@adminapi.warnings"`
}

// Invoke runs cmdlet with params (parameter name → value, as the cmdlet's
// -Name Value; nil for none) and yields its output rows as JSON objects,
// fetching further pages by POSTing the same request to each
// @odata.nextLink. It stops at the first error, which it yields; breaking
// out of the loop stops fetching.
//
// The cmdlet name must be Verb-Noun (letters, digits, one hyphen): it is
// the only caller input besides the tenant that shapes the request, and it
// travels in the body, never in the URL. Reads (Get-* cmdlets) are retried
// after throttling, server errors and broken connections; other cmdlets
// only after throttling, when the service certainly did not run them.
func (c *Client) Invoke(ctx context.Context, cmdlet string, params map[string]any, opts ...InvokeOption) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		ic := invokeConfig{anchor: c.anchor}
		for _, o := range opts {
			if o != nil {
				o(&ic)
			}
		}
		// The name is checked first: the option errors below print it.
		if !isCmdlet(cmdlet) {
			yield(nil, fmt.Errorf("exchange: %q is not a cmdlet name (Verb-Noun)", shorten(cmdlet)))
			return
		}
		if ic.err != nil {
			yield(nil, fmt.Errorf("exchange: %s: %w", cmdlet, ic.err))
			return
		}
		body, err := invokeBody(cmdlet, params)
		if err != nil {
			yield(nil, fmt.Errorf("exchange: %s: encoding parameters: %w", cmdlet, err))
			return
		}
		class := httpx.RetryThrottleOnly
		if strings.HasPrefix(strings.ToLower(cmdlet), "get-") {
			class = httpx.RetryAlways
		}
		u, err := c.endpoint(cmdlet)
		if err != nil {
			yield(nil, err)
			return
		}
		last := path.Base(u.Path)
		// Most calls read one page without warnings: the maps are made
		// when needed.
		var warned, followed map[string]bool
		for {
			page, err := c.post(ctx, cmdlet, u, body, ic.anchor, class)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, w := range page.Warnings {
				if w == "" || warned[w] {
					continue
				}
				if warned == nil {
					warned = map[string]bool{}
				}
				warned[w] = true
				if ic.onWarning != nil {
					ic.onWarning(w)
				} else {
					c.log.WarnContext(ctx, "exchange cmdlet warning", "cmdlet", cmdlet, "tenant", c.tenant, "warning", w)
				}
			}
			for _, row := range page.Value {
				if !yield(row, nil) {
					return
				}
			}
			if page.NextLink == "" {
				return
			}
			next, err := c.checkNextLink(page.NextLink, last)
			if err != nil {
				yield(nil, fmt.Errorf("exchange: %s: %w", cmdlet, err))
				return
			}
			if followed[next.String()] {
				yield(nil, fmt.Errorf("exchange: %s: the service returned the same next link twice", cmdlet))
				return
			}
			if followed == nil {
				followed = map[string]bool{}
			}
			followed[next.String()] = true
			u = next
		}
	}
}

// InvokeInto runs a cmdlet as Client.Invoke does and decodes each row into
// a T, typically a struct with the fields of the cmdlet's output that the
// caller needs (rows carry many more).
func InvokeInto[T any](ctx context.Context, c *Client, cmdlet string, params map[string]any, opts ...InvokeOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for raw, err := range c.Invoke(ctx, cmdlet, params, opts...) {
			var v T
			if err != nil {
				yield(v, err)
				return
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				yield(v, fmt.Errorf("exchange: %s: decoding a row into %T: %w", cmdlet, v, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// checkNextLink accepts a next link only to the endpoint the client
// called (InvokeCommand, or the v2.0 endpoint last names) on the same host,
// query aside, so that the token and the request never go anywhere else.
// The service may name the tenant by id where the client named it by
// domain, so the tenant segment may differ.
func (c *Client) checkNextLink(raw, last string) (*url.URL, error) {
	u, err := httpx.CheckNextLink(raw, c.root)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(c.root.EscapedPath(), "/") + "/adminapi/" + string(c.api) + "/"
	tenant, ok := strings.CutPrefix(u.EscapedPath(), prefix)
	if ok {
		tenant, ok = strings.CutSuffix(tenant, "/"+last)
	}
	if !ok || httpx.ValidTenant(tenant) != nil {
		return nil, fmt.Errorf("refusing to follow an @odata.nextLink to another endpoint (%s)", httpx.RedactURL(u))
	}
	return u, nil
}

// post sends one InvokeCommand request through the request pipeline and
// decodes its page. A 401 is retried once after invalidating the token,
// when the Source supports it.
func (c *Client) post(ctx context.Context, cmdlet string, u *url.URL, body []byte, anchor string, class httpx.RetryClass) (*envelope, error) {
	// The v2.0 pages document Authorization, Content-Type and
	// X-AnchorMailbox (https://learn.microsoft.com/exchange/reference/admin-api-endpoints-mailbox);
	// the page size preference and the cmdlet name header are what
	// Exchange Online PowerShell sends to InvokeCommand.
	h := http.Header{"X-Anchormailbox": {anchor}}
	if c.api != APIV2 {
		h["Prefer"] = []string{"odata.maxpagesize=" + strconv.Itoa(c.pageSize)}
		h["X-Cmdletname"] = []string{cmdlet}
	}
	req := rest.Request{Method: http.MethodPost, URL: u.String(), What: cmdlet, Body: body, Class: class, Header: h,
		Fail: func(a *rest.Answer) error {
			e := newError(cmdlet, c.tenant, a.Status, a.Header, a.Body, a.RequestID)
			e.API = c.api
			if a.TooLarge {
				// The service answered, with a body no cmdlet page comes
				// near: an *Error like any other unusable answer.
				e.Message = fmt.Sprintf("the response body is larger than %d bytes", httpx.DefaultBodyLimit)
			}
			return e
		}}
	a, err := c.rest.Do(ctx, &req)
	if err != nil {
		return nil, err
	}
	var page envelope
	if err := json.Unmarshal(a.Body, &page); err != nil {
		return nil, &Error{StatusCode: a.Status, Cmdlet: cmdlet, Tenant: c.tenant, API: c.api,
			RequestID: responseRequestID(a.Header, a.RequestID), Message: describeBody(a.Header.Get("Content-Type"), a.Body)}
	}
	return &page, nil
}
