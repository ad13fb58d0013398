package token

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// tokenBodyLimit bounds a token response: a few kilobytes in practice.
const tokenBodyLimit = 1 << 20

// tokenResponse holds the members of the identity platform's /token
// answer that redeem uses, and error, since a 200 may carry one. The
// other members (token_type, scope, id_token…) are skipped, not copied;
// an error answer is decoded again into an errorBody.
type tokenResponse struct {
	Error        string      `json:"error"`
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"`
	// bearer is "Bearer " and AccessToken, whose bytes AccessToken
	// shares, when decodeFlat decoded the response: the token's
	// Authorization header, built with the token's one copy.
	bearer string
}

// redeem performs the grant of k's kind and, for refresh token grants,
// persists the rotated refresh token before returning the access token.
//
// The refresh_token grant is written here, not taken from a library:
// golang.org/x/oauth2 never sends scope on refresh, and MSAL Go redeems
// only refresh tokens it minted itself, while SAM redeems one refresh
// token for every tenant and resource by naming the scope each time.
func (p *Provider) redeem(ctx context.Context, k cacheKey) (Token, error) {
	endpoint := p.cloud.LoginEndpoint + "/" + k.tenant + "/oauth2/v2.0/token"
	var chain *refreshChain
	switch k.kind {
	case Delegated:
		chain = &p.sam
	case LegacyExchange:
		chain = &p.exchange
	}
	var rt Secret
	var gen uint64
	if chain != nil {
		rt, gen = chain.take()
	}
	// Room for the fields as they are, the scope escaped and the names:
	// the form is written once, not regrown as the refresh token goes in.
	var form form
	form.b.Grow(128 + len(k.client) + len(rt.Reveal()) + 3*len(k.scope) + len(p.creds.ClientSecret.Reveal()))
	form.add("client_id", k.client)
	grant := "client_credentials"
	if chain != nil {
		grant = "refresh_token"
		form.add("refresh_token", rt.Reveal())
		// offline_access asks for the rotated refresh token, as MSAL does
		// on every request.
		form.add("scope", withOfflineAccess(k.scope))
	} else {
		form.add("scope", k.scope)
	}
	form.add("grant_type", grant)
	// The legacy Exchange client is public: it has no secret to send.
	if k.kind != LegacyExchange {
		if err := p.authenticate(&form, endpoint); err != nil {
			return Token{}, err
		}
	}
	res, err := p.post(ctx, k, grant, endpoint, form.String())
	if err != nil {
		return Token{}, err
	}
	now := p.now()
	bearer := res.bearer
	if bearer == "" {
		bearer = bearerPrefix + res.AccessToken
	}
	tok := Token{AccessToken: NewSecret(bearer[len(bearerPrefix):]), TenantID: k.tenant, Scope: k.scope, Kind: k.kind, bearer: NewSecret(bearer)}
	if secs, err := res.ExpiresIn.Int64(); err == nil && secs > 0 {
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	} else if c, err := tok.Claims(); err == nil && !c.Expiry.IsZero() {
		tok.Expiry = c.Expiry
	} else {
		return Token{}, &Error{StatusCode: http.StatusOK, Description: "the token response has neither expires_in nor a readable exp claim", Tenant: k.tenant, Scope: k.scope, Endpoint: endpoint}
	}
	if chain != nil && res.RefreshToken != "" {
		if err := chain.rotate(ctx, NewSecret(res.RefreshToken), now, gen, p.store); err != nil {
			return Token{}, err
		}
	}
	return tok, nil
}

func withOfflineAccess(scope string) string {
	for f := range strings.FieldsSeq(scope) {
		if f == "offline_access" {
			return scope
		}
	}
	return scope + " offline_access"
}

// authenticate adds the app's credential to form: its client secret or,
// without one, a client assertion signed with its certificate.
func (p *Provider) authenticate(form *form, endpoint string) error {
	if !p.creds.ClientSecret.IsZero() {
		form.add("client_secret", p.creds.ClientSecret.Reveal())
		return nil
	}
	a, err := clientAssertion(p.creds.Certificate, p.creds.ApplicationID, endpoint, p.now())
	if err != nil {
		return err
	}
	form.add("client_assertion_type", jwtBearer)
	form.add("client_assertion", a)
	return nil
}

// form is an application/x-www-form-urlencoded body written field by
// field, in the order added: no map and no sorting, as url.Values needs.
type form struct{ b strings.Builder }

func (f *form) add(key, value string) {
	if f.b.Len() > 0 {
		f.b.WriteByte('&')
	}
	f.b.WriteString(key) // keys are constants that need no escaping
	f.b.WriteByte('=')
	f.b.WriteString(url.QueryEscape(value))
}

func (f *form) String() string { return f.b.String() }

