// Package faulttest is what the fault, secret and durability tests of
// samkit's clients share: the faults every network operation is swept
// with and the checks of its outcome, a transport that counts and watches
// what crosses the wire, a log capture, a goroutine-leak guard and the
// refresh-token rotation scenario.
//
// The property under test, for every operation and fault: the call either
// succeeds after a bounded number of attempts or fails with its package's
// typed error (or the context's error when the answer never comes), whose
// text names the service and the cause; it never panics, never waits past
// its context, never leaves a goroutine behind, and the client works again
// as soon as the fault is gone.
package faulttest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// Policy is the retry policy of the swept clients. Its waits cost no real
// time, since every call of a sweep runs in a synctest bubble (see
// Bubble); they are kept short all the same, so that a Retry-After of one
// second, or an HTTP-date two seconds ahead, is cut to MaxRetryAfter.
var Policy = token.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

// HangDeadline bounds a call whose answer never comes. In a bubble it is
// fake time, so it costs nothing and needs no slack.
const HangDeadline = 300 * time.Millisecond

// callDeadline bounds every other call; none should come near it, since
// every wait is capped at a few milliseconds of the bubble's time.
const callDeadline = 10 * time.Second

// Case is one fault of the sweep.
type Case struct {
	Name string
	// Fault is the fault's kind and parameters; Sweep sets its Service,
	// Path and Count.
	Fault testserver.Fault
}

// Cases returns the faults every operation is swept with. The HTTP-date
// Retry-After lies two seconds ahead, so that only the policy's cap keeps
// the wait short; call Cases in the bubble the case runs in, so that the
// date is two seconds ahead of the bubble's clock.
func Cases() []Case {
	date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
	cs := []Case{
		{"429 retry-after 1", testserver.Fault{Kind: testserver.Throttle, RetryAfter: "1"}},
		{"429 retry-after 0.25", testserver.Fault{Kind: testserver.Throttle, RetryAfter: "0.25"}},
		{"429 retry-after date", testserver.Fault{Kind: testserver.Throttle, RetryAfter: date}},
		{"429 no retry-after", testserver.Fault{Kind: testserver.Throttle}},
	}
	for _, s := range []int{500, 502, 503, 504} {
		cs = append(cs, Case{fmt.Sprint(s), testserver.Fault{Kind: testserver.Status, Status: s}})
	}
	return append(cs,
		Case{"reset", testserver.Fault{Kind: testserver.Reset}},
		Case{"hang", testserver.Fault{Kind: testserver.Hang}},
		Case{"truncated", testserver.Fault{Kind: testserver.Truncated}},
		Case{"html", testserver.Fault{Kind: testserver.HTML}},
		Case{"empty", testserver.Fault{Kind: testserver.Empty}},
		Case{"huge", testserver.Fault{Kind: testserver.Huge}},
	)
}

// retried reports whether a client replays a request of class after the
// case's fault, as httpx documents its classes.
func (c Case) retried(class httpx.RetryClass) bool {
	switch c.Fault.Kind {
	case testserver.Throttle:
		return class != httpx.RetryNever
	case testserver.Status, testserver.HTML, testserver.Reset:
		return class == httpx.RetryAlways
	}
	return false
}

// Final reports whether no client retries the fault's answer: one that
// never comes, or a 200.
func (c Case) Final() bool {
	switch c.Fault.Kind {
	case testserver.Hang, testserver.Truncated, testserver.Empty, testserver.Huge:
		return true
	}
	return false
}

// Concurrently runs fn as a parallel subtest for each name. Their waits
// are fake (see Bubble), so they queue behind -parallel like any test:
// starting them all at once would only make them share the CPUs.
func Concurrently(t *testing.T, names []string, fn func(t *testing.T, i int)) {
	t.Helper()
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, i)
		})
	}
}

// Service describes a client package's errors.
type Service struct {
	// Fault is the fake's name of the service whose requests are faulted:
	// login, graph, partner or exchange.
	Fault string
	// Prefix starts the text of every error of the package ("graph: ").
	Prefix string
	// Status finds the package's error type in err and returns its HTTP
	// status.
	Status func(err error) (int, bool)
	// Throttled is the package's sentinel for HTTP 429.
	Throttled error
}

