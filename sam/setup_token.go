package sam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// Two token requests of Setup are outside what token.Provider does, which
// redeems stored refresh tokens: redeeming the consent sign-in's
// authorization code, and the device code flow of the legacy Exchange
// token (MSAL keeps the refresh tokens it obtains to itself, and the
// refresh token is the point of that flow). Both are small form POSTs to
// the identity platform's token endpoint, decoded here.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code

// tokenReply is the identity platform's /token (and /devicecode) answer,
// success and error members together: a 200 may carry an error.
type tokenReply struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"`
	Scope        string      `json:"scope"`

	DeviceCode      string      `json:"device_code"`
	UserCode        string      `json:"user_code"`
	VerificationURI string      `json:"verification_uri"`
	Interval        json.Number `json:"interval"`
	Message         string      `json:"message"`

	// Error is enough to tell an error answer; token.ParseError decodes it.
	Error string `json:"error"`
}

const tokenReplyLimit = 1 << 20

// postForm sends form to endpoint once per retry class, with User-Agent
// ua, and decodes the answer; any error answer is a *token.Error. tenant
// and scope label it.
func postForm(ctx context.Context, hc *http.Client, ua []string, endpoint string, form url.Values, class httpx.RetryClass, tenant, scope string) (tokenReply, error) {
	req, err := http.NewRequestWithContext(httpx.WithRetryClass(ctx, class), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenReply{}, fmt.Errorf("sam: building a token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header["User-Agent"] = ua
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return tokenReply{}, ctx.Err()
		}
		return tokenReply{}, fmt.Errorf("sam: token request to %s: %w", redactEndpoint(endpoint), httpx.RedactError(err))
	}
	defer resp.Body.Close()
	body, readErr := httpx.ReadBody(resp.Body, tokenReplyLimit)
	ct := resp.Header.Get("Content-Type")
	var r tokenReply
	if readErr != nil || json.Unmarshal(body, &r) != nil || r.Error != "" || resp.StatusCode != http.StatusOK {
		return tokenReply{}, token.ParseError(resp.StatusCode, ct, body, tenant, scope, redactEndpoint(endpoint))
	}
	return r, nil
}

func redactEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return httpx.RedactURL(u)
}

// deviceCodeToken runs the device code flow for a public client and returns
// the token response, refresh token included: it asks for the code, shows
// the message through prompt, and polls at the interval the identity
// platform set (5 s more after each slow_down, RFC 8628 §3.5) until the
// person approves, declines or the code expires.
func deviceCodeToken(ctx context.Context, hc *http.Client, ua []string, login, tenant, clientID, scope string, prompt func(string)) (tokenReply, error) {
	base := login + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/"
	form := url.Values{"client_id": {clientID}, "scope": {scope}}
	dc, err := postForm(ctx, hc, ua, base+"devicecode", form, httpx.RetryAlways, tenant, scope)
	if err != nil {
		return tokenReply{}, err
	}
	if dc.DeviceCode == "" {
		return tokenReply{}, &token.Error{StatusCode: http.StatusOK, Description: "the device code response has no device_code", Tenant: tenant, Scope: scope}
	}
	if prompt != nil {
		prompt(dc.Message)
	}
	interval := 5 * time.Second
	if n, err := dc.Interval.Int64(); err == nil && n > 0 {
		interval = time.Duration(n) * time.Second
	}
	lifetime := 15 * time.Minute
	if n, err := dc.ExpiresIn.Int64(); err == nil && n > 0 {
		lifetime = time.Duration(n) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, lifetime)
	defer cancel()
	poll := url.Values{"client_id": {clientID}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc.DeviceCode}}
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return tokenReply{}, fmt.Errorf("%w: the device code expired before it was approved", ErrSignInTimeout)
			}
			return tokenReply{}, ctx.Err()
		case <-timer.C:
		}
		r, err := postForm(ctx, hc, ua, base+"token", poll, httpx.RetryAlways, tenant, scope)
		var te *token.Error
		switch {
		case err == nil:
			return r, nil
		case errors.As(err, &te) && te.Code == "authorization_pending":
		case errors.As(err, &te) && te.Code == "slow_down":
			interval += 5 * time.Second
		case errors.As(err, &te):
			return tokenReply{}, classifySignIn(te)
		default:
			return tokenReply{}, err
		}
		timer.Reset(interval)
	}
}
