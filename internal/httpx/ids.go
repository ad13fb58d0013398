package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NewGUID returns a random (version 4) GUID, the form of the request ids
// samkit sends: client-request-id, MS-RequestId, MS-CorrelationId. The
// services echo them, and Microsoft support finds a call by them.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// CheckNextLink parses a service's @odata.nextLink and accepts it only to
// the origin (scheme and host) of root and under root's path, without
// user information or fragment, so that following it can send the token
// nowhere else.
func CheckNextLink(raw string, root *url.URL) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("the @odata.nextLink is not a URL")
	}
	if !u.IsAbs() {
		return nil, fmt.Errorf("the @odata.nextLink %q is not an absolute URL", RedactURL(u))
	}
	rootPath := strings.TrimSuffix(root.EscapedPath(), "/") + "/"
	if !strings.EqualFold(u.Scheme, root.Scheme) || !strings.EqualFold(u.Host, root.Host) ||
		u.User != nil || u.Fragment != "" || !strings.HasPrefix(u.EscapedPath()+"/", rootPath) {
		return nil, fmt.Errorf("refusing @odata.nextLink to %s: another endpoint than %s", RedactURL(u), origin(root)+strings.TrimSuffix(rootPath, "/"))
	}
	return u, nil
}
