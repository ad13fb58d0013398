package httpx_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/samkit/samkit/internal/httpx"
)

var segmentSeeds = []string{
	"8d5c0b9e-6f4a-4a39-9d8b-2b8f0f1e2a3c", "contoso.onmicrosoft.com", "organizations", "common", "user@contoso.com",
	"AbCd-EfGh_ij", "...", "../../applications", "..", ".", "", "a/b", `a\b`, "a%2Fb", "%2e%2e", "a?b", "a#b", "a b",
	"a\tb", "a\x00b", "a\u00a0b", "a\u3000b", "a\u2028b", "\u202eevil", "a\xffb", "xn--bcher-kva.example", "-a.com", "a..b",
	"ü.example", strings.Repeat("a", 64) + ".com", strings.Repeat("a.", 130),
}

// FuzzValidPathSegment: a value accepted as a path segment stays one:
// it holds no separator, escape, query or fragment marker, white space or
// control character, is not a dot segment, and survives escaping into a
// URL path and parsing back as exactly one segment.
func FuzzValidPathSegment(f *testing.F) {
	for _, s := range segmentSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := httpx.ValidPathSegment(s)
		if err != nil {
			if strings.ContainsFunc(err.Error(), unicode.IsControl) {
				t.Fatalf("error %q holds a raw control character", err)
			}
			return
		}
		if s == "" || s == "." || s == ".." || !utf8.ValidString(s) ||
			strings.ContainsAny(s, "/\\?#%") || strings.ContainsFunc(s, unicode.IsSpace) || strings.ContainsFunc(s, unicode.IsControl) {
			t.Fatalf("accepted %q", s)
		}
		u, err := url.Parse("https://graph.example/v1.0/applications/" + url.PathEscape(s) + "/owners")
		if err != nil || u.Path != "/v1.0/applications/"+s+"/owners" || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q escaped into a path reads back as %q (query %q, fragment %q, %v)", s, u.Path, u.RawQuery, u.Fragment, err)
		}
	})
}

// FuzzValidTenant: a value accepted as a tenant is a GUID or a DNS name,
// and so a safe path segment with no "..", no white space and nothing
// that ends the path.
func FuzzValidTenant(f *testing.F) {
	for _, s := range segmentSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := httpx.ValidTenant(s)
		if err != nil {
			if strings.ContainsFunc(err.Error(), unicode.IsControl) {
				t.Fatalf("error %q holds a raw control character", err)
			}
			return
		}
		if strings.ContainsAny(s, "/\\?#%") || strings.Contains(s, "..") || strings.ContainsFunc(s, unicode.IsSpace) ||
			len(s) > 253 || httpx.ValidPathSegment(s) != nil {
			t.Fatalf("accepted %q", s)
		}
		if !httpx.IsGUID(s) {
			for _, label := range strings.Split(s, ".") {
				if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
					t.Fatalf("accepted %q, whose label %q is not a DNS label", s, label)
				}
			}
		}
	})
}
