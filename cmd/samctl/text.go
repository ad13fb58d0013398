package main

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// plural says "1 tenant", "2 tenants", "0 tenants".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// truncate shortens s to at most width characters, ending it with "…"
// when it was cut.
func truncate(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:width-1]), " ") + "…"
}

// wrap breaks s into lines of at most width characters at spaces. A word
// longer than width (a URL, a GUID) gets a line of its own, whole: a
// GUID cut in two cannot be pasted.
func wrap(s string, width int) []string {
	var (
		lines []string
		line  strings.Builder
		n     int
	)
	for _, word := range strings.Fields(s) {
		wn := utf8.RuneCountInString(word)
		if n > 0 && n+1+wn > width {
			lines = append(lines, line.String())
			line.Reset()
			n = 0
		}
		if n > 0 {
			line.WriteByte(' ')
			n++
		}
		line.WriteString(word)
		n += wn
	}
	if n > 0 {
		lines = append(lines, line.String())
	}
	return lines
}
