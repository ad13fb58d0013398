package faulttest

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
)

// HostileIDs are identifiers that a compromised or corrupt answer could
// hand to the next call: path traversal, raw and encoded; query, fragment
// and header injection; other hosts; control and bidirectional
// characters; an oversized value.
var HostileIDs = []string{
	"../../applications",
	"..",
	".",
	"..%2F..%2Fapplications",
	"%2e%2e",
	"00000000-0000-0000-0000-000000000000/../../applications",
	"x\\..\\..\\applications",
	"x?$filter=appId eq 'y'",
	"x#fragment",
	"a b",
	"a\r\nAuthorization: Bearer x",
	"x\x00y",
	"\u202eevil",
	"https://evil.example/",
	"//evil.example/x",
	strings.Repeat("a", 5000),
}

// ServeHostileContracts lists a contract for each hostile id in the
// partner's /contracts, reads them back through Graph as a caller would,
// and returns the customer ids read, each as served.
func ServeHostileContracts(t *testing.T, srv *testserver.Server) []string {
	t.Helper()
	srv.Mutate(func(w *testserver.World) {
		for i, id := range HostileIDs {
			w.Partner.Contracts = append(w.Partner.Contracts, &testserver.Contract{ID: "hostile-" + string(rune('a'+i)),
				ContractType: "ResellerPartnerContract", CustomerID: id, DefaultDomainName: id, DisplayName: id})
		}
	})
	p := srv.Partner()
	c, err := graph.New(StaticSource(srv.IssueAccessToken(testserver.TokenSpec{Resource: testserver.GraphResource,
		UserID: p.AdminID, UPN: p.AdminUPN, Scopes: []string{"Directory.AccessAsUser.All"}, MFA: true})),
		graph.WithCloud(srv.Cloud()), graph.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for k, err := range c.Contracts(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(HostileIDs, k.CustomerID) {
			ids = append(ids, k.CustomerID)
		}
	}
	if len(ids) != len(HostileIDs) {
		t.Fatalf("read %d hostile contracts back, want %d", len(ids), len(HostileIDs))
	}
	return ids
}

// Refused fails t unless err reports a refused input, call sent nothing
// (the server's request count did not move), and err's text holds no
// control character that could forge a log line.
func Refused(t *testing.T, srv *testserver.Server, what string, call func() error) {
	t.Helper()
	before := srv.TotalRequests()
	err := call()
	if err == nil {
		t.Errorf("%s: accepted", what)
		return
	}
	if n := srv.TotalRequests() - before; n != 0 {
		t.Errorf("%s: sent %d requests before refusing (%s)", what, n, Short(err.Error()))
	}
	if i := strings.IndexFunc(err.Error(), unicode.IsControl); i >= 0 {
		t.Errorf("%s: the error holds a raw control character: %q", what, Short(err.Error()))
	}
}

// Short cuts s for a test message.
func Short(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
