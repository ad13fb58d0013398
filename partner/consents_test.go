package partner_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
)

// registerSAMApp registers a multi-tenant app in the partner tenant, as
// setup does, and returns its application id.
func registerSAMApp(srv *testserver.Server) string {
	app := &testserver.App{ObjectID: newGUID(), AppID: newGUID(), DisplayName: "SAM", SignInAudience: "AzureADMultipleOrgs",
		HomeTenant: srv.Partner().TenantID}
	srv.Mutate(func(w *testserver.World) { w.Apps[app.AppID] = app })
	return app.AppID
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func samConsent(appID string) partner.ApplicationConsent {
	return partner.ApplicationConsent{ApplicationID: appID, DisplayName: "SAM", Grants: []partner.ApplicationGrant{
		{EnterpriseApplicationID: testserver.GraphAppID, Scopes: []string{"Directory.Read.All", "User.Read.All"}},
		{EnterpriseApplicationID: testserver.ExchangeAppID, Scopes: []string{"Exchange.Manage"}},
	}}
}

func TestApplicationConsentLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cust := f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true, GDAP: true})
	appID := registerSAMApp(f.srv)

	res, err := f.pc.CreateApplicationConsent(t.Context(), cust, samConsent(appID))
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyExisted || res.Consent.ApplicationID != appID || len(res.Consent.Grants) != 2 ||
		strings.Join(res.Consent.Grants[0].Scopes, " ") != "Directory.Read.All User.Read.All" {
		t.Errorf("result %+v", res)
	}
	// The wire format: comma-separated scopes.
	req := f.cap.Requests()[0]
	body, _ := io.ReadAll(req.Body)
	var sent struct {
		ApplicationID     string `json:"applicationId"`
		ApplicationGrants []struct{ EnterpriseApplicationID, Scope string }
	}
	if json.Unmarshal(body, &sent) != nil || sent.ApplicationGrants[0].Scope != "Directory.Read.All,User.Read.All" ||
		req.URL.Path != "/partner/v1/customers/"+cust+"/applicationconsents" || req.Method != http.MethodPost {
		t.Errorf("sent %s %s %s", req.Method, req.URL.Path, body)
	}
	f.srv.Read(func(w *testserver.World) {
		tn := w.Tenants[cust]
		sp := tn.ServicePrincipalByAppID(appID)
		if sp == nil {
			t.Fatal("the customer tenant has no service principal for the app")
		}
		graph := tn.ServicePrincipalByAppID(testserver.GraphAppID)
		if got := tn.DelegatedScopes(sp.ID, graph.ID, "any"); strings.Join(got, " ") != "Directory.Read.All User.Read.All" {
			t.Errorf("Graph grant %v", got)
		}
	})

	again, err := f.pc.CreateApplicationConsent(t.Context(), cust, samConsent(appID))
	if err != nil || !again.AlreadyExisted || again.RequestID == "" {
		t.Errorf("second consent: %+v, %v; want AlreadyExisted", again, err)
	}

	if err := f.pc.DeleteApplicationConsent(t.Context(), cust, appID); err != nil {
		t.Fatal(err)
	}
	f.srv.Read(func(w *testserver.World) {
		if w.Tenants[cust].ServicePrincipalByAppID(appID) != nil {
			t.Error("the app's service principal survived the deletion")
		}
	})
	err = f.pc.DeleteApplicationConsent(t.Context(), cust, appID)
	if !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
}

func TestApplicationConsentRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t)
	appID := registerSAMApp(f.srv)
	blocked := f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true, ConsentBlocked: true})
	stranger := f.srv.AddCustomer(testserver.CustomerSpec{GDAP: true})

	_, err := f.pc.CreateApplicationConsent(t.Context(), blocked, samConsent(appID))
	var e *partner.Error
	if !errors.As(fmt.Errorf("push consent: %w", err), &e) || e.StatusCode != http.StatusForbidden || !errors.Is(err, partner.ErrForbidden) {
		t.Fatalf("blocked customer: %v, want a 403 *partner.Error", err)
	}
	if e.Code == "" || e.Description == "" || e.Hint() == "" || e.Operation != "create application consent" {
		t.Errorf("error %+v lacks code, description, operation or hint", e)
	}
	sent := f.cap.Requests()[0]
	if e.CorrelationID != sent.Header.Get("MS-CorrelationId") || e.RequestID != sent.Header.Get("MS-RequestId") {
		t.Errorf("error ids %s/%s, sent %s/%s", e.CorrelationID, e.RequestID, sent.Header.Get("MS-CorrelationId"), sent.Header.Get("MS-RequestId"))
	}

	_, err = f.pc.CreateApplicationConsent(t.Context(), stranger, samConsent(appID))
	if !errors.Is(err, partner.ErrNotFound) {
		t.Errorf("customer unknown to Partner Center: %v, want ErrNotFound", err)
	}

	// App-only tokens are refused for consents.
	f.src.setMint(func() string {
		return f.srv.IssueAccessToken(testserver.TokenSpec{Resource: testserver.PartnerCenterResource})
	})
	cust := f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true})
	_, err = f.pc.CreateApplicationConsent(t.Context(), cust, samConsent(appID))
	if !errors.As(err, &e) || e.Code != "900329" || !strings.Contains(e.Hint(), "App+User") {
		t.Errorf("app-only consent: %v, want code 900329 with a hint", err)
	}
}

func TestApplicationConsentRefusesBadInputBeforeSending(t *testing.T) {
	t.Parallel()
	f := setup(t)
	appID := registerSAMApp(f.srv)
	cust := f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true})
	before := f.srv.TotalRequests()
	bad := samConsent(appID)
	bad.Grants = append(bad.Grants, partner.ApplicationGrant{EnterpriseApplicationID: testserver.GraphAppID, Scopes: []string{"A,B"}})
	for name, call := range map[string]func() error{
		"hostile customer id": func() error {
			_, err := f.pc.CreateApplicationConsent(t.Context(), "../../applications", samConsent(appID))
			return err
		},
		"domain for customer": func() error {
			_, err := f.pc.CreateApplicationConsent(t.Context(), "contoso.onmicrosoft.com", samConsent(appID))
			return err
		},
		"hostile app id on delete": func() error { return f.pc.DeleteApplicationConsent(t.Context(), cust, "../"+appID) },
		"hostile customer on delete": func() error {
			return f.pc.DeleteApplicationConsent(t.Context(), cust+"/applicationconsents/x?", appID)
		},
		"no grants": func() error {
			_, err := f.pc.CreateApplicationConsent(t.Context(), cust, partner.ApplicationConsent{ApplicationID: appID})
			return err
		},
		"comma in a scope": func() error {
			_, err := f.pc.CreateApplicationConsent(t.Context(), cust, bad)
			return err
		},
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := f.srv.TotalRequests(); n != before {
		t.Errorf("the server received %d requests, want none", n-before)
	}
}
