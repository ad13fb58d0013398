package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

type mailbox struct {
	UserPrincipalName    string
	RecipientTypeDetails string
}

func TestInvokeIntoFollowsNextLinks(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{Users: 4})
	f.srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })

	var upns []string
	for m, err := range exchange.InvokeInto[mailbox](t.Context(), f.exo, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.RecipientTypeDetails != "UserMailbox" {
			t.Errorf("mailbox %+v is not decoded", m)
		}
		upns = append(upns, m.UserPrincipalName)
	}
	if len(upns) != 5 || !slices.IsSorted(upns) {
		t.Errorf("mailboxes %v, want 5 in order", upns)
	}

	reqs := f.cap.Requests()
	if len(reqs) != 3 {
		t.Fatalf("sent %d requests, want 3 pages", len(reqs))
	}
	wantBody := `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}`
	for i, r := range reqs {
		b, _ := io.ReadAll(r.Body)
		if string(b) != wantBody {
			t.Errorf("request %d body %s, want %s", i, b, wantBody)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/exchange/adminapi/beta/"+f.tenant+"/InvokeCommand" {
			t.Errorf("request %d: %s %s", i, r.Method, r.URL.Path)
		}
		if got := r.Header.Get("X-AnchorMailbox"); got != "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"+f.tenant {
			t.Errorf("request %d: X-AnchorMailbox %q", i, got)
		}
		if r.Header.Get("Prefer") != "odata.maxpagesize=1000" || !httpx.IsGUID(r.Header.Get("client-request-id")) {
			t.Errorf("request %d: Prefer %q, client-request-id %q", i, r.Header.Get("Prefer"), r.Header.Get("client-request-id"))
		}
		if (i > 0) != (r.URL.Query().Get("$skiptoken") != "") {
			t.Errorf("request %d: query %q", i, r.URL.RawQuery)
		}
	}
}

func TestInvokeReportsWarningsOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{Users: 4})
	f.srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })
	var warnings []string
	rows := 0
	for _, err := range f.exo.Invoke(t.Context(), "Get-Mailbox", map[string]any{"ResultSize": 3},
		exchange.OnWarning(func(w string) { warnings = append(warnings, w) })) {
		if err != nil {
			t.Fatal(err)
		}
		rows++
	}
	if rows != 3 || len(warnings) != 1 || !strings.Contains(warnings[0], "increase the value for the ResultSize parameter") {
		t.Errorf("%d rows, warnings %q; want 3 rows and the ResultSize warning once", rows, warnings)
	}

	// Without a callback, warnings go to the logger.
	var logged bytes.Buffer
	exo, err := exchange.New(f.src, f.tenant, exchange.WithCloud(f.srv.Cloud()), exchange.WithHTTPClient(f.srv.Client()),
		exchange.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range exo.Invoke(t.Context(), "Get-Mailbox", map[string]any{"ResultSize": 3}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "ResultSize") {
		t.Errorf("log %q lacks the warning", logged.String())
	}
}

func TestInvokeCmdletErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{})
	for _, tc := range []struct {
		cmdlet  string
		params  map[string]any
		typ     string
		message string
		is      error
	}{
		{"Get-Nothing", nil, "System.Management.Automation.CommandNotFoundException", "The term 'Get-Nothing' is not recognized", exchange.ErrCmdletNotFound},
		{"Get-Mailbox", map[string]any{"Bogus": true}, "System.Management.Automation.ParameterBindingException", "parameter name 'Bogus'", nil},
		{"Get-Mailbox", map[string]any{"Identity": "nobody"}, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException", "'nobody' couldn't be found", nil},
	} {
		t.Run(tc.cmdlet, func(t *testing.T) {
			var err error
			for _, err = range f.exo.Invoke(t.Context(), tc.cmdlet, tc.params) {
				break
			}
			var e *exchange.Error
			if !errors.As(fmt.Errorf("check: %w", err), &e) {
				t.Fatalf("got %v, want an *exchange.Error", err)
			}
			if e.StatusCode != 400 || e.Code != "BadRequest" || e.ExceptionType != tc.typ || !strings.Contains(e.Message, tc.message) {
				t.Errorf("got %+v, want 400 BadRequest %s %q", e, tc.typ, tc.message)
			}
			if strings.Contains(e.Message, "Invalid Operation") || strings.HasPrefix(e.Message, "|") {
				t.Errorf("message %q is the generic text or keeps the type prefix", e.Message)
			}
			if e.Hint() == "" || e.Cmdlet != tc.cmdlet || e.Tenant != f.tenant || e.RequestID == "" {
				t.Errorf("error %+v lacks a hint, the cmdlet, the tenant or the request id", e)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v) = false", tc.is)
			}
		})
	}
}

