package graph

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		src      fixed
		opts     []Option
		wantBase string
		wantErr  string
	}{
		{"default is the public cloud", "t", nil, "https://graph.microsoft.com/v1.0", ""},
		{"cloud", "t", []Option{WithCloud(cloud.USGovernment)}, "https://graph.microsoft.us/v1.0", ""},
		{"base URL, slash trimmed", "t", []Option{WithBaseURL("https://graph.example/v1.0/")}, "https://graph.example/v1.0", ""},
		{"loopback http", "t", []Option{WithBaseURL("http://127.0.0.1:8080/graph/v1.0")}, "http://127.0.0.1:8080/graph/v1.0", ""},
		{"last of cloud and base wins", "t", []Option{WithBaseURL("https://a.example/v1.0"), WithCloud(cloud.China)},
			"https://microsoftgraph.chinacloudapi.cn/v1.0", ""},
		{"plain http", "t", []Option{WithBaseURL("http://graph.example/v1.0")}, "", "must use https"},
		{"relative", "t", []Option{WithBaseURL("/v1.0")}, "", "not an absolute URL"},
		{"query", "t", []Option{WithBaseURL("https://graph.example/v1.0?x=1")}, "", "no query"},
		{"bad cloud", "t", []Option{WithCloud(cloud.Configuration{Name: "broken"})}, "", "WithCloud"},
		{"nil HTTP client", "t", []Option{WithHTTPClient(nil)}, "", "nil *http.Client"},
		{"nil logger", "t", []Option{WithLogger(nil)}, "", "nil *slog.Logger"},
		{"negative policy", "t", []Option{WithRetryPolicy(token.RetryPolicy{MaxAttempts: -1})}, "", "negative"},
		{"negative consistency", "t", []Option{WithConsistencyRetry(-1)}, "", "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.src, tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := c.BaseURL(); got != tt.wantBase {
				t.Errorf("BaseURL = %q, want %q", got, tt.wantBase)
			}
		})
	}
}

func TestNewNilSource(t *testing.T) {
	t.Parallel()
	if _, err := New(nil); err == nil {
		t.Fatal("New(nil) succeeded, want an error")
	}
}

// TestLoggerRedacts checks that a retried call logs through the given
// logger without the token or the URL's query.
func TestLoggerRedacts(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := &counter{n: -1} // first token "tok-0" is refused
	c, _ := m.client(src, WithLogger(log))
	if _, err := Collect(c.Users(t.Context(), ListOptions{Filter: "displayName eq 'secret-looking'"})); err != nil {
		t.Fatalf("Users: %v", err)
	}
	out := buf.String()
	if !strings.Contains(out, "graph token refused") || !strings.Contains(out, "http request") {
		t.Errorf("log lacks the refresh and request lines:\n%s", out)
	}
	for _, leak := range []string{"tok-0", "tok-1", "secret-looking", "skiptoken"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
}
