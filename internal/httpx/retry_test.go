package httpx

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MinWait: 10 * time.Millisecond, MaxWait: 200 * time.Millisecond, MaxRetryAfter: time.Second}.WithDefaults()
	for attempt := range 40 {
		for range 20 {
			if d := p.backoff(attempt, nil); d < p.MinWait || d > p.MaxWait {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, p.MinWait, p.MaxWait)
			}
		}
	}
	resp := func(ra string) *http.Response {
		return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {ra}}}
	}
	if d := p.backoff(0, resp("0.25")); d != 250*time.Millisecond {
		t.Errorf("Retry-After 0.25: waited %v, want 250ms", d)
	}
	if d := p.backoff(0, resp("120")); d != time.Second {
		t.Errorf("Retry-After 120: waited %v, want the 1s cap", d)
	}
	if d := p.backoff(0, resp("soon")); d < p.MinWait || d > p.MaxWait {
		t.Errorf("malformed Retry-After: waited %v, want the backoff", d)
	}
}

func TestPolicyDefaults(t *testing.T) {
	t.Parallel()
	got := RetryPolicy{}.WithDefaults()
	want := RetryPolicy{MaxAttempts: 4, MinWait: 500 * time.Millisecond, MaxWait: 30 * time.Second, MaxRetryAfter: 60 * time.Second,
		AttemptTimeout: 32 * time.Second, MaxElapsed: 3 * time.Minute}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	if p := (RetryPolicy{MinWait: time.Minute}).WithDefaults(); p.MaxWait != time.Minute {
		t.Errorf("MaxWait below MinWait = %v, want raised to MinWait", p.MaxWait)
	}
}

func TestRetryClassFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		ctx    context.Context
		method string
		want   RetryClass
	}{
		{ctx, "GET", RetryAlways},
		{ctx, "PUT", RetryAlways},
		{ctx, "POST", RetryThrottleOnly},
		{ctx, "PATCH", RetryThrottleOnly},
		{WithRetryClass(ctx, RetryIdempotent), "POST", RetryThrottleOnly},
		{WithRetryClass(ctx, RetryAlways), "POST", RetryAlways},
		{WithRetryClass(ctx, RetryNever), "GET", RetryNever},
		{WithRetryClass(ctx, RetryThrottleOnly), "GET", RetryThrottleOnly},
	}
	for _, tt := range tests {
		if got := retryClassFor(tt.ctx, tt.method); got != tt.want {
			t.Errorf("retryClassFor(%s) = %v, want %v", tt.method, got, tt.want)
		}
	}
}