// post sends form to the token endpoint and decodes the answer: a token
// response with an access token, or a *Error.
func (p *Provider) post(ctx context.Context, k cacheKey, grant, endpoint, form string) (tokenResponse, error) {
	// A refresh token or client credential stays valid when used, so a
	// token request is safe to replay whatever failed.
	ctx = httpx.WithRetryClass(ctx, httpx.RetryAlways)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("token: building the request for tenant %s: %w", k.tenant, err)
	}
	requestID := httpx.NewGUID()
	// The keys are canonical already and the values share one array, each
	// capped so that an append elsewhere cannot overwrite its neighbour.
	v := [...]string{"application/x-www-form-urlencoded", "application/json", requestID, "true"}
	req.Header["Content-Type"] = v[0:1:1]
	req.Header["Accept"] = v[1:2:2]
	req.Header["Client-Request-Id"] = v[2:3:3]
	req.Header["Return-Client-Request-Id"] = v[3:4:4]
	req.Header["User-Agent"] = p.ua

	start := time.Now()
	// The log's attributes are built only when someone reads them.
	debug := p.log.Enabled(ctx, slog.LevelDebug)
	var attrs []slog.Attr
	if debug {
		attrs = []slog.Attr{
			slog.String("tenant", k.tenant), slog.String("scope", k.scope), slog.String("grant", grant),
			slog.String("kind", k.kind.String()), slog.String("client_request_id", requestID),
		}
	}
	resp, err := p.pipe.Do(req)
	if err != nil {
		if debug {
			p.log.LogAttrs(ctx, slog.LevelDebug, "token request failed", append(attrs, slog.Duration("duration", time.Since(start)), slog.Any("error", err))...)
		}
		return tokenResponse{}, fmt.Errorf("token: requesting a %s token for tenant %s: %w", k.kind, k.tenant, err)
	}
	defer resp.Body.Close()
	buf := bodies.Get().(*[]byte)
	body, readErr := httpx.AppendBody((*buf)[:0], resp.Body, tokenBodyLimit)
	// Decoding copies what it keeps, so the buffer is free again after it.
	defer putBody(buf, body)
	traceID := resp.Header.Get("x-ms-request-id")

	res, tokErr := decodeTokenResponse(resp, body, readErr, k, endpoint)
	if e, ok := tokErr.(*Error); ok && e.TraceID != "" {
		traceID = e.TraceID
	}
	if debug {
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)), slog.String("trace_id", traceID))
		if tokErr != nil {
			p.log.LogAttrs(ctx, slog.LevelDebug, "token request failed", append(attrs, slog.String("error", tokErr.Error()))...)
		} else {
			p.log.LogAttrs(ctx, slog.LevelDebug, "token request", attrs...)
		}
	}
	if tokErr != nil {
		return tokenResponse{}, tokErr
	}
	return res, nil
}

// bodies holds the buffers token responses are read into: each is
// decoded into strings and then no longer needed, and a run over many
// tenants would otherwise allocate a few kilobytes for each.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// putBody returns buf, holding body now, to the pool, unless body grew
// it beyond what token responses need.
func putBody(buf *[]byte, body []byte) {
	if cap(body) > 64<<10 {
		return
	}
	*buf = body[:0]
	bodies.Put(buf)
}

// decodeTokenResponse turns an answer into a token response or a *Error.
func decodeTokenResponse(resp *http.Response, body []byte, readErr error, k cacheKey, endpoint string) (tokenResponse, error) {
	if readErr != nil && resp.StatusCode == http.StatusOK {
		return tokenResponse{}, &Error{StatusCode: resp.StatusCode, Description: "reading the token response: " + readErr.Error(), Tenant: k.tenant, Scope: k.scope, Endpoint: endpoint}
	}
	var res tokenResponse
	var err error
	if !decodeFlat(body, &res) {
		err = json.Unmarshal(body, &res)
	}
	if err != nil || res.Error == "" && res.AccessToken == "" && !isJSON(resp.Header.Get("Content-Type")) {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return tokenResponse{}, nonJSONError(resp.StatusCode, ct, body, k.tenant, k.scope, endpoint)
	}
	if res.Error != "" || resp.StatusCode != http.StatusOK {
		var eb errorBody
		if res.Error != "" {
			_ = json.Unmarshal(body, &eb) // valid JSON: the first decoding said so
		} else {
			eb.ErrorDescription = excerpt(body)
		}
		return tokenResponse{}, newError(resp.StatusCode, eb, k.tenant, k.scope, endpoint)
	}
	if res.AccessToken == "" {
		return tokenResponse{}, &Error{StatusCode: resp.StatusCode, Description: "the token response has no access_token", Tenant: k.tenant, Scope: k.scope, Endpoint: endpoint}
	}
	return res, nil
}

// isJSON reports whether contentType is JSON. The identity platform's own
// "application/json; charset=utf-8" is recognised without parsing it.
func isJSON(contentType string) bool {
	if contentType == "application/json" || contentType == "application/json; charset=utf-8" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