// Op is one network operation of a client.
type Op struct {
	Name string
	// Class is how the client retries the operation's requests:
	// httpx.RetryAlways for reads and token requests (GET, or POST that
	// is safe to replay), httpx.RetryThrottleOnly for writes.
	Class httpx.RetryClass
	// Unread lists the 200 faults (Empty, Truncated) whose answer the
	// operation succeeds on because it reads no answer body: a DELETE or a
	// PATCH takes any 2xx as done.
	Unread []testserver.FaultKind
	// Prepare, when set, restores before each call, without faults, the
	// state the operation needs (a consent to delete…).
	Prepare func(ctx context.Context) error
	// Run performs the operation; for an iterator, it ranges to the end.
	Run func(ctx context.Context) error
}

// Target is an operation wired to its own fake cloud: faults are global to
// a server, so operations swept in parallel each need one.
type Target struct {
	Server  *testserver.Server
	Wire    *Wire
	Service Service
	Op      Op
	// Path, when set, limits the faults to requests whose path holds it.
	Path string
}

// Sweep runs the operation once without faults, then under every case,
// once with the fault on every request (the retries run out) and once on
// the first request only (a retrying client recovers), and once more
// without faults after each, which must succeed. A fault no client
// retries runs once: its first answer is final either way. Every case
// runs in a bubble of its own (see Bubble), so that its verdict counts
// attempts and the fake time waited, never the machine's speed.
func Sweep(t *testing.T, tg Target) {
	t.Helper()
	var clean int
	Bubble(t, tg.Server, func(t *testing.T) { clean = tg.cleanRun(t) })
	for i, c := range Cases() {
		counts := []int{0, 1}
		if c.Final() {
			counts = counts[:1]
		}
		for _, count := range counts {
			name := c.Name + "/every request"
			if count == 1 {
				name = c.Name + "/first request"
			}
			t.Run(name, func(t *testing.T) {
				Bubble(t, tg.Server, func(t *testing.T) {
					tg.runCase(t, Cases()[i], count, clean)
					tg.cleanRun(t)
				})
			})
		}
	}
}

// cleanRun runs the operation without faults, requires success, and
// returns how many requests of the service it sent.
func (tg Target) cleanRun(t *testing.T) int {
	t.Helper()
	tg.Server.ClearFaults()
	ctx, cancel := context.WithTimeout(t.Context(), callDeadline)
	defer cancel()
	tg.prepare(t, ctx)
	tg.Wire.Reset()
	err := call(t, tg.Op.Run, ctx)
	require.NoError(t, err, "%s without faults", tg.Op.Name)
	return tg.Wire.Count(tg.Service.Fault)
}

func (tg Target) prepare(t *testing.T, ctx context.Context) {
	t.Helper()
	if tg.Op.Prepare == nil {
		return
	}
	require.NoError(t, tg.Op.Prepare(ctx), "preparing %s", tg.Op.Name)
}

