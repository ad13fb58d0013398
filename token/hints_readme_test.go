package token

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's table of hints from the hint table")

const (
	readmePath       = "../README.md"
	hintTableBegin   = "<!-- hint table: generated from token/hints.go by `go test ./token -run TestREADMEHintTable -update-readme` -->"
	hintTableEnd     = "<!-- end of hint table -->"
	readmeTenant     = "<tenant>"
	readmeScopeShown = "<scope>"
)

// hintTable renders codeAdvice as the README's table: what samctl prints
// as "fix:", for a tenant and scope shown as placeholders.
func hintTable() string {
	var b strings.Builder
	b.WriteString("| code | what it means | what samctl says to do |\n|---|---|---|\n")
	for _, a := range codeAdvice {
		codes := make([]string, len(a.codes))
		for i, c := range a.codes {
			codes[i] = fmt.Sprint(c)
		}
		fmt.Fprintf(&b, "| AADSTS%s | %s | %s |\n", strings.Join(codes, ", "), a.meaning, a.hint(readmeTenant, readmeScopeShown))
	}
	return b.String()
}

// The README's table of hints is the hint table, word for word.
func TestREADMEHintTable(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	doc := string(raw)
	i, j := strings.Index(doc, hintTableBegin), strings.Index(doc, hintTableEnd)
	require.True(t, i >= 0 && j > i, "the README has the markers of the hint table")
	want := hintTableBegin + "\n" + hintTable() + hintTableEnd
	if *updateREADME {
		require.NoError(t, os.WriteFile(readmePath, []byte(doc[:i]+want+doc[j+len(hintTableEnd):]), 0o644))
		return
	}
	assert.Equal(t, want, doc[i:j+len(hintTableEnd)], "run go test ./token -run TestREADMEHintTable -update-readme")
}

// Every hinted code can be made to happen against the fake (so that
// TestHintsEndToEnd tries it), and no code is hinted twice.
func TestHintTableCoverage(t *testing.T) {
	t.Parallel()
	fake := testserver.IdentityErrorCodes()
	seen := map[int]bool{}
	for _, a := range codeAdvice {
		require.NotEmpty(t, a.meaning)
		for _, c := range a.codes {
			assert.False(t, seen[c], "AADSTS%d is hinted twice", c)
			seen[c] = true
			assert.True(t, slices.Contains(fake, c), "the fake cannot answer AADSTS%d, so its hint is not tested end to end", c)
		}
	}
	assert.GreaterOrEqual(t, len(seen), 30)
}
