package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

func TestVersion(t *testing.T) {
	isolate(t)
	code, stdout, _ := samctl(t, "version")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `^samctl \S+.*, go1\.\d+.*, \w+/\w+\n$`, stdout)
	code, flag, _ := samctl(t, "--version")
	require.Equal(t, exitOK, code)
	assert.Equal(t, stdout, flag, "--version prints what 'samctl version' does")

	for _, args := range [][]string{{"version", "-o", "json"}, {"version", "--output", "json"}, {"version", "--json"}} {
		code, stdout, _ := samctl(t, args...)
		require.Equal(t, exitOK, code, "%v", args)
		var b buildInfo
		require.NoError(t, json.Unmarshal([]byte(stdout), &b), "%v: %s", args, stdout)
		assert.NotEmpty(t, b.Version, "%v", args)
		assert.True(t, strings.HasPrefix(b.GoVersion, "go"), "%v: go version %q", args, b.GoVersion)
	}
	// The release build stamps the version and the commit.
	version, commit = "v9.8.7", "0123456789abcdef-dirty"
	t.Cleanup(func() { version, commit = "", "" })
	b := readBuildInfo()
	assert.Equal(t, "v9.8.7", b.Version)
	if b.Commit == "0123456789abcdef" { // else the build info recorded the commit itself
		assert.True(t, b.Modified)
		assert.Contains(t, b.String(), "(commit 0123456789ab-dirty)")
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	isolate(t)
	_, stdout, _ := samctl(t, "--help")
	for _, want := range []string{"Exit codes:", "0 ", "1 ", "2    usage error", "130  interrupted"} {
		assert.Contains(t, stdout, want)
	}
}

func TestCommandLineMistakes(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"chek"}, `did you mean "check"?`},
		{[]string{"consent", "psh"}, `did you mean "push"?`},
		{[]string{"version", "-o", "yaml"}, `-o "yaml": use table or json`},
		{[]string{"version", "--json", "-o", "table"}, "disagree"},
		{[]string{"check", "--tenant", ""}, "--tenant is empty"},
		{[]string{"tenants", "--tenant", "contoso.com,"}, "--tenant is empty"},
		{[]string{"check", "--exclude", ""}, "--exclude is empty"},
		{[]string{"check", "--timeout", "-1s"}, "--timeout -1s is negative"},
	} {
		code, stdout, stderr := samctl(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v: exit code", tc.args)
		assert.Empty(t, stdout, "%v", tc.args)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

func TestUnknownTenant(t *testing.T) {
	isolate(t)
	_, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 3, Healthy: true}, nil)
	code, stdout, stderr := samctl(t, append([]string{"check", "--tenant", "nosuch.example.com"}, flags...)...)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, `--tenant "nosuch.example.com": no customer tenant has this id or domain`)
	assert.Contains(t, stderr, "\n  fix: 'samctl tenants' lists")
	assert.NotContains(t, stderr, "ListOptions", "library names are not the command line's words")
}

func TestCompletion(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "check", "--checks", ""}, []string{"delegated-graph", "delegated-exchange", "app-graph", "partner-center"}},
		{[]string{"__complete", "check", "--cloud", ""}, []string{"public", "usgov", "usgovdod", "china"}},
		{[]string{"__complete", "token", "contoso.com", ""}, []string{"graph", "exchange", "partner"}},
		{[]string{"__complete", "tenants", "-o", ""}, []string{"table", "json"}},
	} {
		code, stdout, _ := samctl(t, tc.args...)
		require.Equal(t, exitOK, code, "%v", tc.args)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		assert.Equal(t, tc.want, lines[:len(lines)-1], "%v", tc.args)
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "1 tenant", plural(1, "tenant", "tenants"))
	assert.Equal(t, "0 tenants", plural(0, "tenant", "tenants"))
	assert.Equal(t, "2 failures", plural(2, "failure", "failures"))
	rep := &sam.AccessReport{Tenants: []sam.TenantResult{{Checks: []sam.CheckResult{{Outcome: sam.OutcomeFailed}}}}}
	assert.Equal(t, "1 total tenant, with 1 failure", rep.Summary())
}

func TestColor(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	assert.False(t, useColor(&bytes.Buffer{}, env(nil)), "no colour into a pipe or a file")
	var b bytes.Buffer
	_, err := colorWriter{&b}.Write([]byte("✓ ok\t✗ failed\n"))
	require.NoError(t, err)
	assert.Equal(t, green+"✓"+reset+" ok\t"+red+"✗"+reset+" failed\n", b.String())
}

