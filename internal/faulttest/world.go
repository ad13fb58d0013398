package faulttest

import (
	"context"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// SecretWorld is a fake cloud for the secret tests: a SAM app with a
// secret and a certificate, consented in many GDAP customers, its refresh
// tokens, and a Provider that logs at debug level over a Wire that keeps
// every credential it carries.
type SecretWorld struct {
	Server    *testserver.Server
	Wire      *Wire
	Logs      *Logs
	Errors    *Errors
	App       testserver.AppInfo
	Partner   string
	Customers []string
	// Creds hold the client secret, the certificate and both refresh
	// tokens; Provider uses them (the secret, where both are given).
	Creds    token.Credentials
	Provider *token.Provider
}

// NewSecretWorld builds a world with n consented customers.
func NewSecretWorld(t *testing.T, n int) *SecretWorld {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	app, err := srv.RegisterApp(testserver.AppSpec{Certificate: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &SecretWorld{Server: srv, Wire: NewWire(srv), Logs: &Logs{}, Errors: &Errors{}, App: app, Partner: srv.Partner().TenantID}
	w.Wire.Watch = true
	for range n {
		id := srv.AddCustomer(testserver.CustomerSpec{GDAP: true, Contract: true, PartnerCenter: true, Users: 2})
		if err := srv.GrantConsent(app.AppID, id); err != nil {
			t.Fatal(err)
		}
		w.Customers = append(w.Customers, id)
	}
	rt, err := srv.MintRefreshToken(app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	exRT, err := srv.MintRefreshToken(testserver.ExchangePowerShellID, testserver.MintPublic(),
		testserver.MintScope(testserver.ExchangeResource+"/.default offline_access"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := token.ParseCertificate(app.CertificatePEM(), "")
	if err != nil {
		t.Fatal(err)
	}
	w.Creds = token.Credentials{TenantID: w.Partner, ApplicationID: app.AppID, ClientSecret: token.NewSecret(app.Secret),
		Certificate: cert, RefreshToken: token.NewSecret(rt), ExchangeRefreshToken: token.NewSecret(exRT)}
	for _, s := range []string{app.Secret, rt, exRT} {
		w.Wire.Keep(s)
	}
	// The private key, line by line as it is stored.
	for rest := app.CertificatePEM(); ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			for _, line := range strings.Split(string(pem.EncodeToMemory(b)), "\n") {
				if !strings.HasPrefix(line, "-----") {
					w.Wire.Keep(line)
				}
			}
		}
	}
	w.Provider = w.NewProvider(t, w.Creds)
	return w
}

// NewProvider returns a Provider of c on the world's wire and logs.
func (w *SecretWorld) NewProvider(t *testing.T, c token.Credentials, opts ...token.Option) *token.Provider {
	t.Helper()
	p, err := token.NewProvider(c, append([]token.Option{token.WithCloud(w.Server.Cloud()), token.WithHTTPClient(w.Wire.Client()),
		token.WithClock(w.Server.Clock().Now), token.WithRetryPolicy(Policy), token.WithLogger(w.Logs.Logger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Check fails t if a credential the wire carried appears in the logs or in
// an error, or if the test produced too few of either to mean anything.
func (w *SecretWorld) Check(t *testing.T, minErrors int) {
	t.Helper()
	if n := w.Errors.Len(); n < minErrors {
		t.Errorf("%d errors collected, want at least %d: the failures did not happen", n, minErrors)
	}
	logs := w.Logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Error("nothing was logged at debug level")
	}
	AssertNoSecrets(t, map[string]string{"the logs": logs, "the errors": w.Errors.String()}, w.Wire.Secrets())
}

// UnderFaults calls call once under each case of the sweep on service's
// requests, with HangDeadline as its deadline, all in one bubble (see
// Bubble), so that no case is cut short by the machine's load: each fault
// is answered, and a hang ends at its deadline of fake time.
func (w *SecretWorld) UnderFaults(t *testing.T, service string, call func(t *testing.T, ctx context.Context)) {
	t.Helper()
	Bubble(t, w.Server, func(t *testing.T) {
		for _, c := range Cases() {
			f := c.Fault
			f.Service = service
			w.Server.Inject(f)
			ctx, cancel := context.WithTimeout(t.Context(), HangDeadline)
			call(t, ctx)
			cancel()
			w.Server.ClearFaults()
		}
	})
}
