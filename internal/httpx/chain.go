package httpx

import (
	"errors"
	"net/url"
)

// RedactChain returns err with no URL query, fragment or credential left in
// its text, however deep: a *url.Error wrapping another (a retrying
// client over an http.Client) is reduced to the innermost one, so that
// each URL is printed once, and redacted; any other error whose text
// holds a secret gets a redacted text. errors.Is and errors.As still
// reach the causes.
func RedactChain(err error) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok {
		inner := RedactChain(ue.Err)
		var iu *url.Error
		if errors.As(inner, &iu) {
			return inner
		}
		return &url.Error{Op: ue.Op, URL: redactRawURL(ue.URL), Err: inner}
	}
	msg := err.Error()
	if red := RedactText(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// redactedError is an error printed with its secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
