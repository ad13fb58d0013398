package httpx

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/samkit/samkit/cloud"
)

// ValidPathSegment and ValidTenant return errors without a package prefix:
// the caller wraps them, naming what it was validating.

// ValidPathSegment reports whether s may be placed, as is, in one segment
// of a URL path. Identifiers read from one API (a customer id from a
// contract, an object id from a listing) reach the paths of the next call;
// refusing separators, dot segments, escapes, query and fragment markers,
// spaces and control characters keeps a hostile or corrupt value such as
// "../../applications" from redirecting that call.
func ValidPathSegment(s string) error {
	if s == "" {
		return errors.New("empty path segment")
	}
	if s == "." || s == ".." {
		return fmt.Errorf("path segment %s is a dot segment", quote(s))
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("path segment %s is not valid UTF-8", quote(s))
	}
	for _, c := range s {
		// Unicode spaces too: U+2028 breaks a log line as \n does.
		if c <= ' ' || c == 0x7f || (c >= 0x80 && c <= 0x9f) || unicode.IsSpace(c) {
			return fmt.Errorf("path segment %s contains a space or control character", quote(s))
		}
		if strings.ContainsRune(`/\%?#`, c) {
			return fmt.Errorf("path segment %s contains %q", quote(s), c)
		}
	}
	return nil
}

// ValidTenant reports whether s names a tenant as the identity platform
// accepts it in a path: a GUID, or a DNS name (contoso.onmicrosoft.com, or
// a single label such as "organizations" or "common").
func ValidTenant(s string) error {
	if s == "" {
		return errors.New("empty tenant: give a tenant ID (GUID) or domain name")
	}
	if IsGUID(s) || isDNSName(s) {
		return nil
	}
	return fmt.Errorf("tenant %s is neither a GUID nor a domain name", quote(s))
}

// IsGUID reports whether s has the 8-4-4-4-12 hexadecimal form of a GUID.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isDNSName reports whether s is a DNS host name by RFC 1123: dot-separated
// labels of letters, digits and inner hyphens, 1–63 bytes each, 253 in all.
func isDNSName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// quote prints a rejected value for an error message, shortened so that a
// long or hostile value does not flood the message.
func quote(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		return fmt.Sprintf("%q…", s[:maxLen])
	}
	return fmt.Sprintf("%q", s)
}

// CheckBaseURL accepts the base URL of a service: absolute, https (or http
// on a loopback address as cloud.IsLoopbackHost defines it, for local test
// servers), with no query, fragment
// or user information. The error quotes base and says what is wrong.
func CheckBaseURL(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", base)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && cloud.IsLoopbackHost(u.Hostname())) {
		return fmt.Errorf("%q must use https", base)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must have no query, fragment or user information", base)
	}
	return nil
}
