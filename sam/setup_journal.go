package sam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/samkit/samkit/graph"
)

// rollbackTimeout bounds the undoing of a failed run. It runs on a context
// of its own so that a cancelled run is still cleaned up.
const rollbackTimeout = 2 * time.Minute

// journal records what a run created or changed, as the steps that undo
// it, so that a failure can be undone in reverse order.
type journal struct {
	log   *slog.Logger
	steps []*undo
}

type undo struct {
	what string
	fn   func(ctx context.Context) error
}

// add records how to undo what was just done, or is about to be done. The
// returned func forgets it again: for a write recorded before it was sent
// that certainly did not take effect.
func (j *journal) add(what string, fn func(ctx context.Context) error) (forget func()) {
	u := &undo{what: what, fn: fn}
	j.steps = append(j.steps, u)
	return func() {
		j.steps = slices.DeleteFunc(j.steps, func(v *undo) bool { return v == u })
	}
}

func (j *journal) empty() bool { return len(j.steps) == 0 }
func (j *journal) len() int    { return len(j.steps) }

// rollback undoes every step, newest first, on a context that survives
// the cancellation of ctx. A step whose object is already gone counts as
// done; the others' failures are all reported, naming what is left.
func (j *journal) rollback(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var errs []error
	for i := len(j.steps) - 1; i >= 0; i-- {
		u := j.steps[i]
		err := u.fn(ctx)
		if err != nil && !errors.Is(err, graph.ErrNotFound) {
			errs = append(errs, fmt.Errorf("%s: %w", u.what, err))
			j.log.Warn("setup rollback step failed", "undo", u.what, "error", err)
			continue
		}
		j.log.Debug("setup rollback step", "undo", u.what)
	}
	j.steps = nil
	return errors.Join(errs...)
}

// uncertain reports whether a failed create may nevertheless have taken
// effect: the request was sent and no answer said it was refused (a
// timeout, a reset, a cancellation, a 5xx). A 4xx answer, including 408
// and 429, and an argument refused before sending mean nothing was made.
func uncertain(err error) bool {
	if errors.Is(err, graph.ErrInvalidArgument) {
		return false
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.StatusCode >= http.StatusInternalServerError || ge.StatusCode < http.StatusBadRequest
	}
	return true
}
