package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// samctl runs the command line in-process and returns its exit code and
// what it wrote.
func samctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return samctlCtx(t.Context(), args...)
}

func samctlCtx(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// isolate keeps a test away from the user's credentials, cache and
// SAMKIT_ variables.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", dir)
	for _, v := range []string{"SAMKIT_TENANT_ID", "SAMKIT_APPLICATION_ID", "SAMKIT_CLIENT_SECRET", "SAMKIT_REFRESH_TOKEN",
		"SAMKIT_EXCHANGE_REFRESH_TOKEN", "SAMKIT_CERTIFICATE_PATH", "SAMKIT_CERTIFICATE_PASSWORD", "SAMKIT_CLOUD",
		"TenantId", "ApplicationId", "ApplicationSecret", "RefreshToken", "ExchangeRefreshToken"} {
		t.Setenv(v, "")
	}
	return dir
}

// writeCA writes a sandbox's certificate where --sandbox-ca can read it.
func writeCA(t *testing.T, s *testserver.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sandbox.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate()}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type demoOutput struct {
	AsDesigned    bool     `json:"asDesigned"`
	Differences   []string `json:"differences"`
	Summary       string   `json:"summary"`
	Tenants       int      `json:"tenants"`
	FailedTenants int      `json:"failedTenants"`
	Requests      int      `json:"requests"`
	TokenRequests int      `json:"tokenRequests"`
	DurationMS    int64    `json:"duration_ms"`
	// ThrottledWaitMS is the part of DurationMS spent waiting out the
	// throttled customer.
	ThrottledWaitMS int64                   `json:"throttled_wait_ms"`
	Totals          map[sam.Check]sam.Tally `json:"totals"`
	Failures        []failureJSON           `json:"failures"`
	Broken          []sandboxCustomerJS     `json:"broken"`
}

// TestDemoJSON runs the demo and checks its report against the sandbox's
// design: the failures are exactly the broken customers.
func TestDemoJSON(t *testing.T) {
	isolate(t)
	s, info := testserver.NewSandbox(testserver.SandboxSpec{})
	s.Close()
	var graphBroken, exchangeBroken int
	var brokenNames []string
	for _, c := range info.Customers {
		if c.Problem.BreaksGraph() {
			graphBroken++
		}
		if c.Problem.BreaksExchange() {
			exchangeBroken++
			brokenNames = append(brokenNames, c.Name)
		}
	}
	for _, tc := range []struct {
		args    []string
		tenants int
	}{
		{[]string{"demo", "--json"}, testserver.DefaultSandboxCustomers},
		// Above the default size the consent is given directly.
		{[]string{"demo", "--json", "--tenants", "60", "--concurrency", "8", "--latency", "1ms"}, 60},
	} {
		code, stdout, stderr := samctl(t, tc.args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d, stderr:\n%s", tc.args, code, stderr)
		}
		var got demoOutput
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v: output is not one JSON object: %v\n%s", tc.args, err, stdout)
		}
		if !got.AsDesigned || len(got.Differences) != 0 {
			t.Errorf("%v: asDesigned %v, differences %v", tc.args, got.AsDesigned, got.Differences)
		}
		if got.Tenants != tc.tenants || got.FailedTenants != len(info.Broken()) {
			t.Errorf("%v: got %d tenants, %d failed; want %d, %d", tc.args, got.Tenants, got.FailedTenants, tc.tenants, len(info.Broken()))
		}
		g, x := got.Totals[sam.CheckDelegatedGraph], got.Totals[sam.CheckDelegatedExchange]
		if g.Failed != graphBroken || g.Passed != tc.tenants-graphBroken || x.Failed != exchangeBroken || x.Passed != tc.tenants-exchangeBroken {
			t.Errorf("%v: totals %+v, want Graph failing in %d and Exchange in %d of %d", tc.args, got.Totals, graphBroken, exchangeBroken, tc.tenants)
		}
		var failed []string
		for _, f := range got.Failures {
			if f.Code == "" || f.Hint == "" {
				t.Errorf("%v: failure %+v has no code or hint", tc.args, f)
			}
			failed = append(failed, f.Tenant)
		}
		slices.Sort(failed)
		slices.Sort(brokenNames)
		if !slices.Equal(slices.Compact(failed), brokenNames) {
			t.Errorf("%v: failed tenants %v, want %v", tc.args, slices.Compact(failed), brokenNames)
		}
		// One token per resource and tenant: the provider's cache works.
		if got.TokenRequests != 2*tc.tenants || got.Requests <= got.TokenRequests {
			t.Errorf("%v: %d requests, %d for tokens; want %d token requests and more requests", tc.args, got.Requests, got.TokenRequests, 2*tc.tenants)
		}
		// The sandbox throttles one customer: the run waited, within its
		// duration.
		if got.ThrottledWaitMS <= 0 || got.ThrottledWaitMS > got.DurationMS {
			t.Errorf("%v: throttled_wait_ms %d of duration_ms %d; want a wait within the run", tc.args, got.ThrottledWaitMS, got.DurationMS)
		}
		want := strconv.Itoa(tc.tenants) + " total tenants, with 5 failures"
		if got.Summary != want {
			t.Errorf("%v: summary %q, want %q", tc.args, got.Summary, want)
		}
	}
}

