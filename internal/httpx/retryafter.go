package httpx

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header value: a number of seconds
// (Graph sends fractions, "1.5", which RFC 9110 does not allow but clients
// meet) or an HTTP-date, measured from now. A date in the past gives 0.
// ok is false for an empty, negative or malformed value.
func ParseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if isDecimal(h) {
		secs, err := strconv.ParseFloat(h, 64)
		if err != nil {
			return 0, false
		}
		if ns := secs * float64(time.Second); ns < math.MaxInt64 {
			return time.Duration(ns), true
		}
		return time.Duration(math.MaxInt64), true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(0, t.Sub(now)), true
}

// isDecimal reports whether s is digits with at most one dot, so that
// ParseFloat's other syntaxes ("inf", "0x1p3", "1e3", "-1") are refused.
func isDecimal(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}
