// Package marker lets fuzz targets check that a credential placed in a
// fuzzed input never comes out in an error or a log line. It imports
// nothing of samkit, so that the internal tests of any package can use it.
package marker

import (
	"regexp"
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
// a name inside another string is not a member); as the value of a
// credential field written name=value or name: value, quoted or not; after
// "Bearer", or after the scheme of an Authorization value; or as the last
// part of a JWT or JWE. Only then must the marker never be printed;
// anywhere else it is ordinary text.
func WithMarker(b []byte) (string, bool) {
	s := string(b)
	n := strings.Count(s, "SECRET")
	slots := map[int]bool{}
	for _, at := range jsonSlots(s) {
		slots[at] = true
	}
	for _, m := range textSlotRE.FindAllStringIndex(s, -1) {
		slots[m[1]-len("SECRET")] = true
	}
	return strings.ReplaceAll(s, "SECRET", Marker), len(slots) == n
}

// secretName matches the members and fields that hold credentials, in any
// case, their words joined by "_", "-" or nothing (refreshToken).
const secretName = `(?i:client[_-]?secret|client[_-]?assertion|refresh[_-]?token|access[_-]?token|id[_-]?token|code[_-]?verifier|` +
	`device[_-]?code|password|assertion|secret[_-]?text)`

var secretNameRE = regexp.MustCompile(`^` + secretName + `$`)

// textSlotRE finds credentials in free text. A name starts a word when no
// letter or "_" precedes it: "\u0026client_secret=" in a JSON string is a
// field, "status_code=" is not.
var textSlotRE = regexp.MustCompile(`(?:` +
	`(?:^|[^A-Za-z_])` + secretName + `['"]?\s*[:=]\s*['"]?` +
	`|(?:^|[^A-Za-z_])(?i:code)=` +
	`|(?:^|[^A-Za-z_])(?i:authorization)['"]?\s*[:=]\s*['"]?(?:(?i:basic|bearer|digest|negotiate|ntlm)\s+)?` +
	`|\b(?i:bearer)\s+` +
	`|eyJ[A-Za-z0-9_-]{4,}\.(?:[A-Za-z0-9_-]*\.)+` +
	`)SECRET`)

// jsonSlots returns where the string values of credential members that
// begin with SECRET start, scanning s as JSON text as far as it goes:
// strings, with their escapes, and a string where a member name goes
// (first, or after "{" or ",") and followed by a colon taken as a member
// name.
func jsonSlots(s string) []int {
	var at []int
	key, namePos := false, true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', ',':
			namePos, key = true, false
			continue
		case ' ', '\t', '\r', '\n', ':':
			continue
		case '"':
		default:
			namePos, key = false, false
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
		if key && strings.HasPrefix(str, "SECRET") {
			at = append(at, i+1)
		}
		key = false
		if rest := strings.TrimLeft(s[min(j+1, len(s)):], " \t\r\n"); namePos && strings.HasPrefix(rest, ":") &&
			strings.HasPrefix(strings.TrimLeft(rest[1:], " \t\r\n"), `"`) && secretNameRE.MatchString(str) {
			key = true
		}
		namePos = false
		i = j
	}
	return at
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