// TestDemoText checks what a person sees: the steps, the table, the
// failures with their fixes, the summary, and the doctor's summary last.
func TestDemoText(t *testing.T) {
	isolate(t)
	code, stdout, stderr := samctl(t, "demo")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"1. Setup", markOK + " admin sign-in", "2. Customer tenants", "3. Consent push", "4. Access check",
		"TENANT", "Failures:", "AADSTS90099", "AADSTS50020", "AADSTS50076", "AADSTS90002", "fix: ", "As designed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	summary, onboard := strings.Index(stdout, "\n25 total tenants, with 5 failures\n"), strings.Index(stdout, "\n5. Onboarding")
	doctor := strings.Index(stdout, "\n6. Doctor")
	require.True(t, summary >= 0 && onboard > summary && doctor > onboard,
		"the check's summary, then the onboarding, then the doctor's section:\n%s", stdout)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	assert.Contains(t, lines[len(lines)-1], "samctl doctor", "the demo ends with the doctor's summary")
	// The closing note is two lines of samctl's own, not one line with
	// its break escaped.
	assert.True(t, slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Next: ") }),
		"the note's Next line stands on its own line")
	assert.NotContains(t, stdout, `\n`, "no escaped line break in the demo's own text")
}

// TestSetupThenCheck drives setup against a sandbox end to end, then
// pushes consent and checks access with the credentials it saved.
func TestSetupThenCheck(t *testing.T) {
	dir := isolate(t)
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 8, Healthy: true})
	defer s.Close()
	ca := writeCA(t, s)
	creds := filepath.Join(dir, "creds", "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", ca, "--credentials", creds}
	var outputs []string

	code, stdout, stderr := samctl(t, append([]string{"setup", "--display-name", "Test SAM"}, common...)...)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK {
		t.Fatalf("setup: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Credentials saved to "+creds) {
		t.Errorf("setup does not say where the credentials went:\n%s", stdout)
	}
	// The commands printed after "Next:" carry the flags setup ran with,
	// so that they can be pasted.
	flags := " " + strings.Join(common, " ")
	for _, want := range []string{"  samctl consent push --all" + flags + "\n", "  samctl check" + flags + "\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("setup's next steps lack %q:\n%s", want, stdout)
		}
	}
	st, err := os.Stat(creds)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v; want 0600", err, st.Mode())
	}
	saved, err := sam.NewFileStore(creds).Load(t.Context())
	if err != nil || saved.TenantID != info.Partner.TenantID || saved.RefreshToken.IsZero() || saved.ClientSecret.IsZero() {
		t.Fatalf("saved credentials: %v, tenant %s (want %s)", err, saved.TenantID, info.Partner.TenantID)
	}

	code, stdout, stderr = samctl(t, append([]string{"consent", "push", "--all"}, common...)...)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK || !strings.Contains(stdout, "8 tenants, 8 consented, 0 failed") {
		t.Fatalf("consent push: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = samctl(t, append([]string{"check", "--json"}, common...)...)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK {
		t.Fatalf("check: exit %d\n%s%s", code, stdout, stderr)
	}
	var rep checkJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("check --json: %v\n%s", err, stdout)
	}
	if !rep.OK || rep.Tenants != 8 || rep.Totals[sam.CheckDelegatedGraph].Passed != 8 || rep.Totals[sam.CheckDelegatedExchange].Passed != 8 {
		t.Errorf("check: ok %v, %d tenants, totals %+v; want all 8 passing", rep.OK, rep.Tenants, rep.Totals)
	}

	code, stdout, stderr = samctl(t, append([]string{"tenants", "--json"}, common...)...)
	outputs = append(outputs, stdout, stderr)
	var listed struct{ Tenants []sam.Tenant }
	if err := json.Unmarshal([]byte(stdout), &listed); err != nil || code != exitOK || len(listed.Tenants) != 8 {
		t.Errorf("tenants --json: exit %d, %v, %d tenants; want 8", code, err, len(listed.Tenants))
	}
	code, stdout, stderr = samctl(t, append([]string{"consent", "push", info.Customers[1].Domain}, common...)...)
	outputs = append(outputs, stdout, stderr)
	if code != exitOK || !strings.Contains(stdout, info.Customers[1].Name+": already consented") {
		t.Errorf("consent push by domain: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr = samctl(t, append([]string{"consent", "push", "nosuch.example.com"}, common...)...); code != exitFailed || !strings.Contains(stderr, "samctl tenants") {
		t.Errorf("consent push to an unknown domain: exit %d, stderr %q", code, stderr)
	}

	for _, args := range [][]string{{"tenants"}, {"inspect"}, {"token", info.Customers[0].ID, "graph"}, {"token", info.Customers[0].ID, "exchange", "--json"}} {
		code, stdout, stderr = samctl(t, append(args, common...)...)
		outputs = append(outputs, stdout, stderr)
		if code != exitOK {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
	// The refresh token rotated as the commands ran: read the newest.
	saved, _ = sam.NewFileStore(creds).Load(t.Context())
	for _, out := range outputs {
		for _, secret := range []string{saved.ClientSecret.Reveal(), saved.RefreshToken.Reveal(), "eyJ"} {
			if strings.Contains(out, secret) {
				t.Fatalf("a secret or token appears in the output:\n%s", out)
			}
		}
	}

	code, stdout, _ = samctl(t, append([]string{"token", info.Customers[0].ID, "graph", "--reveal"}, common...)...)
	if tok := strings.TrimSpace(stdout); code != exitOK || !strings.HasPrefix(tok, "eyJ") || strings.Count(tok, ".") != 2 {
		t.Errorf("token --reveal: exit %d, printed %d bytes that are not one JWT", code, len(tok))
	}
}

// TestSetupFailureLeavesNothing makes the consent prompt fail: setup says
// what to fix, that nothing was left behind, and writes no file.
func TestSetupFailureLeavesNothing(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 6, Healthy: true})
	defer s.Close()
	s.Mutate(func(w *testserver.World) { w.Authorize.Deny = true })
	creds := filepath.Join(dir, "sam.json")
	code, _, stderr := samctl(t, "setup", "--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "step consent (nothing was left behind)") || !strings.HasPrefix(lines[1], "  fix: ") {
		t.Errorf("stderr is not the failure and its fix in two lines:\n%s", stderr)
	}
	if _, err := os.Stat(creds); err == nil {
		t.Error("a failed setup wrote the credentials file")
	}
	s.Read(func(w *testserver.World) {
		for _, a := range w.Apps {
			if a.DisplayName == sam.DefaultDisplayName {
				t.Error("a failed setup left its app behind")
			}
		}
	})
}