// runCase runs the operation under one fault, in a bubble: elapsed is the
// fake time the call spent waiting, the sum of its retry waits and, for a
// hang, its deadline.
func (tg Target) runCase(t *testing.T, c Case, count, clean int) {
	t.Helper()
	ctx0, cancel0 := context.WithTimeout(t.Context(), callDeadline)
	tg.prepare(t, ctx0)
	cancel0()

	f := c.Fault
	f.Service, f.Path, f.Count = tg.Service.Fault, tg.Path, count
	deadline := callDeadline
	if f.Kind == testserver.Hang {
		deadline = HangDeadline
	}
	tg.Wire.Reset()
	tg.Server.Inject(f)
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	err := call(t, tg.Op.Run, ctx)
	elapsed := time.Since(start)
	tg.Server.ClearFaults()
	sent := tg.Wire.Count(tg.Service.Fault)
	t.Logf("%d requests, %v waited: %v", sent, elapsed, err)

	assert.LessOrEqual(t, elapsed, deadline, "waited past its deadline")
	retried := c.retried(tg.Op.Class)
	switch {
	case f.Kind == testserver.Hang:
		require.ErrorIs(t, err, context.DeadlineExceeded, "a hang ends with the context's deadline")
		return
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		require.FailNow(t, "the call ran into its deadline", "err = %v, deadline %v", err, deadline)
	}

	// Attempts are bounded: every faulted request is tried at most
	// MaxAttempts times, and a fault on the first request only costs
	// one more attempt when the client retries it.
	wantSent, waits := 1, 0
	switch {
	case count == 0 && retried:
		wantSent, waits = Policy.MaxAttempts, Policy.MaxAttempts-1
	case count == 1 && retried:
		wantSent, waits = clean+1, 1
	case err == nil:
		wantSent = clean
	}
	assert.Equal(t, wantSent, sent, "requests sent (%d without faults, retried: %v)", clean, retried)
	tg.checkWaits(t, f, waits, elapsed)

	switch {
	case count == 1 && retried:
		require.NoError(t, err, "want success after one retry")
		return
	case slices.Contains(tg.Op.Unread, f.Kind):
		require.NoError(t, err, "want success: the operation reads no answer body")
		return
	case err == nil:
		require.FailNow(t, "the fault was not reported", "err = nil, want the %s fault reported", c.Name)
	}
	tg.Service.checkError(t, c, err)
}

// checkWaits requires the fake time a call spent to be its retry waits:
// each Retry-After at or beyond the policy's cap (every one of the sweep
// but an absent one) waited exactly MaxRetryAfter, so honoured and
// capped; any other retry at most MaxWait; no retry, no wait.
func (tg Target) checkWaits(t *testing.T, f testserver.Fault, waits int, elapsed time.Duration) {
	t.Helper()
	switch {
	case f.Kind == testserver.Throttle && f.RetryAfter != "":
		assert.Equal(t, time.Duration(waits)*Policy.MaxRetryAfter, elapsed,
			"%d waits of Retry-After %q, each capped at %v", waits, f.RetryAfter, Policy.MaxRetryAfter)
	default:
		assert.LessOrEqual(t, elapsed, time.Duration(waits)*Policy.MaxWait, "%d backoff waits of at most %v", waits, Policy.MaxWait)
	}
}

// checkError requires err to be the package's error, or for a broken
// connection a transport error, named after the service and the cause.
func (s Service) checkError(t *testing.T, c Case, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, s.Prefix) {
		t.Errorf("error %q does not start with %q", msg, s.Prefix)
	}
	_ = fmt.Sprintf("%+v %#v", err, err) // must not panic
	f := c.Fault
	if f.Kind == testserver.Reset {
		var ue *url.Error
		if _, typed := s.Status(err); !typed && !errors.As(err, &ue) {
			t.Errorf("error %q (%T) is neither the package's error nor a transport error", msg, err)
		}
		return
	}
	status, typed := s.Status(err)
	if !typed {
		t.Fatalf("error %q (%T) is not the package's error type", msg, err)
	}
	want, cause := http.StatusOK, ""
	switch f.Kind {
	case testserver.Throttle:
		want, cause = http.StatusTooManyRequests, "429|too many|throttl"
		if !errors.Is(err, s.Throttled) {
			t.Errorf("errors.Is(%q, %v) = false", msg, s.Throttled)
		}
	case testserver.Status:
		want, cause = f.Status, fmt.Sprintf("%d|%s|temporarily_unavailable", f.Status, strings.ToLower(http.StatusText(f.Status)))
	case testserver.HTML:
		want, cause = http.StatusBadGateway, "html"
	case testserver.Empty:
		cause = "empty"
	case testserver.Truncated:
		cause = "json"
	case testserver.Huge:
		cause = "too large|larger than"
	}
	if status != want {
		t.Errorf("error %q has status %d, want %d", msg, status, want)
	}
	if !containsAny(strings.ToLower(msg), strings.Split(cause, "|")) {
		t.Errorf("error %q does not name the cause (%s)", msg, cause)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// call runs fn, failing the test on a panic so that the sweep reports
// which case caused it.
func call(t *testing.T, fn func(context.Context) error, ctx context.Context) error {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	return fn(ctx)
}
