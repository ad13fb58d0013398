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
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// Policy keeps retry waits to milliseconds so that a sweep takes seconds:
// a Retry-After of one second, or an HTTP-date, is cut to MaxRetryAfter.
var Policy = token.RetryPolicy{MaxAttempts: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

// HangDeadline bounds a call whose answer never comes.
const HangDeadline = 300 * time.Millisecond

// callDeadline bounds every other call; none should come near it, since
// every wait is capped at a few milliseconds.
const callDeadline = 10 * time.Second

// slack is how late a call may return after its deadline: scheduling, and
// the race detector's slowness.
const slack = time.Second

// Case is one fault of the sweep.
type Case struct {
	Name string
	// Fault is the fault's kind and parameters; Sweep sets its Service,
	// Path and Count.
	Fault testserver.Fault
}

// Cases returns the faults every operation is swept with. The HTTP-date
// Retry-After lies two seconds ahead, so that only the policy's cap keeps
// the wait short.
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

// Concurrently runs fn as a subtest for each name, all at once. Sweeps
// mostly wait, on deadlines and retry waits, so they need not queue
// behind -parallel, which admits one test per CPU.
func Concurrently(t *testing.T, names []string, fn func(t *testing.T, i int)) {
	t.Helper()
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { t.Run(name, func(t *testing.T) { fn(t, i) }) })
	}
	wg.Wait()
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
// retries runs once: its first answer is final either way.
func Sweep(t *testing.T, tg Target) {
	t.Helper()
	clean := tg.cleanRun(t)
	for _, c := range Cases() {
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
				tg.runCase(t, c, count, clean)
				tg.cleanRun(t)
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
	if err := call(t, tg.Op.Run, ctx); err != nil {
		t.Fatalf("%s without faults: %v", tg.Op.Name, err)
	}
	return tg.Wire.Count(tg.Service.Fault)
}

func (tg Target) prepare(t *testing.T, ctx context.Context) {
	t.Helper()
	if tg.Op.Prepare == nil {
		return
	}
	if err := tg.Op.Prepare(ctx); err != nil {
		t.Fatalf("preparing %s: %v", tg.Op.Name, err)
	}
}

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
	t.Logf("%d requests, %v: %v", sent, elapsed.Round(time.Millisecond), err)

	if elapsed > deadline+slack {
		t.Errorf("returned after %v, past its %v deadline", elapsed, deadline)
	}
	retried := c.retried(tg.Op.Class)
	switch {
	case f.Kind == testserver.Hang:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's deadline", err)
		}
		return
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		t.Fatalf("err = %v: the call ran into its %v deadline", err, deadline)
	case f.Kind == testserver.Throttle && elapsed > time.Second:
		// Uncapped, Retry-After 1 or a date two seconds ahead would
		// have taken two seconds or more.
		t.Errorf("took %v: Retry-After %q was not capped at %v", elapsed, f.RetryAfter, Policy.MaxRetryAfter)
	}

	// Attempts are bounded: every faulted request is tried at most
	// MaxAttempts times, and a fault on the first request only costs
	// one more attempt when the client retries it.
	wantSent := 1
	switch {
	case count == 0 && retried:
		wantSent = Policy.MaxAttempts
	case count == 1 && retried:
		wantSent = clean + 1
	case err == nil:
		wantSent = clean
	}
	if sent != wantSent {
		t.Errorf("sent %d requests, want %d (%d without faults, retried: %v)", sent, wantSent, clean, retried)
	}

	switch {
	case count == 1 && retried:
		if err != nil {
			t.Fatalf("err = %v, want success after one retry", err)
		}
		return
	case slices.Contains(tg.Op.Unread, f.Kind):
		if err != nil {
			t.Fatalf("err = %v, want success: the operation reads no answer body", err)
		}
		return
	case err == nil:
		t.Fatalf("err = nil, want the %s fault reported", c.Name)
	}
	tg.Service.checkError(t, c, err)
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
