package connect

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExamplesImportOnlyPublicPackages keeps every example copyable: a
// program outside samkit cannot import an internal package.
func TestExamplesImportOnlyPublicPackages(t *testing.T) {
	t.Parallel()
	files := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.False(t, p == "internal" || strings.HasPrefix(p, "internal/") || strings.Contains(p, "/internal/") || strings.HasSuffix(p, "/internal"),
				"%s imports %s: examples use public packages only", path, p)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 10, "the examples were found")
}

func TestPlainSpellsOutWhatATerminalActsOn(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`Contoso "Ltd" ✓ Zoë`: `Contoso "Ltd" ✓ Zoë`,
		"Contoso\n✓ Fabrikam": `Contoso\n✓ Fabrikam`,
		"\x1b]0;pwned\x07":    `\x1b]0;pwned\a`,
		"moc.elgoog\u202e":    `moc.elgoog\u202e`,
		"a\\b":                `a\\b`,
	} {
		assert.Equal(t, want, Plain(in), "%q", in)
	}
}
