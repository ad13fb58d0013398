package sam

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

var (
	_ Store = (*FileStore)(nil)
	_ Store = (*EnvStore)(nil)
)

// Values that must never appear in an error.
const (
	testSecret     = "s3cr3t~Value.With_Symbols-0123456789"
	testRT         = "1.AQ-sam-refresh-token-value"
	testExchangeRT = "1.AQ-exchange-refresh-token-value"
)

func testCredentials() token.Credentials {
	return token.Credentials{
		TenantID:             "11111111-1111-1111-1111-111111111111",
		ApplicationID:        "22222222-2222-2222-2222-222222222222",
		ClientSecret:         token.NewSecret(testSecret),
		RefreshToken:         token.NewSecret(testRT),
		ExchangeRefreshToken: token.NewSecret(testExchangeRT),
	}
}

// newTestStore returns a store for a file in a fresh directory, with a
// fixed clock.
func newTestStore(t *testing.T, opts ...FileStoreOption) *FileStore {
	t.Helper()
	s := NewFileStore(filepath.Join(t.TempDir(), "config", "samkit", "credentials.json"), opts...)
	s.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)) }
	return s
}

// readDoc reads the file as JSON, bypassing the store.
func readDoc(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	return doc
}

func assertSameCredentials(t *testing.T, got, want token.Credentials) {
	t.Helper()
	if got.TenantID != want.TenantID || got.ApplicationID != want.ApplicationID ||
		!got.ClientSecret.Equal(want.ClientSecret) || !got.RefreshToken.Equal(want.RefreshToken) ||
		!got.ExchangeRefreshToken.Equal(want.ExchangeRefreshToken) || (got.Certificate == nil) != (want.Certificate == nil) {
		t.Errorf("credentials differ:\n got tenant %q app %q secret=%t rt=%t exrt=%t cert=%t\nwant tenant %q app %q",
			got.TenantID, got.ApplicationID, got.ClientSecret.Equal(want.ClientSecret), got.RefreshToken.Equal(want.RefreshToken),
			got.ExchangeRefreshToken.Equal(want.ExchangeRefreshToken), got.Certificate != nil, want.TenantID, want.ApplicationID)
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t, WithFileCloud(cloud.USGovernment))
	want := testCredentials()
	if err := s.Save(ctx, want); err != nil {
		t.Fatalf("Save() error = %v", err)
	}
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	assertSameCredentials(t, got, want)

	c, err := s.Cloud(ctx)
	if err != nil || c.Name != "usgov" {
		t.Errorf("Cloud() = %q, %v; want usgov, nil", c.Name, err)
	}
	wantDoc := map[string]any{
		"version":              float64(1),
		"tenantId":             want.TenantID,
		"applicationId":        want.ApplicationID,
		"clientSecret":         testSecret,
		"refreshToken":         testRT,
		"exchangeRefreshToken": testExchangeRT,
		"cloud":                "usgov",
		"savedAt":              "2026-01-02T02:04:05Z",
		// Save is given tokens just obtained.
		"refreshTokenObtainedAt":         "2026-01-02T02:04:05.000000006Z",
		"exchangeRefreshTokenObtainedAt": "2026-01-02T02:04:05.000000006Z",
	}
	if doc := readDoc(t, s.Path()); fmt.Sprint(doc) != fmt.Sprint(wantDoc) {
		t.Errorf("file holds %v, want %v", doc, wantDoc)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]fs.FileMode{s.Path(): 0o600, filepath.Dir(s.Path()): 0o700} {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("mode of %s = %04o, want %04o", path, got, want)
			}
		}
	}

	// A store without WithFileCloud keeps the cloud already recorded.
	again := NewFileStore(s.Path())
	if err := again.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	if c, err := again.Cloud(ctx); err != nil || c.Name != "usgov" {
		t.Errorf("Cloud() after a Save without WithFileCloud = %q, %v; want usgov", c.Name, err)
	}
}

func TestFileStoreMissingFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	_, err := s.Load(ctx)
	if !errors.Is(err, ErrNoCredentials) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load() error = %v, want ErrNoCredentials and fs.ErrNotExist", err)
	}
	if err := s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret(testRT)); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("SaveRefreshToken() without a file: error = %v, want ErrNoCredentials", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SaveRefreshToken created %s without credentials", s.Path())
	}
	if c, err := NewFileStore(s.Path()).Cloud(ctx); err == nil {
		t.Errorf("Cloud() without a file = %v, want an error", c.Name)
	}
}

func TestFileStoreRefusesReadableFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no group and other permission bits")
	}
	for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newTestStore(t)
			if err := s.Save(ctx, testCredentials()); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(s.Path(), mode); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(ctx)
			if err == nil {
				t.Fatalf("Load() of a %04o file succeeded, want an error", mode)
			}
			if want := "chmod 600 " + s.Path(); !strings.Contains(err.Error(), want) {
				t.Errorf("Load() error = %q, want it to contain %q", err, want)
			}
			for _, op := range []func() error{
				func() error { return s.Save(ctx, testCredentials()) },
				func() error { return s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("new")) },
			} {
				if err := op(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
					t.Errorf("writing over a %04o file: error = %v, want the chmod hint", mode, err)
				}
			}
		})
	}
}

func TestFileStoreAtomicReplace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Save(ctx, testCredentials()); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}

	changed := testCredentials()
	changed.RefreshToken = token.NewSecret("a-newer-refresh-token")
	injected := errors.New("disk on fire")
	var sawTemp string
	s.beforeRename = func(tmp string) error {
		sawTemp = tmp
		info, err := os.Stat(tmp)
		if err != nil {
			t.Errorf("temporary file: %v", err)
		} else if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Errorf("temporary file mode = %04o, want 0600", info.Mode().Perm())
		}
		if filepath.Dir(tmp) != filepath.Dir(s.Path()) {
			t.Errorf("temporary file %s is not in the credentials directory", tmp)
		}
		return injected
	}
	for name, op := range map[string]func() error{
		"Save":             func() error { return s.Save(ctx, changed) },
		"SaveRefreshToken": func() error { return s.SaveRefreshToken(ctx, token.RefreshSAM, changed.RefreshToken) },
	} {
		sawTemp = ""
		if err := op(); !errors.Is(err, injected) {
			t.Errorf("%s() error = %v, want the injected failure", name, err)
		}
		if sawTemp == "" {
			t.Fatalf("%s() never reached the rename", name)
		}
		after, err := os.ReadFile(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if string(after) != string(before) {
			t.Errorf("after a failed %s the file changed:\n%s\nwant\n%s", name, after, before)
		}
		entries, err := os.ReadDir(filepath.Dir(s.Path()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "credentials.json" && e.Name() != "credentials.json.lock" {
				t.Errorf("after a failed %s, %s is left in the directory", name, e.Name())
			}
		}
	}

	s.beforeRename = nil
	if err := s.Save(ctx, changed); err != nil {
		t.Fatalf("Save() after the failures: %v", err)
	}
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertSameCredentials(t, got, changed)
}

func TestFileStoreSaveRefreshToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tests := []struct {
		kind  token.RefreshKind
		field string
	}{
		{token.RefreshSAM, "refreshToken"},
		{token.RefreshExchange, "exchangeRefreshToken"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, WithFileCloud(cloud.China))
			if err := s.Save(ctx, testCredentials()); err != nil {
				t.Fatal(err)
			}
			want := readDoc(t, s.Path())
			s.now = func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }
			if err := s.SaveRefreshToken(ctx, tt.kind, token.NewSecret("rotated")); err != nil {
				t.Fatalf("SaveRefreshToken() error = %v", err)
			}
			want[tt.field] = "rotated"
			want[tt.field+"ObtainedAt"] = "2026-02-01T00:00:00Z"
			want["savedAt"] = "2026-02-01T00:00:00Z"
			if got := readDoc(t, s.Path()); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after SaveRefreshToken the file holds\n%v\nwant\n%v", got, want)
			}
		})
	}

	s := newTestStore(t)
	if err := s.Save(ctx, testCredentials()); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRefreshToken(ctx, token.RefreshSAM, token.Secret{}); err == nil {
		t.Errorf("SaveRefreshToken() of an empty token succeeded, want an error")
	}
	if err := s.SaveRefreshToken(ctx, token.RefreshKind(99), token.NewSecret("x")); err == nil {
		t.Errorf("SaveRefreshToken() of an unknown kind succeeded, want an error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.SaveRefreshToken(cancelled, token.RefreshSAM, token.NewSecret("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveRefreshToken() with a cancelled context: error = %v, want context.Canceled", err)
	}
}

func TestFileStoreConcurrentSaveRefreshToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Save(ctx, testCredentials()); err != nil {
		t.Fatal(err)
	}
	// A second store on the same file stands for another process: only the
	// file lock orders it against the first.
	other := NewFileStore(s.Path())
	const n = 50
	saved := map[string]bool{}
	var wg sync.WaitGroup
	for i := range n {
		rt := fmt.Sprintf("rotated-%02d", i)
		saved[rt] = true
		store := s
		if i%2 == 1 {
			store = other
		}
		wg.Go(func() {
			if err := store.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret(rt)); err != nil {
				t.Errorf("SaveRefreshToken(%s) error = %v", rt, err)
			}
		})
	}
	wg.Wait()
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load() after concurrent saves: %v", err)
	}
	if !saved[got.RefreshToken.Reveal()] {
		t.Errorf("refresh token after concurrent saves is none of those saved")
	}
	want := testCredentials()
	want.RefreshToken = got.RefreshToken
	assertSameCredentials(t, got, want)
}

func TestFileStoreCorruptFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not JSON", `{"tenantId": "t", "refreshToken": ` + testRT + `}`, "not valid JSON (error at byte"},
		{"truncated", `{"tenantId": "t", "refreshToken": "` + testRT, "not a credentials file"},
		{"unknown field", `{"tenantId":"t","applicationId":"a","refresh_token":"` + testRT + `"}`, `unknown field "refresh_token"`},
		{"wrong type", `{"tenantId":"t","applicationId":"a","refreshToken":42}`, `"refreshToken" must be a string`},
		{"newer format", `{"version":2,"tenantId":"t","applicationId":"a"}`, "newer samkit"},
		{"no tenant", `{"applicationId":"a","refreshToken":"` + testRT + `"}`, "no tenantId"},
		{"no application", `{"tenantId":"t"}`, "no applicationId"},
		{"trailing data", `{"tenantId":"t","applicationId":"a"} {"x":1}`, "data after"},
		{"bad cloud", `{"tenantId":"t","applicationId":"a","cloud":"mars"}`, "unknown cloud"},
		{"missing certificate", `{"tenantId":"t","applicationId":"a","certificatePath":"nope.pem"}`, "nope.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			if err := os.MkdirAll(filepath.Dir(s.Path()), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(t.Context())
			if tt.name == "bad cloud" {
				_, err = s.Cloud(t.Context())
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), s.Path()) {
				t.Errorf("error = %q, want it to name %s", err, s.Path())
			}
			if strings.Contains(err.Error(), testRT) {
				t.Errorf("error = %q reveals the refresh token", err)
			}
		})
	}
}

func TestFileStoreCertificate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t, WithCertificateFile("sam.pem", token.Secret{}))
	if err := os.MkdirAll(filepath.Dir(s.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	writeTestCertificate(t, filepath.Join(filepath.Dir(s.Path()), "sam.pem"))
	want := testCredentials()
	want.ClientSecret = token.Secret{}
	if err := s.Save(ctx, want); err != nil {
		t.Fatalf("Save() error = %v", err)
	}
	if doc := readDoc(t, s.Path()); doc["certificatePath"] != "sam.pem" {
		t.Errorf("certificatePath = %v, want sam.pem", doc["certificatePath"])
	}
	got, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if got.Certificate == nil || len(got.Certificate.Chain) != 1 || got.Certificate.Key == nil {
		t.Fatalf("Load() certificate = %+v, want the one in sam.pem", got.Certificate)
	}

	// Saving what was loaded, without the option, keeps the path.
	plain := NewFileStore(s.Path())
	if err := plain.Save(ctx, got); err != nil {
		t.Fatalf("Save() of loaded certificate credentials: %v", err)
	}
	if doc := readDoc(t, s.Path()); doc["certificatePath"] != "sam.pem" {
		t.Errorf("certificatePath after a second Save = %v, want sam.pem", doc["certificatePath"])
	}
}

// TestFileStoreWritesCertificate: a certificate with no path on record is
// written beside the credentials as PEM with its key, mode 0600, named in
// the file; a new one replaces it, and the old PEM file goes.
func TestFileStoreWritesCertificate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	first, err := NewCertificate(CertificateOptions{Subject: "samkit test"})
	require.NoError(t, err)
	c := testCredentials()
	c.ClientSecret, c.Certificate = token.Secret{}, first
	require.NoError(t, s.Save(ctx, c))

	doc := readDoc(t, s.Path())
	name, _ := doc["certificatePath"].(string)
	require.NotEmpty(t, name, "the file should name the certificate it wrote")
	assert.False(t, filepath.IsAbs(name), "the path is relative to the credentials file, so the folder can move")
	pemPath := filepath.Join(filepath.Dir(s.Path()), name)
	info, err := os.Stat(pemPath)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the PEM file holds the private key")
	}
	b, err := os.ReadFile(pemPath)
	require.NoError(t, err)
	assert.Contains(t, string(b), "PRIVATE KEY", "the PEM keeps the key the app signs with")
	got, err := s.Load(ctx)
	require.NoError(t, err)
	require.NotNil(t, got.Certificate)
	assert.Equal(t, first.Thumbprint(), got.Certificate.Thumbprint())

	second, err := NewCertificate(CertificateOptions{Subject: "samkit test"})
	require.NoError(t, err)
	c.Certificate = second
	require.NoError(t, s.saveAppCredential(ctx, c))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, second.Thumbprint(), got.Certificate.Thumbprint())
	_, err = os.Stat(pemPath)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the replaced certificate's key should not linger on disk")
}

