package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Text output shows strings that samctl did not write: tenant and app
// names, domains, error descriptions and hints from Microsoft's services,
// the contents of files. A terminal obeys what such a string holds: a
// newline forges an output line ("✓ Contoso" under a failed tenant), an
// ANSI escape clears the screen or retitles the window, a bidi control
// makes "moc.elgoog" read as "google.com". So every text renderer writes
// those strings through printf and printLine below, which escape them with
// safe; the format strings, samctl's own, keep their newlines and tabs.
// JSON output needs none of this: encoding/json escapes control
// characters, and a JSON reader is not a terminal.

// safe returns s with every character that a terminal would act on
// instead of showing spelled out as a Go escape: C0 controls (\n, \t, \x1b
// …), DEL, C1 controls, the bidi controls (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators
// (U+2028, U+2029). Everything else, ✓ and non-Latin names included, is
// kept. Invalid UTF-8 is spelled out as \x bytes.
func safe(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafeRune(r):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// unsafeRune reports whether a terminal acts on r rather than showing it.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// safeArgs escapes, in place, every operand a format would print as text:
// strings (of any string type), errors and Stringers. Numbers, booleans and times are samctl's
// to format and cannot hold a control character.
func safeArgs(args []any) []any {
	for i, v := range args {
		switch v := v.(type) {
		case string:
			args[i] = safe(v)
		case error:
			args[i] = safe(v.Error())
		case fmt.Stringer:
			args[i] = safe(v.String())
		default:
			// Named string types: sam.Check, sam.Source…
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
				args[i] = safe(rv.String())
			}
		}
	}
	return args
}

// printf is fmt.Fprintf for text output: format is samctl's own, every
// operand is escaped (see safe). Write errors are left to the caller's
// final flush or exit, as with fmt.Fprintf on a terminal.
func printf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, safeArgs(args)...)
}

// printLine is fmt.Fprintln for text output, each operand escaped.
func printLine(w io.Writer, args ...any) {
	fmt.Fprintln(w, safeArgs(args)...)
}
