// Package marker lets fuzz targets check that a credential placed in a
// fuzzed input never comes out in an error or a log line. It imports
// nothing of samkit, so that the internal tests of any package can use it.
package marker

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Marker is what the fuzz targets put where a credential goes: inputs
// write the placeholder SECRET, which WithMarker replaces, so that the
// fuzzer can move it anywhere while the check knows what to look for.
const Marker = "Zq7Xv3Kp9Wm2Rt6Yb4Nc"

// WithMarker replaces every SECRET in b by Marker and reports whether each
// one sat where a credential goes (true when there is none): first in the
// string value of a credential member of JSON (read as JSON text, so that
// a name inside another string is not a member), as the value of a form
// field, after "Bearer", or as the signature of a JWT. Only then must the
// marker never be printed; anywhere else it is ordinary text.
func WithMarker(b []byte) (string, bool) {
	s := string(b)
	n := strings.Count(s, "SECRET")
	slots := jsonSlots(s) + len(textSlotRE.FindAllStringIndex(s, -1))
	return strings.ReplaceAll(s, "SECRET", Marker), slots == n
}

// secretNames are the members and fields that hold credentials.
var secretNames = []string{"client_secret", "client_assertion", "refresh_token", "access_token", "id_token", "code_verifier",
	"device_code", "password", "assertion", "secretText"}

var textSlotRE = regexp.MustCompile(`(?:\b(?i:client_secret|client_assertion|refresh_token|access_token|id_token|code_verifier|device_code|code|password|assertion)=|\b(?i:bearer)\s+|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.)SECRET`)

// jsonSlots counts the string values of credential members that begin
// with SECRET, scanning s as JSON text as far as it goes: strings, with
// their escapes, and a string where a member name goes (first, or after
// "{" or ",") and followed by a colon taken as a member name.
func jsonSlots(s string) int {
	n, key, namePos := 0, "", true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', ',':
			namePos, key = true, ""
			continue
		case ' ', '\t', '\r', '\n', ':':
			continue
		case '"':
		default:
			namePos, key = false, ""
			continue
		}
		j := i + 1
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		str := s[i+1 : min(j, len(s))]
		if key != "" && strings.HasPrefix(str, "SECRET") {
			n++
		}
		key = ""
		if rest := strings.TrimLeft(s[min(j+1, len(s)):], " \t\r\n"); namePos && strings.HasPrefix(rest, ":") &&
			strings.HasPrefix(strings.TrimLeft(rest[1:], " \t\r\n"), `"`) && slices.ContainsFunc(secretNames, func(name string) bool {
			return strings.EqualFold(str, name)
		}) {
			key = str
		}
		namePos = false
		i = j
	}
	return n
}

// NoMarker fails t if any 8-byte piece of Marker appears in a text.
func NoMarker(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for i := 0; i+8 <= len(Marker); i++ {
			if strings.Contains(text, Marker[i:i+8]) {
				t.Fatalf("a credential leaked into %q", text)
			}
		}
	}
}
