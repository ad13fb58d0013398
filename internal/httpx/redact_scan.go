package httpx

import "strings"

// credentialName is a field name that holds a credential, as words: it
// matches in any case with the words joined by "_", "-" or nothing, so
// that refresh_token, refresh-token, refreshToken and REFRESHTOKEN are one
// name.
type credentialName struct {
	words []string
	// formOnly names are credentials only as form fields (name=value):
	// "code" in a JSON error body or "status code: 500" is the error's
	// code, which people need to see.
	formOnly bool
	// header names hold an Authorization value: a scheme, then the
	// credential.
	header bool
}

var credentialNames = []credentialName{
	{words: []string{"client", "secret"}},
	{words: []string{"client", "assertion"}},
	{words: []string{"refresh", "token"}},
	{words: []string{"access", "token"}},
	{words: []string{"id", "token"}},
	{words: []string{"code", "verifier"}},
	{words: []string{"device", "code"}},
	{words: []string{"password"}},
	{words: []string{"assertion"}},
	{words: []string{"secret", "text"}},
	{words: []string{"code"}, formOnly: true},
	{words: []string{"authorization"}, header: true},
}

// startsName holds the first letters of "bearer" and every credential
// name, in both cases: the scan looks no further at any other byte.
var startsName = func() (t [256]bool) {
	t['b'], t['B'] = true, true
	for _, n := range credentialNames {
		c := n.words[0][0]
		t[c], t[c&^0x20] = true, true
	}
	return t
}()

// authSchemes are the Authorization schemes whose name is kept in front of
// a redacted credential. Any other first word of the value is taken for
// the credential itself.
var authSchemes = []string{"basic", "bearer", "digest", "negotiate", "ntlm", "pop"}

// redactFields replaces the value of every credential field in s, and the
// credential after every "Bearer". It looks at every place a name starts,
// inside values too, however the text around it is quoted, and redacts
// the union of the values it finds; so malformed or overlapping JSON
// (`"access_token":","refresh_token":"…`) cannot hide one field behind
// another.
//
// A field is a credential name at the start of a word (not after a letter
// or "_"; after a digit it counts, so "\u0026client_secret=" inside a JSON
// string is found), then an optional closing quote, ":" or "=", and the
// value: quoted by ", ' or \" (to its closing quote, or to the end of a
// text cut short), or bare (to the next space, quote or punctuation that
// ends a value in a form, a header dump, a JSON body or a log line).
func redactFields(s string) string {
	var out strings.Builder
	done := 0         // s[:done] is written to out
	from, to := 0, -1 // the span being redacted, if to >= 0
	flush := func() {
		if to < 0 {
			return
		}
		if out.Len() == 0 {
			out.Grow(len(s))
		}
		out.WriteString(s[done:from])
		out.WriteString(Redacted)
		done = to
	}
	sc := fieldScan{s: s, bareFrom: -1, bareTo: -1}
	for i := 0; i < len(s) && to < len(s); i++ {
		if !startsName[s[i]] || i > 0 && (isASCIILetter(s[i-1]) || s[i-1] == '_') {
			continue
		}
		start, end, ok := sc.credentialAt(i)
		switch {
		case !ok:
		case start <= to: // overlaps the span: values start about in order
			from, to = max(done, min(from, start)), max(to, end)
		default:
			flush()
			from, to = start, end
		}
	}
	flush()
	if done == 0 {
		return s
	}
	out.WriteString(s[done:])
	return out.String()
}

// fieldScan is the state of one redactFields scan.
type fieldScan struct {
	s                string
	bareFrom, bareTo int // the last bare value found
}

// credentialAt reports whether a credential field or a bearer credential
// starts at s[i], and where its value is.
func (sc *fieldScan) credentialAt(i int) (start, end int, ok bool) {
	s := sc.s
	if hasPrefixFold(s[i:], "bearer") {
		return sc.bearerValue(i + len("bearer"))
	}
	for _, n := range credentialNames {
		if n.words[0][0] != s[i]|0x20 {
			continue
		}
		j, ok := matchName(s, i, n.words)
		if !ok {
			continue
		}
		if n.formOnly {
			if j < len(s) && s[j] == '=' {
				return sc.bareValue(j + 1)
			}
			return 0, 0, false
		}
		j, ok = separator(s, j)
		if !ok {
			return 0, 0, false
		}
		if n.header {
			return sc.headerValue(j)
		}
		return sc.value(j)
	}
	return 0, 0, false
}

