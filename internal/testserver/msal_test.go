package testserver_test

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/samkit/samkit/internal/testserver"
)

// Microsoft's own client library must take the fake for the real thing:
// discovery, the device code flow, the authorization code flow (PKCE, and
// the interactive form_post variant), refresh, and client credentials with
// a secret or a certificate.

// payload decodes a JWT's claims without checking the signature.
func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("undecodable JWT payload: %v", err)
	}
	return c
}

func scp(c map[string]any) []string {
	s, _ := c["scp"].(string)
	return strings.Fields(s)
}

func roles(c map[string]any) []string {
	var out []string
	l, _ := c["roles"].([]any)
	for _, r := range l {
		out = append(out, r.(string))
	}
	return out
}

func newPublic(t *testing.T, s *testserver.Server, tenant string) public.Client {
	t.Helper()
	c, err := public.New(s.BootstrapClientID, public.WithAuthority(s.URL()+"/"+tenant),
		public.WithInstanceDiscovery(false), public.WithHTTPClient(s.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMSALDeviceCode(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	defer s.Close()
	p := s.Partner()
	app := newPublic(t, s, p.TenantID)
	dc, err := app.AcquireTokenByDeviceCode(t.Context(), []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dc.Result.Message, dc.Result.UserCode) || dc.Result.VerificationURL != s.URL()+"/devicelogin" {
		t.Errorf("device code result %+v: want the user code in the message and the fake's page", dc.Result)
	}
	res, err := dc.AuthenticationResult(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := payload(t, res.AccessToken)
	if c["tid"] != p.TenantID || c["aud"] != testserver.GraphResource || !slices.Contains(scp(c), "Application.ReadWrite.All") {
		t.Errorf("access token claims %v: want the bootstrap client's Graph scopes in the partner tenant", c)
	}
	if res.Account.HomeAccountID != p.AdminID+"."+p.TenantID || res.Account.PreferredUsername != p.AdminUPN ||
		res.IDToken.TenantID != p.TenantID {
		t.Errorf("account %+v, id token tid %s: want the partner admin", res.Account, res.IDToken.TenantID)
	}

	// A scope the cached token does not list sends MSAL to the refresh token.
	silent, err := app.AcquireTokenSilent(t.Context(), []string{"User.Read"}, public.WithSilentAccount(res.Account))
	if err != nil {
		t.Fatal(err)
	}
	if silent.AccessToken == res.AccessToken || !slices.Contains(scp(payload(t, silent.AccessToken)), "User.Read") {
		t.Error("silent: want a new token with User.Read from the refresh token")
	}
}

func TestMSALAuthCodeWithPKCE(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	defer s.Close()
	p := s.Partner()
	verifierBytes := make([]byte, 32)
	_, _ = rand.Read(verifierBytes)
	verifier := base64.RawURLEncoding.EncodeToString(verifierBytes)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:41234"
	v := url.Values{"client_id": {s.BootstrapClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"User.Read openid offline_access profile"}, "state": {"abc"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	hc := s.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(s.URL() + "/" + p.TenantID + "/oauth2/v2.0/authorize?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: got %d %s, want a code", resp.StatusCode, resp.Header.Get("Location"))
	}

	app := newPublic(t, s, p.TenantID)
	res, err := app.AcquireTokenByAuthCode(t.Context(), loc.Query().Get("code"), redirect, []string{"User.Read"},
		public.WithChallenge(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if c := payload(t, res.AccessToken); c["tid"] != p.TenantID || !slices.Contains(scp(c), "User.Read") {
		t.Errorf("claims %v: want User.Read in the partner tenant", c)
	}
	if res.Account.HomeAccountID != p.AdminID+"."+p.TenantID {
		t.Errorf("account %+v: want the partner admin", res.Account)
	}
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

func TestMSALInteractive(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	defer s.Close()
	p := s.Partner()
	app := newPublic(t, s, p.TenantID)

	// The "browser": load the sign-in page, which the simulated admin
	// completes, and submit the form_post page to the app's loopback
	// listener, as the page's script would.
	browser := func(authURL string) error {
		resp, err := s.Client().Get(authURL)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		action := formAction.FindStringSubmatch(string(b))
		if action == nil {
			t.Errorf("sign-in page: got %d %s, want a form_post page", resp.StatusCode, b)
			return nil
		}
		form := url.Values{}
		for _, m := range formInput.FindAllStringSubmatch(string(b), -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		post, err := http.PostForm(html.UnescapeString(action[1]), form)
		if err != nil {
			return err
		}
		return post.Body.Close()
	}
	res, err := app.AcquireTokenInteractive(t.Context(), []string{"User.Read"}, public.WithOpenURL(browser))
	if err != nil {
		t.Fatal(err)
	}
	if c := payload(t, res.AccessToken); c["tid"] != p.TenantID || c["oid"] != p.AdminID || !slices.Contains(scp(c), "User.Read") {
		t.Errorf("claims %v: want the admin's User.Read token", c)
	}
}

func TestMSALClientCredentials(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close) // the subtests run after this function returns
	sam, err := s.RegisterApp(testserver.AppSpec{Certificate: true})
	if err != nil {
		t.Fatal(err)
	}
	cust := s.AddCustomer(testserver.CustomerSpec{Name: "Contoso Customer", GDAP: true})
	if err := s.GrantConsent(sam.AppID, cust); err != nil {
		t.Fatal(err)
	}
	secret, err := confidential.NewCredFromSecret(sam.Secret)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := confidential.NewCredFromCert([]*x509.Certificate{sam.Certificate}, sam.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tenant string
		cred         confidential.Credential
		scope        string
		wantRole     string
	}{
		{"secret", cust, secret, "https://graph.microsoft.com/.default", "Directory.Read.All"},
		{"certificate", cust, cert, "https://outlook.office365.com/.default", "Exchange.ManageAsApp"},
		{"secret, tenant by domain", "contosocustomer.onmicrosoft.com", secret, "https://graph.microsoft.com/.default", "Directory.Read.All"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := confidential.New(s.URL()+"/"+tc.tenant, sam.AppID, tc.cred,
				confidential.WithInstanceDiscovery(false), confidential.WithHTTPClient(s.Client()))
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.AcquireTokenByCredential(t.Context(), []string{tc.scope})
			if err != nil {
				t.Fatal(err)
			}
			claims := payload(t, res.AccessToken)
			if claims["tid"] != cust || claims["idtyp"] != "app" || !slices.Contains(roles(claims), tc.wantRole) {
				t.Errorf("claims %v: want an app token in %s with %s", claims, cust, tc.wantRole)
			}
		})
	}
}
