//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// bare makes the access check's requests by hand with net/http: per
// tenant, the same four requests samkit's Partner.Check makes, with the
// same methods, URLs, headers and bodies (bare_test.go holds it to that),
// each answer's status checked and its body decoded with encoding/json
// into the fields samkit uses. It is the floor samkit's CPU per tenant is
// set against: what a careful hand-written client costs, with one token
// per tenant per resource, used at once, and no retries, which a healthy
// run does not need.
type bare struct {
	hc                        *http.Client
	w                         world
	graphScope, exchangeScope string
	// ua is samkit's User-Agent, which a careful client names itself
	// with too.
	ua string

	mu sync.Mutex
	// refreshToken is the newest refresh token: every token answer brings
	// a rotated one, which the next request redeems, as samkit does.
	refreshToken string
}

// newBare returns a bare client for w, with no token yet, sending through
// tr.
func newBare(w world, tr http.RoundTripper) *bare {
	return &bare{
		// A careful client bounds every request.
		hc: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		w:  w, refreshToken: w.RefreshToken,
		graphScope: w.Cloud.Graph.Scope(), exchangeScope: w.Cloud.Exchange.Scope(),
		ua: httpx.UserAgent(""),
	}
}

// check checks tenants, c at a time, with c long-lived workers, and
// returns how many failed and the first failure.
func (b *bare) check(ctx context.Context, tenants []string, c int) (int, error) {
	var (
		next   atomic.Int64
		failed atomic.Int64
		first  error
		once   sync.Once
		wg     sync.WaitGroup
	)
	for range min(c, len(tenants)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(tenants) {
					return
				}
				if err := b.tenant(ctx, tenants[i]); err != nil {
					failed.Add(1)
					once.Do(func() { first = err })
				}
			}
		})
	}
	wg.Wait()
	return int(failed.Load()), first
}

// tenant checks one tenant: Graph, then Exchange, each with its token.
func (b *bare) tenant(ctx context.Context, tenant string) error {
	auth, err := b.token(ctx, tenant, b.graphScope)
	if err != nil {
		return err
	}
	if err := b.users(ctx, auth); err != nil {
		return err
	}
	if auth, err = b.token(ctx, tenant, b.exchangeScope); err != nil {
		return err
	}
	return b.organizationConfig(ctx, tenant, auth)
}

// tokenAnswer holds the members of a token answer that samkit reads.
type tokenAnswer struct {
	Error        string      `json:"error"`
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"`
}

// token redeems the newest refresh token for a delegated token for scope
// in tenant and returns its Authorization header.
func (b *bare) token(ctx context.Context, tenant, scope string) (string, error) {
	b.mu.Lock()
	rt := b.refreshToken
	b.mu.Unlock()
	form := url.Values{
		"client_id":     {b.w.AppID},
		"refresh_token": {rt},
		"scope":         {scope + " offline_access"},
		"grant_type":    {"refresh_token"},
		"client_secret": {b.w.Secret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.w.Cloud.LoginEndpoint+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Client-Request-Id", httpx.NewGUID())
	req.Header.Set("Return-Client-Request-Id", "true")
	req.Header.Set("User-Agent", b.ua)
	var a tokenAnswer
	if err := b.do(req, "token for "+scope, &a); err != nil {
		return "", err
	}
	if a.Error != "" || a.AccessToken == "" {
		return "", fmt.Errorf("token for %s in %s: error %q, or no access token", scope, tenant, a.Error)
	}
	if secs, err := a.ExpiresIn.Int64(); err != nil || secs <= 0 {
		return "", fmt.Errorf("token for %s in %s: expires_in %q is not a lifetime", scope, tenant, a.ExpiresIn)
	}
	if a.RefreshToken != "" {
		b.mu.Lock()
		b.refreshToken = a.RefreshToken
		b.mu.Unlock()
	}
	return "Bearer " + a.AccessToken, nil
}

// user has the fields of samkit's graph.User.
type user struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
	UserType          string `json:"userType"`
	AccountEnabled    *bool  `json:"accountEnabled"`
}

// users reads the first page of one user, as the Graph check does.
func (b *bare) users(ctx context.Context, auth string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.w.Cloud.Graph.Endpoint+"/v1.0/users?$select=id&$top=1", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Client-Request-Id", httpx.NewGUID())
	req.Header.Set("Authorization", auth)
	var page struct {
		Value    []user `json:"value"`
		NextLink string `json:"@odata.nextLink"`
	}
	return b.do(req, "GET /users", &page)
}

// invokeCommand is the admin API's request body.
type invokeCommand struct {
	CmdletInput struct {
		CmdletName string         `json:"CmdletName"`
		Parameters map[string]any `json:"Parameters"`
	} `json:"CmdletInput"`
}

// organizationConfig runs Get-OrganizationConfig through the admin API's
// InvokeCommand, as the Exchange check does.
func (b *bare) organizationConfig(ctx context.Context, tenant, auth string) error {
	const cmdlet = "Get-OrganizationConfig"
	var in invokeCommand
	in.CmdletInput.CmdletName, in.CmdletInput.Parameters = cmdlet, map[string]any{}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	u := b.w.Cloud.Exchange.Endpoint + "/adminapi/beta/" + url.PathEscape(tenant) + "/InvokeCommand"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-AnchorMailbox", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+tenant)
	req.Header.Set("Prefer", "odata.maxpagesize=1000")
	req.Header.Set("X-CmdletName", cmdlet)
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Client-Request-Id", httpx.NewGUID())
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
		Warnings []string          `json:"@adminapi.warnings"`
	}
	return b.do(req, cmdlet, &page)
}

// do sends req, reads the whole answer and decodes it into out when its
// status is 200. A refusal is an error naming what and the status, not
// the body, which may quote the request.
func (b *bare) do(req *http.Request, what string, out any) error {
	resp, err := b.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", what, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", what, err)
	}
	return nil
}
