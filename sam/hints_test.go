package sam

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	tenant := Tenant{ID: "6b3f0c2e-0000-4000-8000-000000000001", DisplayName: "Contoso"}
	tokenErr := func(status int, code string, codes ...int) error {
		// As the API clients wrap it.
		return fmt.Errorf("graph: GET /users: getting a token: %w", &token.Error{StatusCode: status, Code: code, Codes: codes, Tenant: tenant.ID})
	}
	cases := []struct {
		name   string
		check  Check
		err    error
		code   string
		status int
		hint   []string
	}{
		{"idle refresh token", CheckDelegatedGraph, tokenErr(400, "invalid_grant", 700082), "AADSTS700082", 400,
			[]string{"90 days", "re-run the consent sign-in"}},
		{"Conditional Access", CheckDelegatedGraph, tokenErr(400, "invalid_grant", 53003), "AADSTS53003", 400,
			[]string{"Conditional Access", tenant.ID}},
		{"partner's own MFA", CheckPartnerCenter, tokenErr(400, "invalid_grant", 50076), "AADSTS50076", 400,
			[]string{"complete MFA"}},
		{"token error without codes", CheckDelegatedGraph, tokenErr(502, ""), "HTTP 502", 502, []string{"proxy"}},
		{"Graph denies delegated", CheckDelegatedGraph,
			&graph.Error{StatusCode: 403, Code: "Authorization_RequestDenied", RequestID: "r1"}, "Authorization_RequestDenied", 403,
			[]string{"GDAP", "Directory Readers", "samctl consent push " + tenant.ID}},
		{"Graph denies the app", CheckAppGraph, &graph.Error{StatusCode: 403, Code: "Authorization_RequestDenied"},
			"Authorization_RequestDenied", 403, []string{"Directory.Read.All (application)"}},
		{"Graph throttles", CheckDelegatedGraph, &graph.Error{StatusCode: 429, Code: "TooManyRequests"}, "TooManyRequests", 429,
			[]string{"throttling", "fewer tenants"}},
		{"Graph fails", CheckAppGraph, &graph.Error{StatusCode: 503, RequestID: "r2"}, "HTTP 503", 503, []string{"later", "r2"}},
		{"Exchange lacks permission", CheckDelegatedExchange,
			&exchange.Error{StatusCode: 401, Code: "2000008", Tenant: tenant.ID}, "2000008", 401, []string{"Exchange.Manage"}},
		{"Partner Center MFA", CheckPartnerCenter, &partner.Error{StatusCode: 401, Code: "900421"}, "900421", 401,
			[]string{"MFA"}},
		{"Partner Center conflict", CheckPartnerCenter, &partner.Error{StatusCode: 409}, "HTTP 409", 409, []string{"HTTP 409"}},
		{"no refresh token", CheckDelegatedGraph, fmt.Errorf("%w: empty", token.ErrNoRefreshToken), "", 0, []string{"samctl setup"}},
		{"network", CheckDelegatedExchange, errors.New("dial tcp: connection refused"), "", 0,
			[]string{"network path to Exchange Online", "Contoso (" + tenant.ID + ")"}},
	}
	for _, c := range cases {
		res := CheckResult{Check: c.check}
		describe(&res, tenant, c.err)
		if res.Code != c.code || res.Status != c.status {
			t.Errorf("%s: code %q, status %d; want %q, %d", c.name, res.Code, res.Status, c.code, c.status)
		}
		for _, h := range c.hint {
			if !strings.Contains(res.Hint, h) {
				t.Errorf("%s: hint %q lacks %q", c.name, res.Hint, h)
			}
		}
		if res.Message != c.err.Error() || res.Err != c.err {
			t.Errorf("%s: Message %q, Err %v; want the error", c.name, res.Message, res.Err)
		}
	}
}

func TestReportSummary(t *testing.T) {
	t.Parallel()
	pass := CheckResult{Check: CheckDelegatedGraph, Outcome: OutcomePassed}
	fail := CheckResult{Check: CheckDelegatedGraph, Outcome: OutcomeFailed}
	skip := CheckResult{Check: CheckDelegatedGraph, Outcome: OutcomeSkipped}
	r := &AccessReport{Checks: []Check{CheckDelegatedGraph}, Tenants: []TenantResult{
		{Checks: []CheckResult{pass}}, {Checks: []CheckResult{fail}}, {Checks: []CheckResult{pass}},
	}}
	r.tally()
	if got, want := r.Summary(), "3 total tenants, with 1 failure"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if got := r.Totals[CheckDelegatedGraph]; got != (Tally{Passed: 2, Failed: 1}) {
		t.Errorf("Totals = %+v", got)
	}
	r.Tenants = append(r.Tenants, TenantResult{Checks: []CheckResult{skip}})
	r.PartnerCenter = &CheckResult{Check: CheckPartnerCenter, Outcome: OutcomeFailed}
	r.Checks = append(r.Checks, CheckPartnerCenter)
	r.Cancelled = true
	r.tally()
	if got, want := r.Summary(), "4 total tenants, with 1 failure; Partner Center check failed (cancelled: 1 not fully checked)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if r.OK() || r.Totals[CheckPartnerCenter].Failed != 1 {
		t.Errorf("OK() = %v, Totals[partner-center] = %+v", r.OK(), r.Totals[CheckPartnerCenter])
	}
}