func TestFileStoreSaveNeedsIDs(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	for _, c := range []token.Credentials{{TenantID: "t"}, {ApplicationID: "a"}} {
		if err := s.Save(t.Context(), c); err == nil {
			t.Errorf("Save(%q, %q) succeeded, want an error", c.TenantID, c.ApplicationID)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Parallel()
	p, err := DefaultPath()
	if err != nil {
		t.Skipf("no configuration directory here: %v", err)
	}
	if filepath.Base(p) != "credentials.json" || filepath.Base(filepath.Dir(p)) != "samkit" {
		t.Errorf("DefaultPath() = %s, want …/samkit/credentials.json", p)
	}
}

func TestErrorsRevealNoSecret(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var errs []error
	collect := func(err error) {
		if err == nil {
			t.Errorf("expected an error, got nil")
			return
		}
		errs = append(errs, err)
	}

	s := newTestStore(t)
	if err := s.Save(ctx, testCredentials()); err != nil {
		t.Fatal(err)
	}
	s.beforeRename = func(string) error { return errors.New("injected") }
	collect(s.Save(ctx, testCredentials()))
	collect(s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret(testRT)))
	s.beforeRename = nil
	if runtime.GOOS != "windows" {
		if err := os.Chmod(s.Path(), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx)
		collect(err)
	}
	for _, content := range []string{
		`{"tenantId":"t","applicationId":"a","clientSecret":` + testSecret + `}`,
		`{"tenantId":"t","applicationId":"a","clientSecret":"` + testSecret + `","x":"` + testRT + `"}`,
		`{"tenantId":"t","applicationId":"a","refreshToken":"` + testRT + `","savedAt":"` + testExchangeRT + `"}`,
	} {
		if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(s.Path(), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx)
		collect(err)
	}
	withCert := testCredentials()
	withCert.Certificate = &token.Certificate{}
	collect(newTestStore(t).Save(ctx, withCert))

	env := &EnvStore{Lookup: mapLookup(map[string]string{envApplicationID: "a", envClientSecret: testSecret, envRefreshToken: testRT})}
	_, err := env.Load(ctx)
	collect(err)
	collect(env.Save(ctx, testCredentials()))
	collect(env.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret(testRT)))
	env.OnRotate = func(context.Context, token.RefreshKind, token.Secret) error { return errors.New("vault unreachable") }
	collect(env.SaveRefreshToken(ctx, token.RefreshExchange, token.NewSecret(testExchangeRT)))

	for _, err := range errs {
		for _, format := range []string{"%v", "%+v", "%#v"} {
			msg := fmt.Sprintf(format, err)
			for _, secret := range []string{testSecret, testRT, testExchangeRT} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q reveals a secret", msg)
				}
			}
		}
	}
}

// The crash test runs the test binary again as a child that saves new
// versions of the credentials in a loop, kills it at a random moment, and
// checks that the file is always one complete version.
const crashChildEnv = "SAMKIT_TEST_CRASH_STORE"

func crashVersion(round, n int) token.Credentials {
	c := testCredentials()
	v := fmt.Sprintf("%d-%d", round, n)
	c.ClientSecret = token.NewSecret("secret-" + v)
	c.RefreshToken = token.NewSecret("rt-" + v)
	c.ExchangeRefreshToken = token.NewSecret("exrt-" + v)
	return c
}

