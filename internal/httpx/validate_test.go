package httpx

import (
	"strings"
	"testing"
)

func TestValidPathSegment(t *testing.T) {
	t.Parallel()
	good := []string{"abc", "8d5c0b9e-6f4a-4a39-9d8b-2b8f0f1e2a3c", "user@contoso.com", "a.b", "A_B-c~", "..."}
	bad := []string{"", ".", "..", "../../applications", "a/b", `a\b`, "a%2Fb", "a?b", "a#b", "a b", "a\tb", "a\nb", "a\x00b", "a\x7fb", "a\u0085b", "a\xffb"}
	for _, s := range good {
		if err := ValidPathSegment(s); err != nil {
			t.Errorf("ValidPathSegment(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidPathSegment(s); err == nil {
			t.Errorf("ValidPathSegment(%q) = nil, want an error", s)
		}
	}
}

func TestValidTenant(t *testing.T) {
	t.Parallel()
	good := []string{"8d5c0b9e-6f4a-4a39-9d8b-2B8F0F1E2A3C", "contoso.onmicrosoft.com", "organizations", "common", "xn--bcher-kva.example", "a-b.c"}
	bad := []string{"", "..", "../x", "contoso.com/", "a b", "a%2e", "a?x", "a#x", "-a.com", "a-.com", "a..b", ".a", "a.", "8d5c0b9e_6f4a", "a\x00", "ü.example", string(make([]byte, 300))}
	for _, s := range good {
		if err := ValidTenant(s); err != nil {
			t.Errorf("ValidTenant(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidTenant(s); err == nil {
			t.Errorf("ValidTenant(%q) = nil, want an error", s)
		}
	}
}

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, want string
	}{
		{"https://graph.microsoft.com/v1.0", ""},
		{"http://127.0.0.1:8443/graph", ""},
		{"http://[::1]:80", ""},
		{"http://localhost:1", ""},
		{"graph.microsoft.com", "not an absolute URL"},
		{"http://graph.example", "must use https"},
		{"http://127.0.0.1.example.com", "must use https"},
		{"https://graph.example/?x=1", "no query"},
		{"https://user:pw@graph.example", "user information"},
	}
	for _, tt := range tests {
		err := CheckBaseURL(tt.base)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckBaseURL(%q) = %v, want %q", tt.base, err, tt.want)
		}
	}
}
