package httpx

import (
	"fmt"
	"net/http"
	"net/url"
)

// RedirectError is a 3xx answer to a request that carries a credential,
// which samkit never follows: Location is the origin (scheme://host) it
// pointed to, its path and query left out.
type RedirectError struct {
	StatusCode int
	Location   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the service answered %d, a redirect to %s: a request carrying credentials follows no redirect", e.StatusCode, e.Location)
}

// redirected returns the *RedirectError of resp, nil when it is not a
// redirect.
func redirected(req *http.Request, resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	loc := "no location"
	if l := resp.Header.Get("Location"); l != "" {
		loc = "an unreadable location"
		if u, err := req.URL.Parse(l); err == nil {
			loc = origin(u)
		}
	}
	return &RedirectError{StatusCode: resp.StatusCode, Location: loc}
}

// origin returns scheme://host of u.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
