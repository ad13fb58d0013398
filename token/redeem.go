package token

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// tokenBodyLimit bounds a token response: a few kilobytes in practice.
const tokenBodyLimit = 1 << 20

// tokenResponse is the identity platform's /token answer, success and
// error members together: a 200 may carry an error.
type tokenResponse struct {
	errorBody
	TokenType    string      `json:"token_type"`
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"`
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
	form := url.Values{"client_id": {k.client}}
	var chain *refreshChain
	switch k.kind {
	case Delegated:
		chain = &p.sam
	case LegacyExchange:
		chain = &p.exchange
	}
	grant := "client_credentials"
	var gen uint64
	if chain != nil {
		grant = "refresh_token"
		var rt Secret
		rt, gen = chain.take()
		form.Set("refresh_token", rt.Reveal())
		// offline_access asks for the rotated refresh token, as MSAL does
		// on every request.
		form.Set("scope", withOfflineAccess(k.scope))
	} else {
		form.Set("scope", k.scope)
	}
	form.Set("grant_type", grant)
	// The legacy Exchange client is public: it has no secret to send.
	if k.kind != LegacyExchange {
		if err := p.authenticate(form, endpoint); err != nil {
			return Token{}, err
		}
	}
	res, err := p.post(ctx, k, grant, endpoint, form)
	if err != nil {
		return Token{}, err
	}
	now := p.now()
	tok := Token{AccessToken: NewSecret(res.AccessToken), TenantID: k.tenant, Scope: k.scope, Kind: k.kind}
	if secs, err := res.ExpiresIn.Int64(); err == nil && secs > 0 {
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	} else if c, err := tok.Claims(); err == nil && !c.Expiry.IsZero() {
		tok.Expiry = c.Expiry
	} else {
		return Token{}, &Error{StatusCode: http.StatusOK, Description: "the token response has neither expires_in nor a readable exp claim", Tenant: k.tenant, Scope: k.scope, Endpoint: endpoint}
	}
	if chain != nil && res.RefreshToken != "" {
		if err := chain.rotate(ctx, NewSecret(res.RefreshToken), gen, p.store); err != nil {
			return Token{}, err
		}
	}
	return tok, nil
}

func withOfflineAccess(scope string) string {
	if slices.Contains(strings.Fields(scope), "offline_access") {
		return scope
	}
	return scope + " offline_access"
}

// authenticate adds the app's credential to form: its client secret or,
// without one, a client assertion signed with its certificate.
func (p *Provider) authenticate(form url.Values, endpoint string) error {
	if !p.creds.ClientSecret.IsZero() {
		form.Set("client_secret", p.creds.ClientSecret.Reveal())
		return nil
	}
	a, err := clientAssertion(p.creds.Certificate, p.creds.ApplicationID, endpoint, p.now())
	if err != nil {
		return err
	}
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", a)
	return nil
}

// post sends form to the token endpoint and decodes the answer: a token
// response with an access token, or a *Error.
func (p *Provider) post(ctx context.Context, k cacheKey, grant, endpoint string, form url.Values) (tokenResponse, error) {
	// A refresh token or client credential stays valid when used, so a
	// token request is safe to replay whatever failed.
	ctx = httpx.WithRetryClass(ctx, httpx.RetryAlways)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("token: building the request for tenant %s: %w", k.tenant, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	requestID := httpx.NewGUID()
	req.Header.Set("client-request-id", requestID)
	req.Header.Set("return-client-request-id", "true")

	start := time.Now()
	attrs := []slog.Attr{
		slog.String("tenant", k.tenant), slog.String("scope", k.scope), slog.String("grant", grant),
		slog.String("kind", k.kind.String()), slog.String("client_request_id", requestID),
	}
	resp, err := p.pipe.Do(req)
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelDebug, "token request failed", append(attrs, slog.Duration("duration", time.Since(start)), slog.Any("error", err))...)
		return tokenResponse{}, fmt.Errorf("token: requesting a %s token for tenant %s: %w", k.kind, k.tenant, err)
	}
	defer resp.Body.Close()
	body, readErr := httpx.ReadBody(resp.Body, tokenBodyLimit)
	traceID := resp.Header.Get("x-ms-request-id")

	res, tokErr := decodeTokenResponse(resp, body, readErr, k, endpoint)
	if e, ok := tokErr.(*Error); ok && e.TraceID != "" {
		traceID = e.TraceID
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)), slog.String("trace_id", traceID))
	if tokErr != nil {
		p.log.LogAttrs(ctx, slog.LevelDebug, "token request failed", append(attrs, slog.String("error", tokErr.Error()))...)
		return tokenResponse{}, tokErr
	}
	p.log.LogAttrs(ctx, slog.LevelDebug, "token request", attrs...)
	return res, nil
}

// decodeTokenResponse turns an answer into a token response or a *Error.
func decodeTokenResponse(resp *http.Response, body []byte, readErr error, k cacheKey, endpoint string) (tokenResponse, error) {
	if readErr != nil && resp.StatusCode == http.StatusOK {
		return tokenResponse{}, &Error{StatusCode: resp.StatusCode, Description: "reading the token response: " + readErr.Error(), Tenant: k.tenant, Scope: k.scope, Endpoint: endpoint}
	}
	var res tokenResponse
	if err := json.Unmarshal(body, &res); err != nil || !isJSON(resp.Header.Get("Content-Type")) && res.Error == "" && res.AccessToken == "" {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return tokenResponse{}, nonJSONError(resp.StatusCode, ct, body, k.tenant, k.scope, endpoint)
	}
	if res.Error != "" || resp.StatusCode != http.StatusOK {
		if res.Error == "" {
			res.ErrorDescription = excerpt(body)
		}
		return tokenResponse{}, newError(resp.StatusCode, res.errorBody, k.tenant, k.scope, endpoint)
	}
	if res.AccessToken == "" {
		return tokenResponse{}, &Error{StatusCode: resp.StatusCode, Description: "the token response has no access_token", Tenant: k.tenant, Scope: k.scope, Endpoint: endpoint}
	}
	return res, nil
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