var guidInText = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestReportFits80Columns: long names are shortened, fixes wrapped at
// spaces, and every GUID stays whole on one line.
func TestReportFits80Columns(t *testing.T) {
	t.Parallel()
	const id = "3c1c5e13-cf18-40d6-a4f6-2a1f10122e4d"
	long := sam.Tenant{ID: id, DisplayName: strings.Repeat("Very Long Customer Name ", 4), DefaultDomain: "averyveryverylongcustomerdomainname.onmicrosoft.com"}
	hint := "The admin who consented the SAM app has no access to tenant " + long.DisplayName + " (" + id + "): add the admin to the security groups of an active GDAP relationship (samctl consent push " + id + ")."
	rep := &sam.AccessReport{Checks: []sam.Check{sam.CheckDelegatedGraph, sam.CheckDelegatedExchange, sam.CheckAppGraph},
		Tenants: []sam.TenantResult{{Tenant: long, Checks: []sam.CheckResult{
			{Check: sam.CheckDelegatedGraph, Outcome: sam.OutcomeFailed, Code: "AADSTS50020", Hint: hint},
			{Check: sam.CheckDelegatedExchange, Outcome: sam.OutcomePassed},
			{Check: sam.CheckAppGraph, Outcome: sam.OutcomePassed}}}}}
	var b bytes.Buffer
	writeReport(&b, rep, nil)
	guids := 0
	for _, line := range strings.Split(b.String(), "\n") {
		assert.LessOrEqual(t, utf8.RuneCountInString(line), tableWidth, "line too wide: %q", line)
		guids += len(guidInText.FindAllString(line, -1))
	}
	assert.Equal(t, 3, guids, "the id in the failure's title and the two in its fix, each whole:\n%s", b.String())
	assert.Contains(t, b.String(), "Very Long Custo…", "the name column is shortened")
}

// TestInterruptedReport: after Ctrl-C the table shows the tenants that
// were checked and counts the rest, instead of a row of dashes for each.
func TestInterruptedReport(t *testing.T) {
	t.Parallel()
	rep := &sam.AccessReport{Checks: []sam.Check{sam.CheckDelegatedGraph}, Cancelled: true}
	rep.Tenants = append(rep.Tenants, sam.TenantResult{Tenant: sam.Tenant{ID: "1", DisplayName: "Checked"},
		Checks: []sam.CheckResult{{Check: sam.CheckDelegatedGraph, Outcome: sam.OutcomePassed}}})
	for range 2000 {
		rep.Tenants = append(rep.Tenants, sam.TenantResult{Tenant: sam.Tenant{ID: "x", DisplayName: "Unchecked"},
			Checks: []sam.CheckResult{{Check: sam.CheckDelegatedGraph, Outcome: sam.OutcomeSkipped}}})
	}
	var b bytes.Buffer
	writeReport(&b, rep, nil)
	assert.Contains(t, b.String(), "Checked")
	assert.NotContains(t, b.String(), "Unchecked")
	assert.Contains(t, b.String(), "2000 tenants not checked")
	assert.Less(t, strings.Count(b.String(), "\n"), 10, "a short report:\n%s", b.String())
}

// TestJSONConventions: durations in milliseconds in fields ending in _ms,
// and "&" as it is.
func TestJSONConventions(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 2, Healthy: true}, nil)
	s.Mutate(func(w *testserver.World) {
		for _, r := range w.Partner.Relationships {
			r.CustomerName = "Smith & Sons <Ltd>"
		}
	})
	code, stdout, stderr := samctl(t, append([]string{"check", "-o", "json"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `"Smith & Sons <Ltd>"`)
	assert.NotContains(t, stdout, `\u0026`)
	var v any
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	var durations []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if strings.Contains(strings.ToLower(k), "duration") {
					durations = append(durations, k)
					assert.True(t, strings.HasSuffix(k, "_ms"), "duration field %q is not in milliseconds", k)
					_, isNumber := x.(float64)
					assert.True(t, isNumber, "%s is %v, not a number of milliseconds", k, x)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	assert.NotEmpty(t, durations)
}

// TestCtrlCShowsWhatWasChecked interrupts a check while a tenant's
// Exchange call hangs: the report shows the tenant reached and counts the
// others, and the exit code is 130.
func TestCtrlCShowsWhatWasChecked(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 6, Healthy: true}, nil)
	s.Inject(testserver.Fault{Kind: testserver.Hang, Service: "exchange"})
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"check", "--concurrency", "1"}, flags...), strings.NewReader(""), &stdout, &stderr)
	}()
	// Wait until the first tenant's Exchange token is issued (a
	// condition, not a time: the hung call is recorded only when it
	// ends), then press Ctrl-C.
	exchangeToken := func(r testserver.Request) bool {
		return r.IsToken() && strings.Contains(r.Form.Get("scope"), "outlook.office365.com")
	}
	for !slices.ContainsFunc(s.Requests(), exchangeToken) {
		select {
		case code := <-done:
			t.Fatalf("check ended (exit %d) before reaching Exchange", code)
		case <-t.Context().Done():
			t.Fatal("check never reached Exchange")
		case <-time.After(time.Millisecond):
		}
	}
	interrupt()
	assert.Equal(t, exitInterrupted, <-done)
	assert.Contains(t, stderr.String(), "samctl: interrupted")
	out := stdout.String()
	assert.Contains(t, out, "5 tenants not checked: the run was cut short.")
	assert.Equal(t, 1, strings.Count(out, "onmicrosoft.com"), "one row, for the tenant reached:\n%s", out)
	assert.Contains(t, out, "(cancelled: 6 not fully checked)")
}
