package main

import (
	"bytes"
	"io"
)

// Colour makes a long table of marks readable at a glance: ✓ green, ✗
// red. It is for people at a terminal only: never when the output goes to
// a pipe or a file, and never when NO_COLOR is set (https://no-color.org)
// or the terminal says it cannot (TERM=dumb).
func useColor(w io.Writer, getenv func(string) string) bool {
	return isTerminal(w) && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	reset = "\x1b[0m"
)

var (
	okMark   = []byte(markOK)
	failMark = []byte(markFail)
)

// colorWriter colours the marks in what is written through it. It sits
// below any tabwriter, so that columns are measured without the escape
// sequences; server text cannot smuggle escapes through it, as printf
// has escaped them already.
type colorWriter struct{ w io.Writer }

func (c colorWriter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, okMark) && !bytes.Contains(p, failMark) {
		return c.w.Write(p)
	}
	q := bytes.ReplaceAll(p, okMark, []byte(green+markOK+reset))
	q = bytes.ReplaceAll(q, failMark, []byte(red+markFail+reset))
	if _, err := c.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}
