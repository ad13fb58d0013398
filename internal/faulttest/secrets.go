package faulttest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logs captures everything a logger writes, at debug level, as JSON.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns what was logged.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger returns a debug-level logger writing to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Errors collects the errors of a test, each as Error() and as %+v.
type Errors struct {
	mu   sync.Mutex
	text []string
}

// Add records err; nil is ignored.
func (e *Errors) Add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.text = append(e.text, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
}

// Len returns how many errors were added.
func (e *Errors) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.text) / 3
}

// String returns every error's texts, one per line.
func (e *Errors) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.text, "\n")
}

// fragment is how much of a secret is enough to recognise it: a token
// cut short in an excerpt is still a leak.
const fragment = 16

// AssertNoSecrets fails t if any secret, or any 16-byte piece of one,
// appears in the texts named by their keys.
func AssertNoSecrets(t *testing.T, texts map[string]string, secrets []string) {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("no secrets to look for: the test watched nothing")
	}
	for name, text := range texts {
		for _, s := range secrets {
			if at, ok := leaked(text, s); ok {
				t.Errorf("%s holds a secret of %d bytes (its bytes from %d on)", name, len(s), at)
			}
		}
	}
}

// leaked returns where in secret a piece found in text begins.
func leaked(text, secret string) (int, bool) {
	if len(secret) <= fragment {
		return 0, len(secret) >= 8 && strings.Contains(text, secret)
	}
	for i := 0; i+fragment <= len(secret); i += fragment / 2 {
		if strings.Contains(text, secret[i:i+fragment]) {
			return i, true
		}
	}
	return 0, false
}
