package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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
	return AppendBody(nil, r, limit)
}

// presizeLimit bounds the slice ReadResponseBody makes from a
// Content-Length before any of the body has arrived: an answer that
// announces more than its few kilobytes grows the slice as it comes.
const presizeLimit = 64 << 10

// ReadResponseBody reads resp's body as ReadBody does, into a slice sized
// by its Content-Length when that is known and small, so that the body is
// read without growing and copying the slice on the way.
func ReadResponseBody(resp *http.Response, limit int64) ([]byte, error) {
	var dst []byte
	if n := resp.ContentLength; n >= 0 && n <= presizeLimit && (limit <= 0 || n <= limit) {
		// One byte more than announced: the read that finds the end
		// needs room to ask for it.
		dst = make([]byte, 0, n+1)
	}
	return AppendBody(dst, resp.Body, limit)
}

// AppendBody reads r as ReadBody does, appending the body to dst (the
// limit counts the body alone): a dst with room for the whole body, a
// pooled buffer say, reads it without allocating.
func AppendBody(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	start := len(dst)
	b := dst
	for {
		switch {
		case cap(b) == 0:
			b = make([]byte, 0, 512)
		case len(b) == cap(b):
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):cap(b)]
		// Never more than one byte past the limit: enough to tell that the
		// body is longer.
		if left := limit + 1 - int64(len(b)-start); int64(len(room)) > left {
			room = room[:left]
		}
		n, err := r.Read(room)
		b = b[:len(b)+n]
		if int64(len(b)-start) > limit {
			return b[:start+int(limit)], fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
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
