package sam

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pkg/browser"
	"golang.org/x/oauth2"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// ConsentSignIn runs the browser half of the consent sign-in through the
// SAM app: it chooses a redirect URI, has the admin open the authorize URL
// built for it, and returns the code the identity platform sent back.
type ConsentSignIn interface {
	Consent(ctx context.Context, req ConsentRequest) (ConsentResponse, error)
}

// ConsentRequest is what a ConsentSignIn is given.
type ConsentRequest struct {
	// AuthorizeURL returns the sign-in address for a redirect URI.
	AuthorizeURL func(redirectURI string) string
	// State is the value the redirect must carry back.
	State string
	// Notify shows a person what to do next.
	Notify func(message string)
}

// ConsentResponse is the authorization code and the redirect URI it was
// sent to; the code is redeemed with that same redirect URI.
type ConsentResponse struct {
	Code        string
	RedirectURI string
}

// LoopbackConsent opens the sign-in in a browser on this machine and
// receives the answer on a listener bound to 127.0.0.1 on a port the
// system picks. The listener serves one request and stops; the context
// bounds the wait (SetupOptions.ConsentTimeout).
type LoopbackConsent struct {
	// OpenBrowser opens a URL; nil opens the system browser. If it fails,
	// the URL is shown for the admin to open by hand.
	OpenBrowser func(url string) error
}

// Consent implements ConsentSignIn.
func (c LoopbackConsent) Consent(ctx context.Context, req ConsentRequest) (ConsentResponse, error) {
	l, err := listenLoopback(req.State)
	if err != nil {
		return ConsentResponse{}, err
	}
	defer l.close()
	u := req.AuthorizeURL(l.redirectURI())
	notify := req.Notify
	if notify == nil {
		notify = func(string) {}
	}
	notify("Sign in through the SAM app in the browser as the same admin, with MFA, and accept. If no browser opens, open: " + u)
	open := c.OpenBrowser
	if open == nil {
		open = browser.OpenURL
	}
	if err := open(u); err != nil {
		notify(fmt.Sprintf("Could not open a browser (%v): open this address yourself: %s", err, u))
	}
	code, err := l.wait(ctx)
	if err != nil {
		return ConsentResponse{}, err
	}
	return ConsentResponse{Code: code, RedirectURI: l.redirectURI()}, nil
}

// HeadlessConsent is the consent sign-in for a machine without a browser:
// it prints the sign-in address, the admin opens it on any device, and
// pastes back the address the browser was sent to at the end (a
// http://localhost/… page that fails to load, which is expected).
type HeadlessConsent struct {
	// Out receives the instructions; nil sends them to the progress
	// callback.
	Out io.Writer
	// In is where the pasted address is read from, one line.
	In io.Reader
}

// headlessRedirectURI is registered on the app (see loopbackRedirectURIs).
const headlessRedirectURI = "http://localhost"

// Consent implements ConsentSignIn. If ctx ends while it waits for a line,
// the read from In is abandoned, not interrupted.
func (c HeadlessConsent) Consent(ctx context.Context, req ConsentRequest) (ConsentResponse, error) {
	if c.In == nil {
		return ConsentResponse{}, errors.New("sam: HeadlessConsent needs In to read the pasted address from")
	}
	u := req.AuthorizeURL(headlessRedirectURI)
	msg := "Open this address in a browser on any device and sign in as the partner admin, with MFA:\n\n  " + u +
		"\n\nThe browser then goes to http://localhost/… and shows an error page: that is expected. " +
		"Copy the whole address from its address bar and paste it here:\n"
	switch {
	case c.Out != nil:
		if _, err := io.WriteString(c.Out, msg); err != nil {
			return ConsentResponse{}, fmt.Errorf("sam: writing the sign-in instructions: %w", err)
		}
	case req.Notify != nil:
		req.Notify(msg)
	}
	lines := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		line, err := bufio.NewReaderSize(c.In, maxPastedURL+1).ReadString('\n')
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			errc <- err
			return
		}
		lines <- line
	}()
	select {
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ConsentResponse{}, fmt.Errorf("%w: no address was pasted before the deadline", ErrSignInTimeout)
		}
		return ConsentResponse{}, ctx.Err()
	case err := <-errc:
		return ConsentResponse{}, fmt.Errorf("sam: reading the pasted address: %w", err)
	case line := <-lines:
		code, err := ParseRedirect(line, req.State)
		if err != nil {
			return ConsentResponse{}, err
		}
		return ConsentResponse{Code: code, RedirectURI: headlessRedirectURI}, nil
	}
}

// consentScope asks for a refresh token (offline_access) usable for any
// resource: the refresh token is not bound to the resource named here,
// and .default takes the permissions admin consent granted.
func (r *setupRun) consentScope() string {
	return r.opts.cloud.Graph.Scope() + " offline_access openid profile"
}

