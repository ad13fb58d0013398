package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// TimeoutError is a bound of RetryPolicy that ran out: the service at Host
// did not answer, or stopped sending, in time. Its message names the host
// and the bound, so that a hung endpoint reads as one.
type TimeoutError struct {
	// Host is the host (and port, if any) that did not answer in time.
	Host string
	// Wait is the bound that ran out.
	Wait time.Duration
	// Attempts is how many attempts the call made.
	Attempts int
	phase    phase
}

// phase is what a bound guards.
type phase int32

const (
	phaseHeaders phase = iota // dial, TLS handshake, request and response headers
	phaseIdle                 // a silence while the body arrives
	phaseBody                 // the whole body
	phaseElapsed              // the whole call (MaxElapsed)
)

func (e *TimeoutError) Error() string {
	switch e.phase {
	case phaseIdle:
		return fmt.Sprintf("%s stopped sending its response: nothing arrived for %v", e.Host, e.Wait)
	case phaseBody:
		return fmt.Sprintf("the response from %s did not arrive in full within %v", e.Host, e.Wait)
	case phaseElapsed:
		return fmt.Sprintf("no answer from %s within %v (%d %s)", e.Host, e.Wait, e.Attempts, plural(e.Attempts, "attempt", "attempts"))
	}
	return fmt.Sprintf("no response from %s within %v", e.Host, e.Wait)
}

// Timeout reports true, as net.Error's method does.
func (e *TimeoutError) Timeout() bool { return true }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isElapsed reports whether err is the end of MaxElapsed, after which no
// attempt starts.
func isElapsed(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te) && te.phase == phaseElapsed
}

// watch bounds one attempt. One timer guards, in turn, the wait for the
// response's headers, each silence of its body and the body as a whole;
// when it fires it cancels the attempt's context with a *TimeoutError as
// the cause, which ends whatever the transport is blocked in. Once the
// headers have arrived, watch is the response's body.
type watch struct {
	c      *call
	parent nested // c's context, marked as inside a Pipeline
	n      int    // the attempt's number
	host   string
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	phase  atomic.Int32
	bound  atomic.Int64 // the duration the timer was last set to
	rc     io.ReadCloser
	// bodyEnd is when the whole body must have arrived; bodyPhase is the
	// bound it comes from (phaseBody or phaseElapsed).
	bodyEnd   time.Time
	bodyPhase phase
	bodyBound time.Duration
}

func newWatch(c *call, req *http.Request) *watch {
	w := &watch{c: c, n: c.n, host: req.URL.Host}
	w.parent.Context = c.ctx
	w.ctx, w.cancel = context.WithCancelCause(&w.parent)
	d, ph := c.p.policy.AttemptTimeout, phaseHeaders
	if t := c.p.timeout; t > 0 && t < d {
		d = t
	}
	if rem := time.Until(c.deadline); rem < d {
		d, ph = rem, phaseElapsed
	}
	w.set(ph, d)
	w.timer = time.AfterFunc(d, w.expire)
	return w
}

func (w *watch) set(ph phase, d time.Duration) {
	w.phase.Store(int32(ph))
	w.bound.Store(int64(d))
}

func (w *watch) expire() {
	ph := phase(w.phase.Load())
	d := time.Duration(w.bound.Load())
	if ph == phaseElapsed {
		d = w.c.p.policy.MaxElapsed
	}
	w.cancel(&TimeoutError{Host: w.host, Wait: d, Attempts: w.n, phase: ph})
}

// timedOut returns the *TimeoutError that ended the attempt, if one did
// and the caller's context is still live.
func (w *watch) timedOut() *TimeoutError {
	var te *TimeoutError
	if w.c.ctx.Err() == nil && errors.As(context.Cause(w.ctx), &te) {
		return te
	}
	return nil
}

// failed ends an attempt that got no response. A transport's error is
// returned as http.Client.Do would return it, in a *url.Error, with the
// URL redacted.
func (w *watch) failed(req *http.Request, err error) error {
	w.timer.Stop()
	te := w.timedOut()
	w.cancel(nil)
	if te != nil {
		return te
	}
	return RedactChain(&url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err})
}

// urlErrorOp is the Op of http.Client.Do's *url.Error for method: "Get",
// "Post"…
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	if lm := strings.ToLower(method); lm != method {
		return method[:1] + lm[1:]
	}
	return method
}

// headers hands the attempt's timer over to resp's body.
func (w *watch) headers(resp *http.Response) {
	w.timer.Stop()
	p := w.c.p.policy
	d, ph := BodyTimeoutFactor*p.AttemptTimeout, phaseBody
	if t := w.c.p.timeout; t > 0 && t < d {
		d = t
	}
	now := time.Now()
	w.bodyEnd = now.Add(d)
	if w.c.deadline.Before(w.bodyEnd) {
		w.bodyEnd, ph = w.c.deadline, phaseElapsed
	}
	w.bodyPhase, w.bodyBound = ph, d
	w.rc = resp.Body
	resp.Body = w
	w.arm(now)
}

// arm sets the timer for the next silence of the body, or for the end of
// the body's time when that comes first.
func (w *watch) arm(now time.Time) {
	idle, rem := w.c.p.policy.AttemptTimeout, w.bodyEnd.Sub(now)
	if rem < idle {
		w.set(w.bodyPhase, w.bodyBound)
		w.timer.Reset(rem)
		return
	}
	w.set(phaseIdle, idle)
	w.timer.Reset(idle)
}

func (w *watch) Read(b []byte) (int, error) {
	n, err := w.rc.Read(b)
	if err == nil {
		if n > 0 {
			w.arm(time.Now())
		}
		return n, nil
	}
	w.timer.Stop()
	if err == io.EOF {
		return n, err
	}
	if te := w.timedOut(); te != nil {
		return n, te
	}
	return n, RedactChain(err)
}

func (w *watch) Close() error {
	w.timer.Stop()
	err := w.rc.Close()
	w.cancel(nil)
	return err
}
