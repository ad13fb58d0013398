package token

import (
	"bytes"
	"encoding/json"
)

// decodeFlat decodes a token response into res without encoding/json,
// for the shape the identity platform sends: one flat object whose values
// are plain strings (no escapes, ASCII), integers, true, false or null.
// Anything else (escapes, nesting, fractions, a member of res's given as
// another type, a key matching one of res's only as encoding/json's
// case-insensitive match would, invalid JSON) returns false with res
// unchanged for encoding/json to decode, so that the result is always the
// one json.Unmarshal gives. A token response is mostly the access and
// refresh tokens, a few kilobytes of base64 that this reads once instead
// of twice.
func decodeFlat(body []byte, res *tokenResponse) bool {
	var out tokenResponse
	d := flatDecoder{b: body}
	if !d.byte('{') {
		return false
	}
	if d.peek() == '}' {
		d.i++
		return d.end(res, out)
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, ok := d.str()
		if !ok || !d.byte(':') {
			return false
		}
		var field *string
		switch string(key) { // compared without a copy
		case "error":
			field = &out.Error
		case "access_token":
			field = &out.AccessToken
		case "refresh_token":
			field = &out.RefreshToken
		case "expires_in":
			n, ok := d.integer()
			if !ok {
				return false
			}
			out.ExpiresIn = json.Number(n)
		default:
			if foldsToMember(key) || !d.skipValue() {
				return false
			}
		}
		if field != nil {
			if d.peek() != '"' {
				return false
			}
			v, ok := d.str()
			if !ok {
				return false
			}
			if field == &out.AccessToken {
				out.bearer = bearerPrefix + string(v)
				out.AccessToken = out.bearer[len(bearerPrefix):]
			} else {
				*field = string(v)
			}
		}
		switch d.next() {
		case ',':
		case '}':
			return d.end(res, out)
		default:
			return false
		}
	}
}

func foldsToMember(key []byte) bool {
	for _, m := range members {
		if bytes.EqualFold(key, m) {
			return true
		}
	}
	return false
}

type flatDecoder struct {
	b []byte
	i int
}

func (d *flatDecoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (d *flatDecoder) peek() byte {
	d.skipSpace()
	if d.i == len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *flatDecoder) next() byte {
	c := d.peek()
	if c != 0 {
		d.i++
	}
	return c
}

func (d *flatDecoder) byte(c byte) bool { return d.next() == c }

// str reads a string at d.i (an opening quote): printable ASCII only, no
// escapes. It returns the bytes between the quotes, not a copy.
func (d *flatDecoder) str() ([]byte, bool) {
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:j], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// integer reads a JSON number that is an integer without exponent.
func (d *flatDecoder) integer() (string, bool) {
	d.skipSpace()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || n > 1 && d.b[digits] == '0' {
		return "", false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return "", false
		}
	}
	return string(d.b[start:d.i]), true
}

// skipValue passes over a string, an integer or a literal.
func (d *flatDecoder) skipValue() bool {
	switch c := d.peek(); {
	case c == '"':
		_, ok := d.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		_, ok := d.integer()
		return ok
	}
	for _, lit := range literals {
		if bytes.HasPrefix(d.b[d.i:], lit) {
			d.i += len(lit)
			return d.i == len(d.b) || !isIdentByte(d.b[d.i])
		}
	}
	return false
}

var members = [...][]byte{[]byte("error"), []byte("access_token"), []byte("refresh_token"), []byte("expires_in")}

var literals = [...][]byte{[]byte("true"), []byte("false"), []byte("null")}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// end accepts the object just closed when only white space follows.
func (d *flatDecoder) end(res *tokenResponse, out tokenResponse) bool {
	d.skipSpace()
	if d.i != len(d.b) {
		return false
	}
	*res = out
	return true
}
