package sam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/pkg/browser"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// GraphCommandLineToolsClientID is the application id of Microsoft Graph
// Command Line Tools, the first-party public client that Microsoft Graph
// PowerShell signs in with (Connect-MgGraph, -UseDeviceCode included) when
// no client id is given: see AuthContext.PowerShellClientId in
// https://github.com/microsoftgraph/msgraph-sdk-powershell
// (src/Authentication/Authentication/Models/AuthContext.cs). It exists in
// every tenant and cloud, supports the device code and interactive flows,
// and lets an admin consent to the Graph permissions it asks for, which
// is what Setup needs before the SAM app exists.
const GraphCommandLineToolsClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// adminScopes are the Microsoft Graph permissions the admin sign-in asks
// for. Directory.AccessAsUser.All lets the bootstrap client act with the
// signed-in Global Administrator's own rights: create the app, its
// service principals, the admin-consent grants and app role assignments,
// and read the admin's roles and groups. Application.ReadWrite.All is
// asked for too because some tenants' app management policies look for it
// by name. The admin consents to both at the first sign-in.
func adminScopes(graphResource string) []string {
	return []string{graphResource + "/Directory.AccessAsUser.All", graphResource + "/Application.ReadWrite.All"}
}

// SignInParams is what an AdminSignIn needs to sign the admin in.
type SignInParams struct {
	// Cloud is the Microsoft cloud to sign in to.
	Cloud cloud.Configuration
	// HTTPClient carries the sign-in's requests; nil means a default one.
	HTTPClient *http.Client
	// ClientID is the public client to sign in through
	// (GraphCommandLineToolsClientID unless the options say otherwise).
	ClientID string
	// Tenant is the tenant to sign in to: the partner tenant's id or
	// domain, or "organizations" for the admin's home tenant.
	Tenant string
	// Scopes are the full scopes to ask for
	// ("https://graph.microsoft.com/Directory.AccessAsUser.All", …).
	Scopes []string
	// Notify shows a person what to do next (a device code message, a URL
	// to open); Setup passes its progress callback.
	Notify func(message string)
}

// AdminSignIn signs an administrator of the partner tenant in to Microsoft
// Graph through a public client, before the SAM app exists. The Source it
// returns issues delegated Graph tokens for that admin, refreshing them as
// needed; it is safe for concurrent use.
type AdminSignIn interface {
	SignIn(ctx context.Context, p SignInParams) (token.Source, error)
}

// DeviceCodeSignIn signs the admin in with the device code flow: the admin
// opens a page on any device, types a code and signs in (with MFA). It
// suits terminals and remote sessions, and is Setup's default.
type DeviceCodeSignIn struct {
	// ClientID and Tenant, when set, override SignInParams'.
	ClientID, Tenant string
	// Prompt shows the device code message ("To sign in, use a web browser
	// to open the page … and enter the code …"); nil passes it to
	// SignInParams.Notify.
	Prompt func(message string)
}

// SignIn implements AdminSignIn with MSAL Go's public client.
func (d DeviceCodeSignIn) SignIn(ctx context.Context, p SignInParams) (token.Source, error) {
	p = overrideParams(p, d.ClientID, d.Tenant)
	client, err := newPublicClient(p)
	if err != nil {
		return nil, err
	}
	dc, err := client.AcquireTokenByDeviceCode(ctx, p.Scopes)
	if err != nil {
		return nil, msalError("starting the device code sign-in", err, p)
	}
	prompt := d.Prompt
	if prompt == nil {
		prompt = p.Notify
	}
	if prompt != nil {
		prompt(dc.Result.Message)
	}
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		return nil, msalError("waiting for the device code sign-in", err, p)
	}
	return newMSALSource(client, res, p), nil
}

// BrowserSignIn signs the admin in through the system browser: MSAL opens
// the sign-in page and receives the answer on a loopback listener
// (http://localhost with a random port, which the bootstrap client
// registers).
type BrowserSignIn struct {
	// ClientID and Tenant, when set, override SignInParams'.
	ClientID, Tenant string
	// OpenBrowser opens a URL; nil opens the system browser.
	OpenBrowser func(url string) error
	// LoginHint pre-fills the account to sign in with.
	LoginHint string
}

// SignIn implements AdminSignIn with MSAL Go's public client.
func (b BrowserSignIn) SignIn(ctx context.Context, p SignInParams) (token.Source, error) {
	p = overrideParams(p, b.ClientID, b.Tenant)
	client, err := newPublicClient(p)
	if err != nil {
		return nil, err
	}
	open := b.OpenBrowser
	if open == nil {
		open = browser.OpenURL
	}
	opts := []public.AcquireInteractiveOption{public.WithRedirectURI("http://localhost"), public.WithOpenURL(func(u string) error {
		if p.Notify != nil {
			p.Notify("Sign in as a Global Administrator of the partner tenant, with MFA, in the browser window that opens. If none opens, open: " + u)
		}
		return open(u)
	})}
	if b.LoginHint != "" {
		opts = append(opts, public.WithLoginHint(b.LoginHint))
	}
	res, err := client.AcquireTokenInteractive(ctx, p.Scopes, opts...)
	if err != nil {
		return nil, msalError("signing in through the browser", err, p)
	}
	return newMSALSource(client, res, p), nil
}

