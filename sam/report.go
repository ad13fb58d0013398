package sam

import (
	"fmt"
	"time"
)

// Outcome is how a check ended.
type Outcome string

// The outcomes of a check.
const (
	OutcomePassed Outcome = "passed"
	OutcomeFailed Outcome = "failed"
	// OutcomeSkipped: the check did not run, or did not finish, because
	// the run was cancelled.
	OutcomeSkipped Outcome = "skipped"
)

// CheckResult is the outcome of one check in one tenant.
type CheckResult struct {
	Check   Check   `json:"check"`
	Outcome Outcome `json:"outcome"`
	// Code is the service's error code: "AADSTS65001" for the identity
	// platform, Graph's ("Authorization_RequestDenied"), Exchange's or
	// Partner Center's, or "HTTP 503" when the answer had none; "" for a
	// pass and for failures with no answer (network errors).
	Code string `json:"code,omitzero"`
	// Status is the HTTP status of the failed answer, 0 when there was
	// none.
	Status int `json:"status,omitzero"`
	// Message is the error, one line, without secrets.
	Message string `json:"message,omitzero"`
	// Hint says what a person can do about a failure.
	Hint string `json:"hint,omitzero"`
	// Duration is how long the check took, token request included.
	Duration time.Duration `json:"duration"`
	// Err is the error itself, for errors.Is and errors.As.
	Err error `json:"-"`
}

// OK reports whether the check passed.
func (r CheckResult) OK() bool { return r.Outcome == OutcomePassed }

// TenantResult is the outcome of every check in one tenant, in the order
// they ran.
type TenantResult struct {
	Tenant   Tenant        `json:"tenant"`
	Checks   []CheckResult `json:"checks"`
	Duration time.Duration `json:"duration"`
}

// Failed reports whether a check failed in the tenant.
func (r TenantResult) Failed() bool { return r.count(OutcomeFailed) > 0 }

// Skipped reports whether a check was left undone in the tenant.
func (r TenantResult) Skipped() bool { return r.count(OutcomeSkipped) > 0 }

func (r TenantResult) count(o Outcome) int {
	n := 0
	for _, c := range r.Checks {
		if c.Outcome == o {
			n++
		}
	}
	return n
}

// Tally counts the outcomes of one check across tenants.
type Tally struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Total is how many tenants the check was meant for.
func (t Tally) Total() int { return t.Passed + t.Failed + t.Skipped }

// AccessReport is what Partner.Check found.
type AccessReport struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	// Concurrency is how many tenants were checked at once.
	Concurrency int `json:"concurrency"`
	// Checks are the checks that were chosen: the per-tenant ones in the
	// order they run, then CheckPartnerCenter.
	Checks []Check `json:"checks"`
	// Totals counts each check's outcomes; each check's Tally adds up to
	// the number of tenants (to 1 for CheckPartnerCenter).
	Totals map[Check]Tally `json:"totals"`
	// Tenants holds one result per tenant, in the order they were given
	// to Check.
	Tenants []TenantResult `json:"tenants"`
	// PartnerCenter is the outcome of CheckPartnerCenter, nil when it was
	// not chosen.
	PartnerCenter *CheckResult `json:"partnerCenter,omitzero"`
	// Throttled counts the throttling answers (429, or 503 with a
	// Retry-After) the API requests met, retries included; each paused the
	// whole run.
	Throttled int `json:"throttled"`
	// ThrottledWait is how long the run stood still waiting out the
	// services' Retry-After: the shared backoff's pauses, overlapping ones
	// counted once. Duration less ThrottledWait is the run's own pace.
	ThrottledWait time.Duration `json:"throttledWait"`
	// Cancelled is set when the run was cancelled before it finished; the
	// checks not done are OutcomeSkipped.
	Cancelled bool `json:"cancelled,omitzero"`
	// Stopped is the failure of the credentials themselves that stopped
	// the run (see StopsRun), nil when none did; the checks not done are
	// OutcomeSkipped.
	Stopped *CheckResult `json:"stopped,omitzero"`
}

func (r *AccessReport) tally() {
	r.Totals = make(map[Check]Tally, len(r.Checks))
	for _, c := range r.Checks {
		r.Totals[c] = Tally{}
	}
	add := func(c CheckResult) {
		t := r.Totals[c.Check]
		switch c.Outcome {
		case OutcomePassed:
			t.Passed++
		case OutcomeFailed:
			t.Failed++
		default:
			t.Skipped++
		}
		r.Totals[c.Check] = t
	}
	for _, tr := range r.Tenants {
		for _, c := range tr.Checks {
			add(c)
		}
	}
	if r.PartnerCenter != nil {
		add(*r.PartnerCenter)
	}
}

// Failures returns the results of the tenants where a check failed, in
// report order.
func (r *AccessReport) Failures() []TenantResult {
	var out []TenantResult
	for _, t := range r.Tenants {
		if t.Failed() {
			out = append(out, t)
		}
	}
	return out
}

// OK reports whether every chosen check ran and passed everywhere.
func (r *AccessReport) OK() bool {
	for _, t := range r.Totals {
		if t.Failed > 0 || t.Skipped > 0 {
			return false
		}
	}
	return !r.Cancelled && r.Stopped == nil
}

// Summary is the report in one line, "12 total tenants, with 2 failures"
// ("1 total tenant, with 1 failure"), as the PowerShell test script
// ended; a cancelled or stopped run adds how many tenants were left
// unchecked, a failed Partner Center check says so.
func (r *AccessReport) Summary() string {
	f := len(r.Failures())
	s := fmt.Sprintf("%d total %s, with %d %s", len(r.Tenants), plural(len(r.Tenants), "tenant", "tenants"), f, plural(f, "failure", "failures"))
	if r.PartnerCenter != nil && r.PartnerCenter.Outcome == OutcomeFailed {
		s += "; Partner Center check failed"
	}
	if r.Cancelled || r.Stopped != nil {
		n := 0
		for _, t := range r.Tenants {
			if t.Skipped() {
				n++
			}
		}
		why := "cancelled"
		if r.Stopped != nil {
			why = "stopped, the credentials were refused"
		}
		s += fmt.Sprintf(" (%s: %d not fully checked)", why, n)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