func runCrashChild(path string) {
	round, _ := strconv.Atoi(os.Getenv(crashChildEnv + "_ROUND"))
	s := NewFileStore(path)
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second) // never outlive a parent that failed to kill it
	for n := 0; time.Now().Before(deadline); n++ {
		if err := s.Save(ctx, crashVersion(round, n)); err != nil {
			fmt.Println("crash-child-error", err)
			os.Exit(1)
		}
		if n == 0 {
			fmt.Println("crash-child-ready")
		}
	}
	os.Exit(0)
}

func TestFileStoreCrashSafety(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		runCrashChild(path)
		return
	}
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Save(ctx, crashVersion(-1, 0)); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFileStoreCrashSafety$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+s.Path(), crashChildEnv+"_ROUND="+strconv.Itoa(round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		ready := false
		for !ready && lines.Scan() {
			if strings.HasPrefix(lines.Text(), "crash-child-error") {
				t.Fatalf("child: %s", lines.Text())
			}
			ready = lines.Text() == "crash-child-ready"
		}
		if !ready {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: the child never saved", round)
		}
		// Let it write for a moment; the kill must land mid-loop, wherever.
		time.Sleep(time.Duration(mrand.IntN(20_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		got, err := s.Load(ctx)
		if err != nil {
			t.Fatalf("round %d: after the kill, Load() error = %v", round, err)
		}
		rt := got.RefreshToken.Reveal()
		v, ok := strings.CutPrefix(rt, fmt.Sprintf("rt-%d-", round))
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			t.Fatalf("round %d: after the kill the refresh token is not one the child saved", round)
		}
		assertSameCredentials(t, got, crashVersion(round, n))
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path()), s.tempPattern()))
		t.Logf("round %d: killed after version %d; %d temporary files left", round, n, len(leftovers))
	}

	// The next write clears what the killed writers left behind.
	if err := s.Save(ctx, crashVersion(99, 0)); err != nil {
		t.Fatal(err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path()), s.tempPattern())); len(leftovers) > 0 {
		t.Errorf("temporary files left after a successful save: %v", leftovers)
	}
}

// testCertificatePEM is a self-signed certificate and its RSA key, made
// once: RSA key generation is slow under the race detector.
var testCertificatePEM = sync.OnceValues(func() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "samkit test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(b, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...), nil
})

// writeTestCertificate writes the test certificate and its key as PEM.
func writeTestCertificate(t *testing.T, path string) {
	t.Helper()
	b, err := testCertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFileStoreKeepsCertificateItDidNotWrite: a rotation away from a
// certificate file a person chose leaves that file alone.
func TestFileStoreKeepsCertificateItDidNotWrite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(s.Path()), 0o700))
	mine := filepath.Join(filepath.Dir(s.Path()), "credentials.cert-prod.pem")
	writeTestCertificate(t, mine)
	require.NoError(t, NewFileStore(s.Path(), WithCertificateFile(filepath.Base(mine), token.Secret{})).Save(ctx, testCredentials()))
	c, err := s.Load(ctx)
	require.NoError(t, err)
	require.NotNil(t, c.Certificate)

	c.Certificate, err = NewCertificate(CertificateOptions{Subject: "next"})
	require.NoError(t, err)
	require.NoError(t, s.saveAppCredential(ctx, c))
	_, err = os.Stat(mine)
	assert.NoError(t, err, "a certificate file samkit did not write is never removed")
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, c.Certificate.Thumbprint(), got.Certificate.Thumbprint())
}

// TestFileStoreCertificateFileGivesWayToNewCertificate: a store opened
// with WithCertificateFile that is asked to keep another certificate (a
// rotation's new one) keeps that one, in a file of its own, and leaves the
// person's file alone: recording the old path would leave the store
// holding the certificate the rotation then removes from the app.
func TestFileStoreCertificateFileGivesWayToNewCertificate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t, WithCertificateFile("sam.pem", token.Secret{}))
	require.NoError(t, os.MkdirAll(filepath.Dir(s.Path()), 0o700))
	mine := filepath.Join(filepath.Dir(s.Path()), "sam.pem")
	writeTestCertificate(t, mine)
	c := testCredentials()
	c.ClientSecret = token.Secret{}
	require.NoError(t, s.Save(ctx, c))
	c, err := s.Load(ctx)
	require.NoError(t, err)
	require.NotNil(t, c.Certificate)
	require.NoError(t, s.Save(ctx, c), "saving the certificate the file holds records its path")
	assert.Equal(t, "sam.pem", readDoc(t, s.Path())["certificatePath"])

	next, err := NewCertificate(CertificateOptions{Subject: "next"})
	require.NoError(t, err)
	c.Certificate = next
	require.NoError(t, s.saveAppCredential(ctx, c))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	require.NotNil(t, got.Certificate)
	assert.Equal(t, next.Thumbprint(), got.Certificate.Thumbprint(), "the store must hold the certificate it was given")
	_, err = os.Stat(mine)
	assert.NoError(t, err, "the person's certificate file is never removed")

	other, err := NewCertificate(CertificateOptions{Subject: "other"})
	require.NoError(t, err)
	c.Certificate = other
	require.NoError(t, s.Save(ctx, c))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, other.Thumbprint(), got.Certificate.Thumbprint(), "Save keeps the certificate it was given too")
}

