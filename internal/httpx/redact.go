package httpx

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces a secret wherever samkit prints one.
const Redacted = "[redacted]"

// RedactURL returns u as scheme://host/path: the query, the fragment and
// any user information are dropped, because that is where OAuth codes,
// SAS signatures and $skiptoken cursors travel.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath, Opaque: u.Opaque}
	return r.String()
}

// RedactError returns err with the URL of a top-level *url.Error (what
// http.Client.Do returns) redacted; errors.Is and errors.As still reach
// the cause.
func RedactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue == err {
		return &url.Error{Op: ue.Op, URL: redactRawURL(ue.URL), Err: ue.Err}
	}
	return err
}

func redactRawURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return RedactText(raw)
	}
	return RedactURL(u)
}

var (
	// URLs lose what follows their path.
	urlQueryRE = regexp.MustCompile(`(?i)\b(https?://[^\s"'<>?#]*)[?#][^\s"'<>]*`)
	// JWTs (access, id and assertion tokens: three parts) and JWEs
	// (encrypted tokens: five parts, the second empty for direct
	// encryption) are recognised by shape: a base64url JSON header, then
	// two or more dot-separated parts.
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){2,}`)
)

// RedactText removes what looks like a secret from free text, such as an
// error message or a response excerpt: URL queries and fragments, JWTs and
// JWEs, Authorization header values (Bearer, Basic or any other scheme),
// the credential after every "Bearer", and the values of credential fields
// (client_secret, refresh_token, access_token, password…, in any case,
// with "_", "-" or camelCase) however they are written: form fields,
// JSON members, even malformed or inside another JSON string, "name: value"
// lines, single or double quoted.
func RedactText(s string) string {
	// One step can bring a shape to light for another (a query removed
	// from between a field's name and its value, say), so the steps run
	// until the text stays as it is: one pass more when something was
	// redacted, none when nothing was.
	for range 4 {
		next := redactOnce(s)
		if next == s {
			break
		}
		s = next
	}
	return s
}

// redactOnce runs each step of RedactText once. Fields go first, so that
// each is seen as it was written ("?password= x" is a field before it is
// a query), and before tokens: a JWT's parts may run into a field name
// ("eyJ….x-refresh_token=…"), and the field's value must go too.
func redactOnce(s string) string {
	s = redactFields(s)
	if strings.Contains(s, "://") {
		s = urlQueryRE.ReplaceAllString(s, "$1")
	}
	if strings.Contains(s, "eyJ") {
		s = jwtRE.ReplaceAllString(s, Redacted)
	}
	return s
}

// secretKeyParts are fragments that mark an attribute or field name as a
// secret wherever they occur in it (client_secret, x-api-password,
// refresh_token, client_assertion, credentials…).
var secretKeyParts = []string{"secret", "password", "passwd", "token", "assertion", "credential", "authorization", "cookie", "apikey", "api_key", "private_key", "signature"}

// secretKeys are names that are secrets only when they are the whole
// name: "code" is an authorization code, "status_code" is not.
var secretKeys = map[string]bool{"code": true, "code_verifier": true, "device_code": true, "auth": true, "key": true, "sig": true, "pwd": true}

// IsSecretKey reports whether a log attribute, header, form or JSON field
// called key holds a secret, by samkit's naming rules.
func IsSecretKey(key string) bool {
	k := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	if secretKeys[k] {
		return true
	}
	for _, p := range secretKeyParts {
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}

// Excerpt returns up to 200 printable characters of b on one line,
// redacted: how an error quotes a body that is not the service's JSON.
func Excerpt(b []byte) string {
	const limit = 200
	var out strings.Builder
	for len(b) > 0 && out.Len() < limit {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		// What cannot be printed becomes a space rather than nothing:
		// gluing its neighbours together could hide a credential from
		// RedactText, which looks for whole words ("Bearer x").
		if r == utf8.RuneError && n <= 1 || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			r = ' '
		}
		out.WriteRune(r)
	}
	s := strings.Join(strings.Fields(out.String()), " ")
	if len(b) > 0 {
		s += "…"
	}
	return RedactText(s)
}
