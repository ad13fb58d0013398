package testserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

type exoPage struct {
	Context  string            `json:"@odata.context"`
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
	Warnings []string          `json:"@adminapi.warnings"`
	Error    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code, Target, Message string
		} `json:"details"`
		InnerError struct {
			InternalException struct {
				Message, Type string
			} `json:"internalexception"`
		} `json:"innererror"`
	} `json:"error"`
}

// exoPost POSTs an InvokeCommand body to url (absolute) and decodes the
// answer.
func exoPost(t *testing.T, s *Server, url, tok string, body any, hdr http.Header) (*http.Response, exoPage) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var page exoPage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
		}
	}
	return resp, page
}

func cmdlet(name string, params map[string]any) map[string]any {
	return map[string]any{"CmdletInput": map[string]any{"CmdletName": name, "Parameters": params}}
}

func exoURL(s *Server, tenant string) string {
	return s.URL() + "/exchange/adminapi/beta/" + tenant + "/InvokeCommand"
}

func exoToken(s *Server, tenant string) string {
	return s.IssueAccessToken(TokenSpec{Tenant: tenant, Resource: ExchangeResource, UPN: "admin@partner", Scopes: []string{"Exchange.Manage"}, MFA: true})
}

func TestExchangeGetMailboxPages(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	s.Mutate(func(w *World) { w.MaxPageSize = 2 })
	cust := s.AddCustomer(CustomerSpec{Users: 4}) // 4 users and the admin
	tok := exoToken(s, cust)
	body := cmdlet("Get-Mailbox", map[string]any{"ResultSize": "Unlimited"})

	var upns []string
	url := exoURL(s, cust)
	for pages := 0; url != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging did not end")
		}
		resp, page := exoPost(t, s, url, tok, body, http.Header{"Prefer": {"odata.maxpagesize=1000"}})
		if resp.StatusCode != 200 || len(page.Value) > 2 || !strings.Contains(page.Context, "$metadata") || page.Warnings == nil {
			t.Fatalf("page %d: %d %+v", pages, resp.StatusCode, page)
		}
		for _, v := range page.Value {
			var m struct{ UserPrincipalName, RecipientTypeDetails string }
			_ = json.Unmarshal(v, &m)
			upns = append(upns, m.UserPrincipalName)
		}
		url = page.NextLink
		if url != "" && !strings.HasPrefix(url, s.URL()+"/exchange/adminapi/beta/"+cust+"/InvokeCommand?") {
			t.Fatalf("nextLink %q is not an absolute InvokeCommand URL", url)
		}
	}
	if len(upns) != 5 || !slices.IsSorted(upns) || !strings.HasPrefix(upns[0], "admin@") {
		t.Errorf("mailboxes %v, want the admin and 4 users in UPN order", upns)
	}

	// The next page belongs to the request that made it.
	_, first := exoPost(t, s, exoURL(s, cust), tok, body, nil)
	resp, page := exoPost(t, s, first.NextLink, tok, cmdlet("Get-Mailbox", map[string]any{"ResultSize": 3}), nil)
	if resp.StatusCode != 400 || page.Error == nil || !strings.Contains(page.Error.Details[0].Message, "$skiptoken") {
		t.Errorf("nextLink with another body: %d %+v, want 400", resp.StatusCode, page.Error)
	}

	// A ResultSize below the count truncates with Exchange's warning.
	_, page = exoPost(t, s, exoURL(s, cust), tok, cmdlet("Get-Mailbox", map[string]any{"ResultSize": 3}), http.Header{"Prefer": {"odata.maxpagesize=5"}})
	if len(page.Value) != 2 || len(page.Warnings) != 1 || !strings.Contains(page.Warnings[0], "ResultSize") {
		t.Errorf("ResultSize 3: %d rows, warnings %q", len(page.Value), page.Warnings)
	}
}

