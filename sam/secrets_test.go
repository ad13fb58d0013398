package sam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// secretTap is an http.RoundTripper that keeps every credential crossing
// the wire, in either direction: what the test then looks for in logs and
// errors, so the test knows the real values rather than guessing them.
type secretTap struct {
	next http.RoundTripper

	mu     sync.Mutex
	byKind map[string]map[string]bool
}

var tappedFormFields = []string{"client_secret", "client_assertion", "refresh_token", "code", "code_verifier", "device_code"}
var tappedJSONFields = []string{"access_token", "refresh_token", "id_token", "secretText", "device_code"}

func (t *secretTap) keep(kind, v string) {
	if len(v) < 8 { // too short to tell from ordinary text
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byKind == nil {
		t.byKind = map[string]map[string]bool{}
	}
	if t.byKind[kind] == nil {
		t.byKind[kind] = map[string]bool{}
	}
	t.byKind[kind][v] = true
}

func (t *secretTap) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		t.keep("bearer", tok)
	}
	if r.Body != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		if form, err := url.ParseQuery(string(b)); err == nil {
			for _, f := range tappedFormFields {
				t.keep(f, form.Get(f))
			}
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return resp, nil
	}
	var fields map[string]any
	if json.Unmarshal(b, &fields) == nil {
		for _, f := range tappedJSONFields {
			if s, ok := fields[f].(string); ok {
				t.keep(f, s)
			}
		}
	}
	return resp, nil
}

// lockedBuffer is a log sink many goroutines write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestNoSecretInLogsOrErrors runs the whole model — setup, consent pushed to
// customers, tokens for every tenant, the tenant list, the access check,
// secret rotation, and failures on purpose — with every part logging at
// debug level into one buffer, and checks that no credential that crossed
// the wire (client secrets, refresh and access tokens, ID tokens,
// authorization codes, PKCE verifiers, device codes) appears in the logs or
// in any error's text.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	e := newSetupEnv(t)
	ctx := t.Context()
	var customers []string
	for i := range 6 {
		customers = append(customers, e.s.AddCustomer(testserver.CustomerSpec{Name: fmt.Sprintf("Leak %d", i), GDAP: true, Contract: true, PartnerCenter: true}))
	}
	customers = append(customers,
		e.s.AddCustomer(testserver.CustomerSpec{Name: "Blocked", GDAP: true, PartnerCenter: true, ConsentBlocked: true}),
		e.s.AddCustomer(testserver.CustomerSpec{Name: "Outside", GDAP: true, PartnerCenter: true, AdminOutsideGDAPGroups: true}),
		e.s.AddCustomer(testserver.CustomerSpec{Name: "Strict", GDAP: true, PartnerCenter: true, DemandMFA: true}))

	tap := &secretTap{next: e.s.Client().Transport}
	client := &http.Client{Transport: tap}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	opts := e.options()
	opts.httpClient, opts.logger = client, log
	res, err := Setup(ctx, opts)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	creds := res.Credentials
	sp, err := Open(ctx, e.store, WithCloud(e.s.Cloud()), WithHTTPClient(client), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	p := sp.Provider()

	results, err := sp.PushConsent(ctx, customers, PushOptions{})
	keep(err)
	for _, r := range results {
		keep(r.Err)
	}
	for _, c := range customers {
		for _, scope := range []string{e.s.Cloud().Graph.Scope(), e.s.Cloud().Exchange.Scope()} {
			_, err := p.Token(ctx, c, scope)
			keep(err)
			_, err = p.AppToken(ctx, c, scope)
			keep(err)
		}
	}

	tenants, err := sp.Tenants(ctx, ListOptions{})
	keep(err)
	report, err := sp.Check(ctx, tenants, CheckOptions{Checks: Checks{DelegatedGraph: true, DelegatedExchange: true, AppGraph: true, PartnerCenter: true}})
	keep(err)
	if report.OK() {
		t.Fatal("the access check passed everywhere; the test wants failures to inspect")
	}
	var reportText strings.Builder
	for _, tr := range report.Tenants {
		for _, c := range tr.Checks {
			fmt.Fprintf(&reportText, "%+v %s %s\n", c, c.Message, c.Hint)
		}
	}
	if js, err := json.Marshal(report); err == nil {
		reportText.Write(js)
	}

	_, err = sp.RotateSecret(ctx, RotateOptions{AdminSignIn: opts.AdminSignIn, BootstrapClientID: opts.BootstrapClientID})
	keep(err)

	// Failures on purpose: a wrong secret, a refresh token never issued.
	bad := creds
	bad.ClientSecret = token.NewSecret(creds.ClientSecret.Reveal() + "x")
	bad.RefreshToken = token.NewSecret("1.AQ-never-issued-" + strings.Repeat("z", 40))
	if bp, err := token.NewProvider(bad, token.WithCloud(e.s.Cloud()), token.WithHTTPClient(client), token.WithLogger(log)); err == nil {
		_, err := bp.AppToken(ctx, creds.TenantID, e.s.Cloud().Graph.Scope())
		keep(err)
		_, err = bp.Token(ctx, creds.TenantID, e.s.Cloud().Graph.Scope())
		keep(err)
	}
	if len(errs) < 4 {
		t.Fatalf("collected %d errors; the failures on purpose should give more", len(errs))
	}

	haystack := logs.String() + reportText.String()
	for _, err := range errs {
		haystack += err.Error() + fmt.Sprintf("%+v %#v", err, err)
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	for _, kind := range []string{"client_secret", "refresh_token", "code", "code_verifier", "access_token", "bearer", "secretText"} {
		if len(tap.byKind[kind]) == 0 {
			t.Errorf("no %s crossed the wire: the run did not exercise it", kind)
		}
	}
	leaks := 0
	for kind, values := range tap.byKind {
		for v := range values {
			if strings.Contains(haystack, v) {
				leaks++
				t.Errorf("a %s appears in the logs or an error (fingerprint %s)", kind, testserver.Fingerprint(v))
			}
		}
	}
	if leaks == 0 && !strings.Contains(logs.String(), "token request") {
		t.Error("the debug log holds no token request: the logger was not used")
	}
}
