package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
)

// DefaultBodyLimit is the largest response body ReadBody accepts when
// given no limit: ample for any JSON page samkit reads, small enough that
// a broken or hostile server cannot exhaust memory.
const DefaultBodyLimit = 8 << 20

// ErrBodyTooLarge is returned, wrapped, by ReadBody for a body over its
// limit.
var ErrBodyTooLarge = errors.New("httpx: response body too large")

// ReadBody reads r up to limit bytes (DefaultBodyLimit when limit <= 0).
// A longer body is an error wrapping ErrBodyTooLarge; the first limit
// bytes are returned with it, so a caller can still quote the start.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// drainLimit bounds how much of a discarded body is read so that its
// connection can be reused; a longer body is cheaper to abandon.
const drainLimit = 64 << 10

// drainAndClose discards what is left of a body and closes it.
func drainAndClose(rc io.ReadCloser) {
	if rc == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, drainLimit))
	_ = rc.Close()
}

// DescribeBody says why a response body that should have been the
// service's JSON (what, e.g. "Partner Center's error JSON") is not: it is
// empty, or it is something else, quoted as a short redacted Excerpt with
// its media type, so that a gateway's error page is recognisable.
func DescribeBody(contentType string, body []byte, what string) string {
	body = bytes.TrimSpace(bytes.Trim(body, "\x00"))
	if len(body) == 0 {
		return "the response had an empty body"
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = "unknown content type"
	}
	return fmt.Sprintf("the response body is not %s (%s): %q", what, mt, Excerpt(body))
}