// matchName reports whether the name made of words starts at s[i] and ends
// a word, and where it ends.
func matchName(s string, i int, words []string) (int, bool) {
	j := i
	for k, w := range words {
		if k > 0 && j < len(s) && (s[j] == '_' || s[j] == '-') {
			j++
		}
		if !hasPrefixFold(s[j:], w) {
			return 0, false
		}
		j += len(w)
	}
	if j < len(s) && (isASCIILetter(s[j]) || isDigit(s[j]) || s[j] == '_' || s[j] == '-') {
		return 0, false
	}
	return j, true
}

// separator skips what lies between a name and its value: the name's
// closing quote, ":" or "=", spaces, and the "[" of a header dump
// (map[Authorization:[Bearer …]]).
func separator(s string, j int) (int, bool) {
	j = skipQuote(s, j)
	j = skipSpace(s, j)
	if j >= len(s) || s[j] != ':' && s[j] != '=' {
		return 0, false
	}
	j = skipSpace(s, j+1)
	if j < len(s) && s[j] == '[' && !strings.HasPrefix(s[j:], Redacted) {
		j = skipSpace(s, j+1)
	}
	return j, true
}

// value finds the value that starts at s[j]: quoted or bare.
func (sc *fieldScan) value(j int) (start, end int, ok bool) {
	s := sc.s
	q := quoteAt(s, j)
	if q == "" {
		return sc.bareValue(j)
	}
	start = j + len(q)
	end = start
	for end < len(s) && !strings.HasPrefix(s[end:], q) {
		if s[end] == '\\' && q != `\"` {
			end++
		}
		end++
	}
	return checked(s, start, min(end, len(s)))
}

// bareValue finds an unquoted value starting at s[j].
func (sc *fieldScan) bareValue(j int) (start, end int, ok bool) {
	s := sc.s
	if j > sc.bareFrom && j <= sc.bareTo {
		// Inside the last bare value, which ends where this one does:
		// remembering it keeps "password=password=…" linear.
		return checked(s, j, sc.bareTo)
	}
	end = j
	for end < len(s) && !endsBareValue(s, end) {
		end++
	}
	sc.bareFrom, sc.bareTo = j, end
	return checked(s, j, end)
}

// headerValue finds the credential of an Authorization value at s[j]: the
// word after a known scheme, or else the first word and the one after it,
// since the first word may be the credential or an unknown scheme.
func (sc *fieldScan) headerValue(j int) (start, end int, ok bool) {
	s := sc.s
	if quoteAt(s, j) != "" {
		return sc.value(j)
	}
	_, word, _ := sc.bareValue(j)
	if word == 0 {
		return 0, 0, false
	}
	for _, scheme := range authSchemes {
		if word-j == len(scheme) && hasPrefixFold(s[j:], scheme) {
			return sc.bareValue(skipSpace(s, word))
		}
	}
	start, end = j, word
	if k := skipSpace(s, word); k > word {
		if _, e, ok := sc.bareValue(k); ok {
			end = e
		}
	}
	return checked(s, start, end)
}

// bearerValue finds the credential after "Bearer" and the spaces that
// follow it.
func (sc *fieldScan) bearerValue(j int) (start, end int, ok bool) {
	s := sc.s
	start = skipSpace(s, j)
	if start == j {
		return 0, 0, false
	}
	end = start
	for end < len(s) && isTokenChar(s[end]) {
		end++
	}
	return checked(s, start, end)
}

// checked refuses an empty value and one already redacted, so that
// redacting twice changes nothing more.
func checked(s string, start, end int) (int, int, bool) {
	if end <= start || strings.HasPrefix(s[start:], Redacted) {
		return 0, 0, false
	}
	return start, end, true
}

// quoteAt returns the quote that opens a value at s[j]: `"`, `'`, or `\"`
// (a quote escaped inside a JSON string), or "".
func quoteAt(s string, j int) string {
	switch {
	case j >= len(s):
		return ""
	case s[j] == '"' || s[j] == '\'':
		return s[j : j+1]
	case strings.HasPrefix(s[j:], `\"`):
		return `\"`
	}
	return ""
}

func skipQuote(s string, j int) int {
	return j + len(quoteAt(s, j))
}

func skipSpace(s string, j int) int {
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	return j
}

// endsBareValue reports whether s[j] ends an unquoted value: a space, a
// quote, punctuation that separates fields, or a JSON escape (\u0026, \",
// \n…).
func endsBareValue(s string, j int) bool {
	switch c := s[j]; c {
	case '&', '"', '\'', ',', ';', '<', '>', '(', ')', '[', ']', '{', '}':
		return true
	case '\\':
		return j+1 == len(s) || strings.IndexByte(`u"'nrtbf\`, s[j+1]) >= 0
	default:
		return isSpace(c)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isTokenChar reports whether c may appear in an RFC 6750 bearer token.
func isTokenChar(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || strings.IndexByte("-._~+/=", c) >= 0
}

// hasPrefixFold is strings.HasPrefix under ASCII case folding.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