// commandPaths lists every command of samctl, subcommands included, but
// cobra's own (help, completion).
func commandPaths(c *cobra.Command, prefix []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		if sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		p := append(slices.Clone(prefix), sub.Name())
		out = append(out, p)
		out = append(out, commandPaths(sub, p)...)
	}
	return out
}

func TestHelp(t *testing.T) {
	isolate(t)
	paths := append([][]string{{}}, commandPaths((&app{stdout: io.Discard, stderr: io.Discard}).rootCommand(), nil)...)
	if len(paths) < 11 {
		t.Fatalf("found %d commands, want at least 11", len(paths))
	}
	for _, p := range paths {
		code, stdout, stderr := samctl(t, append(p, "--help")...)
		if code != exitOK || !strings.Contains(stdout, "Example") || stderr != "" {
			t.Errorf("samctl %s --help: exit %d, Example shown %v, stderr %q", strings.Join(p, " "), code, strings.Contains(stdout, "Example"), stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"check", "--frobnicate"},
		{"demo", "--tenants", "many"},
		{"nosuch"},
		{"token", "contoso.onmicrosoft.com"},
		{"token", "bad/tenant", "graph"},
		{"check", "--checks", "everything"},
		{"consent", "push"},
		{"sandbox", "--addr", "0.0.0.0:0"},
		{"sandbox", "--addr", "localhost:0"},
		{"sandbox", "--addr", "127.0.0.1.nip.io:0"},
		{"check", "--sandbox", "https://127.0.0.1:1", "--cloud", "usgov"},
		{"check", "--cloud", "mars"},
		{"consent", "push", "contoso.onmicrosoft.com", "--exclude", "x"},
	} {
		code, stdout, stderr := samctl(t, args...)
		if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "samctl: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and one line", args, code, stdout, stderr, exitUsage)
		}
	}
}