func overrideParams(p SignInParams, clientID, tenant string) SignInParams {
	if clientID != "" {
		p.ClientID = clientID
	}
	if tenant != "" {
		p.Tenant = tenant
	}
	return p
}

// knownLoginHosts are the identity platform hosts of Microsoft's clouds,
// whose instance discovery MSAL knows how to do.
var knownLoginHosts = []string{cloud.Public.LoginEndpoint, cloud.USGovernment.LoginEndpoint, cloud.China.LoginEndpoint}

func newPublicClient(p SignInParams) (public.Client, error) {
	if p.ClientID == "" || p.Tenant == "" {
		return public.Client{}, errors.New("sam: the admin sign-in needs a client id and a tenant")
	}
	if err := httpx.ValidTenant(p.Tenant); err != nil {
		return public.Client{}, fmt.Errorf("sam: admin sign-in tenant: %w", err)
	}
	// MSAL's requests carry device codes and the admin's refresh token: like
	// every request samkit sends with a credential, they follow no
	// redirect, whatever the caller's client (copied, not changed) says.
	hc := &http.Client{}
	if p.HTTPClient != nil {
		c := *p.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = httpx.RefuseRedirect
	opts := []public.Option{public.WithAuthority(p.Cloud.LoginEndpoint + "/" + p.Tenant), public.WithHTTPClient(hc)}
	known := false
	for _, h := range knownLoginHosts {
		known = known || strings.EqualFold(h, p.Cloud.LoginEndpoint)
	}
	if !known {
		// MSAL sends instance discovery for a host it does not know to
		// login.microsoftonline.com, which knows nothing of a private
		// endpoint (a sandbox, a proxy); the tenant's own OpenID
		// configuration is then the only source of truth.
		opts = append(opts, public.WithInstanceDiscovery(false))
	}
	c, err := public.New(p.ClientID, opts...)
	if err != nil {
		return public.Client{}, fmt.Errorf("sam: configuring the admin sign-in: %w", err)
	}
	return c, nil
}

// msalSource serves the admin's Graph tokens, asking MSAL for a fresh one
// (silently, with the refresh token MSAL keeps) when the last is about to
// expire: a consent sign-in can keep Setup waiting for minutes.
type msalSource struct {
	client  public.Client
	account public.Account
	p       SignInParams

	mu  sync.Mutex
	tok token.Token
}

func newMSALSource(c public.Client, res public.AuthResult, p SignInParams) *msalSource {
	s := &msalSource{client: c, account: res.Account, p: p}
	s.tok = s.fromResult(res)
	return s
}

func (s *msalSource) fromResult(res public.AuthResult) token.Token {
	return token.Token{AccessToken: token.NewSecret(res.AccessToken), Expiry: res.ExpiresOn, TenantID: strings.ToLower(s.p.Tenant),
		Scope: strings.Join(s.p.Scopes, " "), Kind: token.Delegated}
}

// Token implements token.Source.
func (s *msalSource) Token(ctx context.Context) (token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Until(s.tok.Expiry) > token.DefaultExpiryWindow {
		return s.tok, nil
	}
	res, err := s.client.AcquireTokenSilent(ctx, s.p.Scopes, public.WithSilentAccount(s.account))
	if err != nil {
		return token.Token{}, msalError("refreshing the admin's Graph token", err, s.p)
	}
	s.tok = s.fromResult(res)
	return s.tok, nil
}

// Invalidate implements token.Invalidator: the next Token asks MSAL again.
func (s *msalSource) Invalidate(t token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.AccessToken.Equal(t.AccessToken) {
		s.tok.Expiry = time.Time{}
	}
}

// msalError turns an MSAL failure into samkit's: the identity platform's
// error body becomes a *token.Error, so that errors.Is finds the usual
// sentinels and Hint says what to do. MSAL's own text holds the request
// URL and the whole body, so it is never passed on as is.
func msalError(doing string, err error, p SignInParams) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sam: %s: %w", doing, err)
	}
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		var body []byte
		if ce.Resp.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(ce.Resp.Body, 1<<20))
		}
		if len(body) == 0 && ce.Err != nil {
			// MSAL reads the body of a device code poll to tell pending
			// from failed, leaving none here; its error text ends with
			// the body, after the first line.
			if _, rest, ok := strings.Cut(ce.Err.Error(), "\n"); ok {
				body = []byte(strings.TrimSpace(rest))
			}
		}
		endpoint := ""
		if ce.Req != nil && ce.Req.URL != nil {
			endpoint = httpx.RedactURL(ce.Req.URL)
		}
		te := token.ParseError(ce.Resp.StatusCode, ce.Resp.Header.Get("Content-Type"), body, p.Tenant, strings.Join(p.Scopes, " "), endpoint)
		return fmt.Errorf("sam: %s: %w", doing, classifySignIn(te))
	}
	return fmt.Errorf("sam: %s: %s", doing, httpx.RedactText(err.Error()))
}

// classifySignIn makes the identity platform's answers to a person's
// decision match this package's sentinels: declining a sign-in, or letting
// its code expire.
func classifySignIn(e *token.Error) error {
	switch e.Code {
	case "authorization_declined", "access_denied":
		return fmt.Errorf("%w: %w", ErrSignInDeclined, e)
	case "expired_token":
		return fmt.Errorf("%w: %w", ErrSignInTimeout, e)
	}
	return e
}
