package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// NewRedactingHandler wraps h so that no secret reaches it: attributes
// whose keys look like secrets (IsSecretKey: token, secret, password,
// assertion, code, authorization…) are replaced by "[redacted]", at any
// depth of groups; URL values (*url.URL, url.URL, strings and error texts
// holding URLs) lose their query and fragment; url.Values and http.Header
// values have their secret fields redacted; text that looks like a JWT or
// an Authorization header is redacted wherever it appears.
func NewRedactingHandler(h slog.Handler) slog.Handler {
	if r, ok := h.(*redactingHandler); ok {
		return r
	}
	return &redactingHandler{h: h}
}

// RedactingLogger returns a logger that writes through l's handler,
// redacted; a nil l gives a logger that discards everything.
func RedactingLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	if _, ok := l.Handler().(*redactingHandler); ok {
		return l
	}
	return slog.New(NewRedactingHandler(l.Handler()))
}

type redactingHandler struct{ h slog.Handler }

func (r *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return r.h.Enabled(ctx, l)
}

func (r *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, RedactText(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return &redactingHandler{h: r.h.WithAttrs(red)}
}

func (r *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{h: r.h.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if IsSecretKey(a.Key) {
		if v.Kind() == slog.KindString && v.String() == "" {
			return slog.String(a.Key, "")
		}
		return slog.String(a.Key, Redacted)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, RedactText(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: redactAny(v.Any())}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func redactAny(x any) slog.Value {
	switch x := x.(type) {
	case *url.URL:
		return slog.StringValue(RedactURL(x))
	case url.URL:
		return slog.StringValue(RedactURL(&x))
	case url.Values:
		red := make(url.Values, len(x))
		for k, vs := range x {
			if IsSecretKey(k) {
				vs = []string{Redacted}
			}
			red[k] = vs
		}
		return slog.StringValue(red.Encode())
	case http.Header:
		red := make(http.Header, len(x))
		for k, vs := range x {
			if IsSecretKey(k) {
				vs = []string{Redacted}
			}
			red[k] = vs
		}
		return slog.AnyValue(red)
	case error:
		return slog.StringValue(RedactText(x.Error()))
	case fmt.Stringer:
		return slog.StringValue(RedactText(x.String()))
	}
	return slog.AnyValue(x)
}
