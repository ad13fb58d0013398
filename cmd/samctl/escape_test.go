package main

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

func TestSafe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Contoso", "Contoso"},
		{"Ünïcödé ✓ 日本", "Ünïcödé ✓ 日本"},
		{"Evil\n✓ Forged", `Evil\n✓ Forged`},
		{"tab\there\r", `tab\there\r`},
		{"\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"del\x7f c1\u0085\u009b", `del\x7f c1\u0085\u009b`},
		{"moc.\u202eevil", `moc.\u202eevil`},
		{"\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c", `\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"bad \xff utf8", `bad \xff utf8`},
	} {
		assert.Equal(t, tc.want, safe(tc.in), "safe(%q)", tc.in)
	}
}

// hostile is a customer name that would forge a line, clear the screen
// and reverse text if printed as it is.
const hostile = "Evil Corp\n✓ Forged Ltd\x1b[2J\x1b]0;pwned\x07\u202eexe.txt\u2028\u0085"

// terminalActs reports the first character of s a terminal would act
// on, other than the newlines and tabs of samctl's own layout.
func terminalActs(s string) (rune, bool) {
	for _, r := range s {
		if r != '\n' && r != '\t' && unsafeRune(r) {
			return r, true
		}
	}
	return 0, false
}

// TestServerTextIsEscaped gives a customer tenant a hostile name in every
// source that names it, and reads what each command prints of it: the
// name is spelled out on its line, never obeyed.
func TestServerTextIsEscaped(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 4}, nil)
	var victim string
	s.Mutate(func(w *testserver.World) {
		p := w.Partner
		victim = p.Relationships[0].CustomerTenantID
		for _, r := range p.Relationships {
			if r.CustomerTenantID == victim {
				r.CustomerName = hostile
			}
		}
		for _, c := range p.Contracts {
			if c.CustomerID == victim {
				c.DisplayName = hostile
			}
		}
		for _, c := range p.Customers {
			if c.TenantID == victim {
				c.CompanyName = hostile
			}
		}
	})
	for _, cmd := range [][]string{{"tenants"}, {"check"}, {"check", "--checks", "delegated-graph,app-graph"}, {"consent", "push", "--all"}, {"consent", "push", victim}} {
		_, stdout, stderr := samctl(t, append(cmd, flags...)...)
		out := stdout + stderr
		require.Contains(t, out, `Evil Corp\n✓ Forged Ltd\x1b[2J`, "%v: the name is shown, escaped:\n%s", cmd, out)
		r, acts := terminalActs(out)
		assert.False(t, acts, "%v: %U reaches the terminal:\n%s", cmd, r, out)
		for _, line := range strings.Split(out, "\n") {
			assert.False(t, strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "✓ Forged"), "%v: a forged line:\n%s", cmd, out)
		}
	}
}
