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
	// JWTs (access, id and assertion tokens) are recognised by shape.
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	// Authorization header values.
	bearerRE = regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+`)
	// Form fields that hold credentials, e.g. in an echoed request body.
	formFieldRE = regexp.MustCompile(`(?i)\b(client_secret|client_assertion|refresh_token|access_token|id_token|code_verifier|device_code|code|password|assertion)=[^&\s"']+`)
	// JSON members that hold credentials. "code" is left alone: in a
	// JSON error body it is the error's code, which people need to see.
	// The value runs to its closing quote, escaped quotes included, or to
	// the end of a body cut short in the middle of it.
	jsonFieldRE = regexp.MustCompile(`(?i)"(client_secret|client_assertion|refresh_token|access_token|id_token|code_verifier|device_code|password|assertion|secretText)"\s*:\s*"(?:[^"\\]|\\.)*"?`)
)

// RedactText removes what looks like a secret from free text, such as an
// error message or a response excerpt: URL queries and fragments, JWTs,
// Authorization header values and credential fields of form or JSON
// bodies.
func RedactText(s string) string {
	// The quick way out must miss nothing the expressions below catch:
	// "Bearer" is matched in any case, as HTTP schemes are.
	if !strings.ContainsAny(s, `?#="`) && !strings.Contains(s, "eyJ") && !containsFold(s, "bearer") {
		return s
	}
	s = urlQueryRE.ReplaceAllString(s, "$1")
	s = jwtRE.ReplaceAllString(s, Redacted)
	s = bearerRE.ReplaceAllString(s, "$1 "+Redacted)
	s = formFieldRE.ReplaceAllString(s, "$1="+Redacted)
	return jsonFieldRE.ReplaceAllString(s, `"$1":"`+Redacted+`"`)
}

// containsFold reports whether s contains sub under case folding, without
// allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
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