// TestFileStoreFailedSaveLeavesNoKeyFile: a save of a new certificate
// that fails leaves no file with its private key: not when it fails before
// anything is renamed into place, nor when the credentials file cannot be
// replaced after the new certificate's PEM was: nothing names that PEM,
// so nothing would ever remove it later.
func TestFileStoreFailedSaveLeavesNoKeyFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	dir := filepath.Dir(s.Path())
	first, err := NewCertificate(CertificateOptions{Subject: "first"})
	require.NoError(t, err)
	c := testCredentials()
	c.ClientSecret, c.Certificate = token.Secret{}, first
	require.NoError(t, s.Save(ctx, c))
	pems := func() []string {
		m, err := filepath.Glob(filepath.Join(dir, "*.pem"))
		require.NoError(t, err)
		return m
	}
	before := pems()
	require.Len(t, before, 1)

	fails := map[string]func(tmp string) error{
		"before the renames": func(string) error { return errors.New("injected") },
	}
	if runtime.GOOS != "windows" {
		// A folder where the credentials file was: the PEM is renamed
		// into place, then the credentials file's rename fails.
		fails["at the credentials file's rename"] = func(string) error {
			require.NoError(t, os.Rename(s.Path(), s.Path()+".aside"))
			require.NoError(t, os.MkdirAll(filepath.Join(s.Path(), "in-the-way"), 0o700))
			return nil
		}
	}
	next, err := NewCertificate(CertificateOptions{Subject: "next"})
	require.NoError(t, err)
	c.Certificate = next
	for name, save := range map[string]func(token.Credentials) error{
		"Save":              func(c token.Credentials) error { return s.Save(ctx, c) },
		"saveAppCredential": func(c token.Credentials) error { return s.saveAppCredential(ctx, c) },
	} {
		for how, fail := range fails {
			calls := 0
			s.beforeRename = func(tmp string) error { calls++; return fail(tmp) }
			require.Error(t, save(c), "%s, failing %s", name, how)
			s.beforeRename = nil
			require.Equal(t, 1, calls, "%s, failing %s: the save reaches the credentials file", name, how)
			if _, err := os.Stat(s.Path() + ".aside"); err == nil {
				require.NoError(t, os.RemoveAll(s.Path()))
				require.NoError(t, os.Rename(s.Path()+".aside", s.Path()))
			}
			assert.Equal(t, before, pems(), "%s, failing %s: only the stored certificate's PEM remains", name, how)
			assert.Empty(t, tempFiles(t, s, dir), "%s, failing %s: no temporary file holds the key", name, how)
			got, err := s.Load(ctx)
			require.NoError(t, err)
			assert.Equal(t, first.Thumbprint(), got.Certificate.Thumbprint(), "%s, failing %s: the store keeps the first certificate", name, how)
		}
	}
}

// TestFileStoreRefusesLoosenedCertificateFile: the PEM the store wrote,
// 0600, holds the app's private key in clear; like the credentials file,
// it is refused once others can read it.
func TestFileStoreRefusesLoosenedCertificateFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no such mode bits")
	}
	t.Parallel()
	ctx := t.Context()
	s := newTestStore(t)
	cert, err := NewCertificate(CertificateOptions{Subject: "samkit test"})
	require.NoError(t, err)
	c := testCredentials()
	c.ClientSecret, c.Certificate = token.Secret{}, cert
	require.NoError(t, s.Save(ctx, c))
	name, _ := readDoc(t, s.Path())["certificatePath"].(string)
	require.NotEmpty(t, name)
	pemPath := filepath.Join(filepath.Dir(s.Path()), name)
	require.NoError(t, os.Chmod(pemPath, 0o644))

	_, err = s.Load(ctx)
	require.Error(t, err)
	var se *StoreError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Fix, "chmod 600 "+pemPath)
	assert.NotContains(t, err.Error(), "PRIVATE KEY")
}