func TestMissingCredentials(t *testing.T) {
	dir := isolate(t)
	missing := filepath.Join(dir, "nowhere", "credentials.json")
	for _, args := range [][]string{{"check"}, {"tenants"}, {"inspect"}, {"rotate-secret"}, {"token", "contoso.onmicrosoft.com", "graph"}, {"consent", "push", "--all"}} {
		code, stdout, stderr := samctl(t, append(args, "--credentials", missing)...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitFailed || stdout != "" || len(lines) > 2 || !strings.Contains(lines[0], missing) || !strings.Contains(stderr, "samctl setup") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1, the path and the fix in two lines at most", args, code, stderr)
		}
	}
	// Without --credentials the default path is named.
	def, err := sam.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := samctl(t, "check"); code != exitFailed || !strings.Contains(stderr, def) {
		t.Errorf("check with no credentials anywhere: exit %d, stderr %q; want the default path %s", code, stderr, def)
	}
}

// TestSandboxCommand serves a sandbox, points check at it with the
// credentials it printed, and stops it as Ctrl-C would.
func TestSandboxCommand(t *testing.T) {
	isolate(t)
	info, stop := startSandbox(t, "--customers", "7")
	if len(info.Customers) != 7 || info.ApplicationID == "" || info.RefreshToken == "" {
		t.Fatalf("sandbox printed %+v", info)
	}
	for _, f := range []string{info.CAFile, info.CredentialsFile} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("sandbox file: %v", err)
		}
	}
	// --sandbox finds the certificate alone.
	code, stdout, stderr := samctl(t, "check", "--json", "--sandbox", info.URL, "--credentials", info.CredentialsFile)
	var rep checkJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailed || rep.Tenants != 7 || rep.FailedTenants != 5 {
		t.Errorf("check against the sandbox: exit %d, %v, %d tenants, %d failed; stderr %q", code, err, rep.Tenants, rep.FailedTenants, stderr)
	}
	// Credentials from a sandbox are refused for Microsoft's cloud.
	code, _, stderr = samctl(t, "check", "--credentials", info.CredentialsFile)
	if code != exitFailed || !strings.Contains(stderr, "--sandbox") {
		t.Errorf("sandbox credentials without --sandbox: exit %d, stderr %q", code, stderr)
	}

	if code := stop(); code != exitOK {
		t.Errorf("stopped sandbox: exit %d, want 0", code)
	}
	for _, f := range []string{info.CAFile, info.CredentialsFile} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is left behind by a stopped sandbox", f)
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/home/me/.config/samkit/credentials.json": "/home/me/.config/samkit/credentials.json",
		"https://127.0.0.1:8443":                   "https://127.0.0.1:8443",
		`C:\Users\me\sam.json`:                     `'C:\Users\me\sam.json'`,
		"/home/me/My Files/sam.json":               "'/home/me/My Files/sam.json'",
		"/tmp/it's.json":                           `'/tmp/it'"'"'s.json'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestInspectAndRotateLeftovers: a secret samkit added and an interrupted
// rotation left on the app is reported by inspect and removed by the next
// rotate-secret; a secret added by hand stays.
func TestInspectAndRotateLeftovers(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	if code, stdout, stderr := samctl(t, append([]string{"setup"}, common...)...); code != exitOK {
		t.Fatalf("setup: exit %d\n%s%s", code, stdout, stderr)
	}
	saved, err := sam.NewFileStore(creds).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const leftover, manual = "0f0f0f0f-0000-4000-8000-000000000001", "0f0f0f0f-0000-4000-8000-000000000002"
	s.Mutate(func(w *testserver.World) {
		app := w.Apps[saved.ApplicationID]
		now := time.Now()
		app.Passwords = append(app.Passwords,
			&testserver.PasswordCredential{KeyID: leftover, DisplayName: "samkit-managed 2026-01-01", Secret: "Lft8Q~leftover", Start: now, End: now.Add(time.Hour)},
			&testserver.PasswordCredential{KeyID: manual, DisplayName: "CI pipeline", Secret: "Man8Q~manual", Start: now, End: now.Add(time.Hour)})
	})

	code, stdout, stderr := samctl(t, append([]string{"inspect", "--json"}, common...)...)
	var in inspectJSON
	if err := json.Unmarshal([]byte(stdout), &in); err != nil || code != exitFailed {
		t.Fatalf("inspect with a leftover: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	flagged := map[string]bool{}
	for _, sec := range in.Secrets {
		flagged[sec.KeyID] = sec.Leftover
	}
	if !flagged[leftover] || flagged[manual] || len(flagged) != 3 {
		t.Errorf("inspect's leftovers = %v, want only %s", flagged, leftover)
	}
	if !strings.Contains(strings.Join(in.Problems, "\n"), "rotate-secret") {
		t.Errorf("inspect's problems %q do not say to run rotate-secret", in.Problems)
	}

	if code, stdout, stderr = samctl(t, append([]string{"rotate-secret"}, common...)...); code != exitOK || !strings.Contains(stdout, leftover) {
		t.Fatalf("rotate-secret: exit %d, want the leftover %s removed\n%s%s", code, leftover, stdout, stderr)
	}
	var keys []string
	s.Read(func(w *testserver.World) {
		for _, p := range w.Apps[saved.ApplicationID].Passwords {
			keys = append(keys, p.KeyID+" "+p.DisplayName)
		}
	})
	if len(keys) != 2 || !slices.Contains(keys, manual+" CI pipeline") {
		t.Errorf("secrets after rotate-secret = %v, want the new one and the one added by hand", keys)
	}
	if code, stdout, stderr = samctl(t, append([]string{"inspect"}, common...)...); code != exitOK {
		t.Errorf("inspect after rotate-secret: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestSetupUnwritableCredentials: a credentials file others can read fails
// setup before the admin is asked to sign in.
func TestSetupUnwritableCredentials(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no mode bits")
	}
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true})
	defer s.Close()
	creds := filepath.Join(dir, "sam.json")
	if err := os.WriteFile(creds, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(creds, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := samctl(t, "setup", "--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds)
	if code != exitFailed || !strings.Contains(stderr, "chmod 600 "+creds) || !strings.Contains(stderr, "fix: ") {
		t.Errorf("exit %d, want %d and the chmod fix; stderr:\n%s", code, exitFailed, stderr)
	}
	if n := s.Count(func(r testserver.Request) bool { return r.Service == "login" }); n != 0 {
		t.Errorf("%d sign-in requests, want none before the credentials file is known to be writable", n)
	}
}