// consent is step 4: the admin signs in through the SAM app and the code
// is redeemed, with the app's secret and the PKCE verifier, for the SAM
// refresh token.
func (r *setupRun) consent(ctx context.Context) error {
	state := rand.Text()
	verifier := oauth2.GenerateVerifier()
	scope := r.consentScope()
	base := r.opts.cloud.LoginEndpoint + "/" + r.partner + "/oauth2/v2.0/"
	authorize := func(redirectURI string) string {
		q := url.Values{
			"client_id":     {r.app.AppID},
			"response_type": {"code"},
			// The code comes back in the query, which the loopback
			// listener reads from a GET and a person can copy from the
			// address bar; form_post would allow neither.
			"response_mode":         {"query"},
			"redirect_uri":          {redirectURI},
			"scope":                 {scope},
			"state":                 {state},
			"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
			"code_challenge_method": {"S256"},
			// Admin consent was granted in the previous step, so the admin
			// only has to pick the account that holds it.
			"prompt": {"select_account"},
		}
		if r.adminUPN != "" {
			q.Set("login_hint", r.adminUPN)
		}
		return base + "authorize?" + q.Encode()
	}
	cctx, cancel := context.WithTimeout(ctx, r.opts.ConsentTimeout)
	defer cancel()
	resp, err := r.opts.Consent.Consent(cctx, ConsentRequest{AuthorizeURL: authorize, State: state, Notify: r.notify(StepConsent)})
	if err != nil {
		return err
	}
	form := url.Values{
		"client_id":     {r.app.AppID},
		"grant_type":    {"authorization_code"},
		"code":          {resp.Code},
		"redirect_uri":  {resp.RedirectURI},
		"code_verifier": {verifier},
		"scope":         {scope},
	}
	auth, err := token.ClientAuthentication(r.credentials(), base+"token", time.Now())
	if err != nil {
		return fmt.Errorf("sam: redeeming the consent sign-in's code: %w", err)
	}
	for k, v := range auth {
		form[k] = v
	}
	// A code is single use: a replay would fail with AADSTS54005 and hide
	// the first answer, so the redemption is sent once.
	rep, err := postForm(ctx, r.hc, r.ua, base+"token", form, httpx.RetryNever, r.partner, scope)
	if err != nil {
		return fmt.Errorf("sam: redeeming the consent sign-in's code: %w", err)
	}
	if rep.RefreshToken == "" {
		return errors.New("sam: the consent sign-in returned no refresh token: offline_access was not granted to the app")
	}
	c, err := token.Token{AccessToken: token.NewSecret(rep.AccessToken)}.Claims()
	if err != nil {
		return fmt.Errorf("sam: reading the consent sign-in's token: %w", err)
	}
	if !c.MFA() {
		return fmt.Errorf("%w: the consent sign-in's token carries no MFA claim, and Partner Center refuses such tokens", ErrNoMFA)
	}
	if r.adminUPN != "" && !strings.EqualFold(c.UPN, r.adminUPN) {
		r.warn(fmt.Sprintf("The consent sign-in was made as %s, not as %s who ran the setup: customer access follows %s's GDAP groups.", c.UPN, r.adminUPN, c.UPN))
	}
	r.refreshToken = token.NewSecret(rep.RefreshToken)
	r.info(StepConsent, "received the SAM refresh token for %s", c.UPN)
	return nil
}

// legacyExchange is step 5: a refresh token of the Exchange Online
// PowerShell public client, for scripts that still expect one.
func (r *setupRun) legacyExchange(ctx context.Context) error {
	scope := r.opts.cloud.Exchange.Scope() + " offline_access"
	cctx, cancel := context.WithTimeout(ctx, r.opts.ConsentTimeout)
	defer cancel()
	rep, err := deviceCodeToken(cctx, r.hc, r.ua, r.opts.cloud.LoginEndpoint, r.partner, token.ExchangePowerShellClientID, scope, r.notify(StepExchange))
	if err != nil {
		return fmt.Errorf("sam: the Exchange Online PowerShell sign-in: %w", err)
	}
	if rep.RefreshToken == "" {
		return errors.New("sam: the Exchange Online PowerShell sign-in returned no refresh token")
	}
	r.exchangeRT = token.NewSecret(rep.RefreshToken)
	return nil
}

// verify is step 6: the new refresh token works for Graph and Partner
// Center in the partner tenant, and the tokens carry MFA. The rotated
// refresh tokens of these redemptions are the ones saved.
func (r *setupRun) verify(ctx context.Context) error {
	p, err := token.NewProvider(r.credentials(), token.WithCloud(r.opts.cloud), token.WithHTTPClient(r.hc), token.WithLogger(r.opts.logger),
		token.WithUserAgent(r.opts.product))
	if err != nil {
		return err
	}
	if _, err := p.Token(ctx, r.partner, r.opts.cloud.Graph.Scope()); err != nil {
		return fmt.Errorf("sam: redeeming the refresh token for Microsoft Graph: %w", err)
	}
	pc, err := p.Token(ctx, r.partner, r.opts.cloud.PartnerCenter.Scope())
	if err != nil {
		return fmt.Errorf("sam: redeeming the refresh token for Partner Center: %w", err)
	}
	if c, err := pc.Claims(); err == nil && !c.MFA() {
		return fmt.Errorf("%w: the Partner Center token carries no MFA claim", ErrNoMFA)
	}
	if !r.exchangeRT.IsZero() {
		if _, err := p.LegacyExchangeToken(ctx, r.partner); err != nil {
			return fmt.Errorf("sam: redeeming the legacy Exchange refresh token: %w", err)
		}
		r.exchangeRT = p.RefreshToken(token.RefreshExchange)
	}
	r.refreshToken = p.RefreshToken(token.RefreshSAM)
	r.info(StepVerify, "the refresh token works for Microsoft Graph and Partner Center")
	return nil
}

// save is step 7.
func (r *setupRun) save(ctx context.Context) error {
	if err := r.opts.Store.Save(ctx, r.credentials()); err != nil {
		return fmt.Errorf("sam: saving the credentials: %w", err)
	}
	return nil
}