func TestExchangeCmdlets(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{Name: "Fabrikam"})
	tok := exoToken(s, cust)

	_, page := exoPost(t, s, exoURL(s, "fabrikam.onmicrosoft.com"), tok, cmdlet("Get-OrganizationConfig", nil), nil)
	var org struct{ DisplayName, Name string }
	if len(page.Value) != 1 || json.Unmarshal(page.Value[0], &org) != nil || org.DisplayName != "Fabrikam" {
		t.Errorf("Get-OrganizationConfig by domain: %+v", page)
	}
	_, page = exoPost(t, s, exoURL(s, cust), tok, cmdlet("get-accepteddomain", nil), nil)
	var dom struct {
		DomainName string
		Default    bool
	}
	if len(page.Value) != 1 || json.Unmarshal(page.Value[0], &dom) != nil || dom.DomainName != "fabrikam.onmicrosoft.com" || !dom.Default {
		t.Errorf("Get-AcceptedDomain: %+v", page)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		typ    string
		text   string
	}{
		{"unknown cmdlet", cmdlet("Get-Nothing", nil), 400, "System.Management.Automation.CommandNotFoundException", "The term 'Get-Nothing' is not recognized"},
		{"unknown parameter", cmdlet("Get-Mailbox", map[string]any{"Bogus": 1}), 400, "System.Management.Automation.ParameterBindingException", "'Bogus'"},
		{"bad ResultSize", cmdlet("Get-Mailbox", map[string]any{"ResultSize": "lots"}), 400, "System.Management.Automation.ParameterBindingException", "ResultSize"},
		{"unknown mailbox", cmdlet("Get-Mailbox", map[string]any{"Identity": "nobody"}), 400, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException", "'nobody'"},
		{"no CmdletInput", map[string]any{"Cmdlet": "Get-Mailbox"}, 400, "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "CmdletInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := exoPost(t, s, exoURL(s, cust), tok, tc.body, nil)
			e := page.Error
			if resp.StatusCode != tc.status || e == nil || e.Code != "BadRequest" || e.Message != "Invalid Operation" || len(e.Details) != 1 {
				t.Fatalf("got %d %+v", resp.StatusCode, e)
			}
			if d := e.Details[0].Message; !strings.HasPrefix(d, "|"+tc.typ+"|") || !strings.Contains(d, tc.text) {
				t.Errorf("details message %q, want |%s|…%s…", d, tc.typ, tc.text)
			}
			if ie := e.InnerError.InternalException; ie.Type != tc.typ || !strings.Contains(ie.Message, tc.text) {
				t.Errorf("internalexception %+v", ie)
			}
		})
	}
}

func TestExchangeAuth(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	cust := s.AddCustomer(CustomerSpec{})
	denied := s.AddCustomer(CustomerSpec{ExchangeDeny: true})
	other := s.AddCustomer(CustomerSpec{})
	for _, tc := range []struct {
		name, tenant, tok string
		status            int
		diag              string
	}{
		{"delegated", cust, exoToken(s, cust), 200, ""},
		{"app-only", cust, s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource, Roles: []string{"Exchange.ManageAsApp"}}), 200, ""},
		{"no token", cust, "", 401, ""},
		{"other tenant's token", cust, exoToken(s, other), 401, "2000004;"},
		{"unknown tenant", newID(), exoToken(s, cust), 401, "2000004;"},
		{"graph token", cust, s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: GraphResource, UPN: "a@b", Scopes: []string{"Exchange.Manage"}}), 401, "2000003;"},
		{"no Exchange scope", cust, s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource, UPN: "a@b", Scopes: []string{"User.Read"}}), 401, "2000008;"},
		{"app-only without role", cust, s.IssueAccessToken(TokenSpec{Tenant: cust, Resource: ExchangeResource}), 401, "2000008;"},
		{"no Exchange role", denied, exoToken(s, denied), 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := exoPost(t, s, exoURL(s, tc.tenant), tc.tok, cmdlet("Get-OrganizationConfig", nil),
				http.Header{"X-Anchormailbox": {"APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + tc.tenant}})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, tc.status, page.Error)
			}
			if tc.status == 401 {
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer client_id=\""+ExchangeAppID+"\"") {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
				if d := resp.Header.Get("x-ms-diagnostics"); !strings.HasPrefix(d, tc.diag) || (tc.diag != "" && !strings.Contains(d, "reason=")) {
					t.Errorf("x-ms-diagnostics %q, want %q…", d, tc.diag)
				}
			}
			if tc.status == 403 && (page.Error == nil || !strings.Contains(page.Error.Details[0].Message, "isn't assigned to any management roles")) {
				t.Errorf("403 body %+v", page.Error)
			}
		})
	}
}