func TestInvokeRefusals(t *testing.T) {
	t.Parallel()
	t.Run("no Exchange role", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{ExchangeDeny: true})
		_, err := first(t, f.exo, "Get-OrganizationConfig")
		var e *exchange.Error
		if !errors.As(err, &e) || e.StatusCode != 403 || !errors.Is(err, exchange.ErrForbidden) ||
			!strings.Contains(e.Message, "isn't assigned to any management roles") || !strings.Contains(e.Hint(), "Exchange Administrator") {
			t.Errorf("got %v (hint %q), want a 403 naming the missing role", err, hint(err))
		}
	})
	t.Run("no Exchange permission", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{})
		f.src.mint = func() string {
			spec := adminSpec(f.tenant)
			spec.Scopes = []string{"User.Read"}
			return f.srv.IssueAccessToken(spec)
		}
		_, err := first(t, f.exo, "Get-OrganizationConfig")
		var e *exchange.Error
		if !errors.As(err, &e) || e.StatusCode != 401 || e.Code != "2000008" || !strings.Contains(e.Message, "no permissions") ||
			!strings.Contains(e.Hint(), "Exchange.Manage") || !strings.HasPrefix(e.Diagnostics, "2000008;") {
			t.Errorf("got %+v (hint %q), want 401 2000008 with its reason", e, hint(err))
		}
		// A 401 is retried once with a fresh token, which fails alike.
		if n, inv := len(f.cap.Requests()), f.src.count(); n != 2 || inv != 1 {
			t.Errorf("%d requests, %d invalidations; want 2 and 1", n, inv)
		}
	})
	t.Run("token of another tenant", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{})
		other := f.srv.AddCustomer(testserver.CustomerSpec{})
		f.src.mint = func() string { return f.srv.IssueAccessToken(adminSpec(other)) }
		_, err := first(t, f.exo, "Get-OrganizationConfig")
		var e *exchange.Error
		if !errors.As(err, &e) || e.StatusCode != 401 || e.Code != "2000004" || !errors.Is(err, exchange.ErrUnauthorized) || e.Hint() == "" {
			t.Errorf("got %v, want 401 2000004", err)
		}
	})
	t.Run("expired token is replaced", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{})
		var minted atomic.Int32
		f.src.mint = func() string {
			spec := adminSpec(f.tenant)
			if minted.Add(1) == 1 {
				spec.Lifetime = -time.Minute
			}
			return f.srv.IssueAccessToken(spec)
		}
		if _, err := first(t, f.exo, "Get-OrganizationConfig"); err != nil || f.src.count() != 1 {
			t.Errorf("got %v after %d invalidations, want success after 1", err, f.src.count())
		}
	})
}

func first(t *testing.T, exo *exchange.Client, cmdlet string) (json.RawMessage, error) {
	t.Helper()
	for row, err := range exo.Invoke(t.Context(), cmdlet, nil) {
		return row, err
	}
	return nil, errors.New("no rows")
}

func hint(err error) string {
	var e *exchange.Error
	if errors.As(err, &e) {
		return e.Hint()
	}
	return ""
}

