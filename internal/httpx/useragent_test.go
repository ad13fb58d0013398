package httpx

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProductOf(t *testing.T) {
	t.Parallel()
	dep := func(path, version string) *debug.Module { return &debug.Module{Path: path, Version: version} }
	cases := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"samkit is the program, released", &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.4.0"}}, true, "samkit/v1.4.0"},
		{"samkit is the program, between tags", &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.4.1-0.20261202135900-78ae099a1b2c+dirty"}}, true,
			"samkit/v1.4.1-0.20261202135900-78ae099a1b2c+dirty"},
		{"samkit is the program, built from its checkout", &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, true, "samkit"},
		{"samkit is a dependency", &debug.BuildInfo{Main: debug.Module{Path: "example.com/acme", Version: "v2.0.0"},
			Deps: []*debug.Module{dep("github.com/spf13/cobra", "v1.10.2"), dep(modulePath, "v1.3.2")}}, true, "samkit/v1.3.2"},
		{"samkit replaced by a local copy", &debug.BuildInfo{Main: debug.Module{Path: "example.com/acme"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v1.3.2", Replace: &debug.Module{Path: "../samkit"}}}}, true, "samkit/v1.3.2"},
		{"the program's version is not samkit's", &debug.BuildInfo{Main: debug.Module{Path: "example.com/acme", Version: "v2.0.0"}}, true, "samkit"},
		{"no build info", nil, false, "samkit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := productOf(func() (*debug.BuildInfo, bool) { return c.info, c.ok })
			assert.Equal(t, c.want, got, "the version Go recorded for %s, or none", modulePath)
		})
	}
}

// TestModulePathIsTheModules keeps modulePath in step with go.mod: a
// test binary's main module is the module under test.
func TestModulePathIsTheModules(t *testing.T) {
	t.Parallel()
	info, ok := debug.ReadBuildInfo()
	require.True(t, ok, "a test binary has build info")
	assert.Equal(t, modulePath, info.Main.Path, "modulePath must name samkit's module, or the User-Agent never finds its version")
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	samkit := samkitProduct()
	require.True(t, samkit == "samkit" || strings.HasPrefix(samkit, "samkit/"), "samkit's own product: %q", samkit)
	assert.Equal(t, samkit, UserAgent(""), "no product: samkit's alone")
	assert.Equal(t, "acme-msp/2.1 "+samkit, UserAgent("acme-msp/2.1"), "the caller's product comes first")

	h := UserAgentHeader("acme-msp/2.1")
	assert.Equal(t, []string{"acme-msp/2.1 " + samkit}, h)
	assert.Equal(t, 1, cap(h), "an append to a shared value must not write into it")
}

func TestCheckProduct(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"acme-msp/2.1", "samctl/v1.2.3", "Acme Portal/3 (+https://acme.example/bot)", "x", ""} {
		assert.NoError(t, CheckProduct(p), "%q is a product", p)
	}
	bad := map[string]string{
		" acme/1":                         "leading or trailing spaces",
		"acme/1\r\nAuthorization: x":      "control or non-ASCII",
		"acme/1\x00":                      "control or non-ASCII",
		"acmé/1":                          "control or non-ASCII",
		strings.Repeat("a", maxProduct+1): "at most 200 bytes",
	}
	for p, want := range bad {
		err := CheckProduct(p)
		require.Error(t, err, "%q must be refused", p)
		assert.Contains(t, err.Error(), want, "the error says what is wrong with %q", p)
	}
}
