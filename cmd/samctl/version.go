package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/internal/httpx"
)

// version is the release samctl was built as, stamped by the release build
// (scripts/release.sh: -ldflags "-X main.version=v1.2.3"). A build
// without it ("go install", "go build") reports the module version Go
// recorded, or "(devel)".
var version string

// commit is the commit the release was built from, stamped beside version
// (-X main.commit=…) for builds whose build info lacks it: Go records it
// only when it finds the repository and git.
var commit string

// buildInfo is what "samctl version" reports.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	CommitAt  string `json:"commitTime,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if c, dirty := strings.CutSuffix(b.Commit, "-dirty"); dirty {
		b.Commit, b.Modified = c, true
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "(unknown)"
		}
		return b
	}
	if b.Version == "" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitAt = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// product is samctl's product in the User-Agent of the requests it makes,
// before samkit's: samctl/<version>, or a bare samctl for a build that
// recorded no version, or a stamped one a header cannot carry.
func (b buildInfo) product() string {
	p := "samctl/" + b.Version
	if strings.HasPrefix(b.Version, "(") || strings.Contains(b.Version, " ") || httpx.CheckProduct(p) != nil {
		return "samctl"
	}
	return p
}

// userAgentProduct is the build's product, read once.
var userAgentProduct = sync.OnceValue(func() string { return readBuildInfo().product() })

// String is the one line of "samctl --version".
func (b buildInfo) String() string {
	s := "samctl " + b.Version
	if b.Commit != "" {
		c := b.Commit[:min(len(b.Commit), 12)]
		if b.Modified {
			c += "-dirty"
		}
		s += " (commit " + c + ")"
	}
	return s + fmt.Sprintf(", %s, %s", b.GoVersion, b.Platform)
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show samctl's version, commit and Go version",
		Long: `version prints the release samctl was built as, the commit it was built
from and the Go toolchain that built it. Quote it in bug reports.`,
		Example: `  samctl version
  samctl version -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			b := readBuildInfo()
			if a.jsonOut {
				return a.printJSON(b)
			}
			printLine(a.stdout, b.String())
			return nil
		},
	}
}