func TestInvokeRetries(t *testing.T) {
	t.Parallel()
	t.Run("throttled read", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{})
		faulttest.Bubble(t, f.srv, func(t *testing.T) {
			f.srv.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "exchange", RetryAfter: "1", Count: 2})
			start := time.Now()
			_, err := first(t, f.exo, "Get-OrganizationConfig")
			require.NoError(t, err)
			assert.Len(t, f.cap.Requests(), 3, "requests")
			assert.Equal(t, 2*fastRetries.MaxRetryAfter, time.Since(start), "two Retry-After waits of 1s, capped")
		})
	})
	t.Run("server error of a read", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{})
		f.srv.Inject(testserver.Fault{Kind: testserver.Status, Status: 500, Service: "exchange", Count: 1})
		if _, err := first(t, f.exo, "Get-OrganizationConfig"); err != nil {
			t.Errorf("Get-* after a 500: %v, want a successful retry", err)
		}
	})
	t.Run("server error of a change", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{})
		f.srv.Inject(testserver.Fault{Kind: testserver.Status, Status: 500, Service: "exchange", Count: 1})
		_, err := first(t, f.exo, "Set-OrganizationConfig")
		var e *exchange.Error
		if !errors.As(err, &e) || e.StatusCode != 500 || len(f.cap.Requests()) != 1 {
			t.Errorf("Set-* after a 500: %v after %d requests, want the 500 and no replay", err, len(f.cap.Requests()))
		}
	})
	t.Run("gateway page", func(t *testing.T) {
		t.Parallel()
		f := setup(t, testserver.CustomerSpec{}, exchange.WithRetryPolicy(token.RetryPolicy{MaxAttempts: 1}))
		f.srv.Inject(testserver.Fault{Kind: testserver.HTML, Status: 502, Service: "exchange"})
		_, err := first(t, f.exo, "Get-OrganizationConfig")
		var e *exchange.Error
		if !errors.As(err, &e) || e.StatusCode != 502 || !strings.Contains(e.Message, "(text/html)") {
			t.Errorf("got %v, want a 502 describing the HTML body", err)
		}
	})
}

func TestInvokeRefusesBadInputBeforeSending(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{})
	before := f.srv.TotalRequests()
	for _, name := range []string{"", "GetMailbox", "Get-Mailbox; Remove-Mailbox", "../../applications", "Get-Mailbox?x=1", "Get-Mail box"} {
		if _, err := first(t, f.exo, name); err == nil || !strings.Contains(err.Error(), "not a cmdlet name") {
			t.Errorf("cmdlet %q: %v, want a refusal", name, err)
		}
	}
	for _, err := range f.exo.Invoke(t.Context(), "Get-Mailbox", nil, exchange.AnchorMailbox("UPN:a b@c")) {
		if err == nil {
			t.Error("an anchor mailbox with a space was accepted")
		}
	}
	for _, err := range f.exo.Invoke(t.Context(), "Get-Mailbox", map[string]any{"x": func() {}}) {
		if err == nil {
			t.Error("unencodable parameters were accepted")
		}
	}
	for _, tenant := range []string{"../../applications", "", "common", "contoso.onmicrosoft.com/x"} {
		if _, err := exchange.New(f.src, tenant, exchange.WithCloud(f.srv.Cloud())); err == nil {
			t.Errorf("New accepted tenant %q", tenant)
		}
	}
	if n := f.srv.TotalRequests(); n != before {
		t.Errorf("the server received %d requests, want none", n-before)
	}
}

func TestAnchorMailbox(t *testing.T) {
	t.Parallel()
	f := setup(t, testserver.CustomerSpec{}, exchange.WithAnchorMailbox("UPN:admin@fabrikam.example"))
	if _, err := first(t, f.exo, "Get-OrganizationConfig"); err != nil {
		t.Fatal(err)
	}
	for _, err := range f.exo.Invoke(t.Context(), "Get-AcceptedDomain", nil, exchange.AnchorMailbox("SMTP:ops@fabrikam.example")) {
		if err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.cap.Requests()
	if got := []string{reqs[0].Header.Get("X-AnchorMailbox"), reqs[1].Header.Get("X-AnchorMailbox")}; got[0] != "UPN:admin@fabrikam.example" || got[1] != "SMTP:ops@fabrikam.example" {
		t.Errorf("anchors %q", got)
	}
}

// TestInvokeStaysOnItsHost serves a page whose next link points at another
// host: the client must not send its token or request there.
func TestInvokeStaysOnItsHost(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer evil.Close()
	const tenant = "contoso.onmicrosoft.com"
	exo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"value":           []map[string]any{{"Name": "x"}},
			"@odata.nextLink": evil.URL + "/adminapi/beta/" + tenant + "/InvokeCommand?$skiptoken=1",
		})
	}))
	defer exo.Close()
	c, err := exchange.New(&source{mint: func() string { return "eyJ.test.token" }}, tenant,
		exchange.WithBaseURL(exo.URL), exchange.WithHTTPClient(exo.Client()))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	var last error
	for _, err := range c.Invoke(context.Background(), "Get-Mailbox", nil) {
		if err != nil {
			last = err
			break
		}
		rows++
	}
	if rows != 1 || last == nil || !strings.Contains(last.Error(), "another endpoint") || elsewhere.Load() != 0 {
		t.Errorf("%d rows, error %v, %d requests elsewhere", rows, last, elsewhere.Load())
	}
}
