package token

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
)

// redacted is what every formatting path prints in place of a secret.
const redacted = "[redacted]"

// Secret holds a credential — a client secret, a refresh token, an access
// token — and refuses to print it. String, every fmt verb, GoString, JSON and
// text marshalling and slog all show "[redacted]" ("" for an empty secret).
// The value is behind a pointer so that even a struct printed with %v or %+v
// whose unexported field holds a Secret shows an address, never the content.
//
// Reveal is the one way to read the value: call it only where the secret
// must leave the process (an HTTP request, a credential store).
//
// The zero Secret is empty. Secrets are immutable and safe to copy and to
// share between goroutines.
type Secret struct {
	v *string
}

// NewSecret wraps s. An empty s gives the empty Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret's value.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil }

// Equal reports whether two secrets hold the same value, without revealing
// either to the caller, in time that does not depend on where they differ.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

func (s Secret) mask() string {
	if s.v == nil {
		return ""
	}
	return redacted
}

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string { return s.mask() }

// GoString returns a redacted Go representation, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("token.Secret(%q)", s.mask()) }

// Format prints the redaction for every verb, so that %x, %q or %v of a
// Secret cannot leak its value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.mask())
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.mask())
	default:
		fmt.Fprint(f, s.mask())
	}
}

// MarshalJSON writes the redaction. Credential stores marshal revealed
// values on purpose, through their own types.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.mask()) }

// MarshalText writes the redaction.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

// LogValue makes slog print the redaction.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }
