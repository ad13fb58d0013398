package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

func (a *app) tokenCommand() *cobra.Command {
	var appOnly, reveal bool
	c := &cobra.Command{
		Use:   "token <tenant> <graph|exchange|partner|resource URL>",
		Short: "Get an access token for a tenant and show its claims",
		Long: `token gets an access token for a resource in a tenant, as the partner's
admin through the SAM app (or, with --app, as the app itself), and prints
what it says: tenant, audience, permissions, user, expiry. The token itself
is not printed: it is a key to the tenant.

With --reveal only the raw token is printed, for scripts:
  curl -H "Authorization: Bearer $(samctl token contoso.onmicrosoft.com graph --reveal)" …`,
		Example: `  samctl token contoso.onmicrosoft.com graph
  samctl token 1c8f0e9a-… exchange
  samctl token 1c8f0e9a-… graph --app
  samctl token 1c8f0e9a-… https://api.partnercenter.microsoft.com --reveal`,
		Args: exactArgs(2, "a tenant and a resource (graph, exchange, partner or a URL)"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := httpx.ValidTenant(args[0]); err != nil {
				return usageError{err: fmt.Errorf("tenant %q: %w", args[0], err), cmd: c.CommandPath()}
			}
			return a.token(c.Context(), args[0], args[1], appOnly, reveal)
		},
	}
	c.Flags().BoolVar(&appOnly, "app", false, "an app-only token (client credentials) instead of a delegated one")
	c.Flags().BoolVar(&reveal, "reveal", false, "print only the raw access token")
	return c
}

// resourceScope turns a resource name or URL into its .default scope.
func resourceScope(c cloud.Configuration, resource string) (string, error) {
	switch strings.ToLower(resource) {
	case "graph":
		return c.Graph.Scope(), nil
	case "exchange":
		return c.Exchange.Scope(), nil
	case "partner", "partnercenter", "partner-center":
		return c.PartnerCenter.Scope(), nil
	}
	u, err := url.Parse(resource)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("resource %q: use graph, exchange, partner or a resource URL such as https://graph.microsoft.com", resource)
	}
	return strings.TrimSuffix(strings.TrimSuffix(resource, "/.default"), "/") + "/.default", nil
}

// tokenJSON is a token's claims in --json output.
type tokenJSON struct {
	Kind      string    `json:"kind"`
	TenantID  string    `json:"tenantId"`
	Audience  string    `json:"audience"`
	AppID     string    `json:"appId"`
	UPN       string    `json:"upn,omitempty"`
	Scopes    []string  `json:"scopes,omitempty"`
	Roles     []string  `json:"roles,omitempty"`
	MFA       bool      `json:"mfa"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (a *app) token(ctx context.Context, tenant, resource string, appOnly, reveal bool) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	scope, err := resourceScope(s.cloud, resource)
	if err != nil {
		return usageError{err: err, cmd: "samctl token"}
	}
	var tok token.Token
	if appOnly {
		tok, err = s.p.AppToken(ctx, tenant, scope)
	} else {
		tok, err = s.p.Token(ctx, tenant, scope)
	}
	if err != nil {
		return err
	}
	if reveal {
		_, err = fmt.Fprintln(a.stdout, tok.AccessToken.Reveal())
		return err
	}
	cl, err := tok.Claims()
	if err != nil {
		return fmt.Errorf("reading the token's claims: %w", err)
	}
	kind := "delegated"
	if appOnly {
		kind = "app-only"
	}
	if a.jsonOut {
		return a.printJSON(tokenJSON{Kind: kind, TenantID: cl.TenantID, Audience: cl.Audience, AppID: cl.AppID, UPN: cl.UPN,
			Scopes: cl.Scopes, Roles: cl.Roles, MFA: cl.MFA(), ExpiresAt: cl.Expiry.UTC()})
	}
	tw := table(a.stdout)
	printf(tw, "token\t%s, [redacted] (--reveal prints it)\n", kind)
	printf(tw, "tenant (tid)\t%s\n", cl.TenantID)
	printf(tw, "audience (aud)\t%s\n", cl.Audience)
	printf(tw, "app (appid)\t%s\n", cl.AppID)
	if cl.UPN != "" {
		printf(tw, "user (upn)\t%s\n", cl.UPN)
	}
	if len(cl.Scopes) > 0 {
		printf(tw, "delegated permissions (scp)\t%s\n", strings.Join(cl.Scopes, " "))
	}
	if len(cl.Roles) > 0 {
		printf(tw, "application permissions (roles)\t%s\n", strings.Join(cl.Roles, " "))
	}
	if !appOnly {
		printf(tw, "MFA (amr)\t%v\n", cl.MFA())
	}
	printf(tw, "expires (exp)\t%s (in %s)\n", cl.Expiry.Local().Format(time.RFC3339), time.Until(cl.Expiry).Round(time.Minute))
	return tw.Flush()
}
