package httpx

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type secretValuer string

func (s secretValuer) LogValue() slog.Value { return slog.StringValue(string(s)) }

func TestRedactingHandler(t *testing.T) {
	t.Parallel()
	const leak = "LEAKED"
	var buf bytes.Buffer
	base := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	log := slog.New(NewRedactingHandler(base))
	u, _ := url.Parse("https://h/cb?code=" + leak)
	log = log.With("client_secret", leak, "endpoint", "https://h/t?x="+leak)
	log.WithGroup("req").Debug("token request https://h/p?code="+leak,
		"tenant", "contoso.onmicrosoft.com",
		"refresh_token", leak,
		"Authorization", "Bearer "+leak,
		"code", leak,
		"url", u,
		"urlValue", *u,
		"form", url.Values{"client_secret": {leak}, "scope": {"s"}},
		"header", http.Header{"Authorization": {"Bearer " + leak}, "Accept": {"json"}},
		"err", errors.New(`Post "https://h/p?code=`+leak+`": EOF`),
		"valuer", secretValuer("https://h/p?sig="+leak),
		"nested", slog.GroupValue(slog.String("password", leak), slog.Int("n", 1)),
		"empty_secret", "",
		"jwt", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ"+leak+"In0.sig",
	)
	out := buf.String()
	if strings.Contains(out, leak) {
		t.Errorf("secret leaked:\n%s", out)
	}
	for _, want := range []string{`"tenant":"contoso.onmicrosoft.com"`, `"refresh_token":"[redacted]"`, `"url":"https://h/cb"`, `"n":1`, `"Accept":["json"]`, `"empty_secret":""`, `"endpoint":"https://h/t"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestRedactingLogger(t *testing.T) {
	t.Parallel()
	if l := RedactingLogger(nil); l.Enabled(t.Context(), slog.LevelError) {
		t.Error("nil logger does not discard")
	}
	l := RedactingLogger(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if RedactingLogger(l) != l {
		t.Error("RedactingLogger wrapped a redacting logger twice")
	}
}
