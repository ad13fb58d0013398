package sam_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// BenchmarkDoctor runs the access check and the doctor over the same
// tenants, interleaved in the same run (the machine may be shared: both
// see the same load), each with an empty token cache, at 20 ms per
// request. It reports the medians over b.N rounds of the check's and the
// doctor's times and of the doctor's time as a multiple of the check's
// ("x-check", at most 2 is the goal), and, from the last round, the
// requests the doctor sends to the customer tenants beyond the check's,
// per tenant ("extra-requests/tenant"; token requests included), its
// token requests per tenant, its requests in the partner tenant (its own
// reads there, and GDAP coverage's, which grow with the relationships,
// not the tenants: "partner-requests"), and all its requests beyond the
// check's, per tenant ("all-extra-requests/tenant", at most 2 is the
// goal). Run it with
//
//	go test -run '^$' -bench Doctor -benchtime 3x ./sam/
func BenchmarkDoctor(b *testing.B) {
	const latency = 20 * time.Millisecond
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("N=%d,L=20ms,C=%d", n, sam.DefaultConcurrency), func(b *testing.B) {
			b.StopTimer()
			w := newAccessWorld(b)
			m := fakeManifest(b, w)
			tenants := make([]sam.Tenant, n)
			customer := map[string]bool{}
			for i := range tenants {
				tenants[i] = w.customer(b, testserver.CustomerSpec{GDAP: true, Users: 1}, true)
				customer[tenants[i].ID] = true
			}
			w.s.Inject(testserver.Fault{Kind: testserver.Latency, Latency: latency})
			var checks, doctors, ratios []float64
			var check, doctor requestCount
			for range b.N {
				freshProvider(b, w)
				w.s.ResetRequests()
				start := time.Now()
				rep, err := w.check(b.Context(), b, w.options(tenants, sam.Checks{}))
				took := time.Since(start)
				if err != nil || !rep.OK() {
					b.Fatalf("Check: %v", err)
				}
				check = countRequests(w.s, customer)

				freshProvider(b, w)
				w.s.ResetRequests()
				start = time.Now()
				b.StartTimer()
				drep, err := w.sp.Doctor(b.Context(), tenants, sam.DoctorOptions{Manifest: m})
				b.StopTimer()
				dtook := time.Since(start)
				if err != nil || len(drep.Findings) > 0 {
					b.Fatalf("Doctor: %v, %+v", err, drep)
				}
				doctor = countRequests(w.s, customer)
				checks = append(checks, float64(took.Milliseconds()))
				doctors = append(doctors, float64(dtook.Milliseconds()))
				ratios = append(ratios, float64(dtook)/float64(took))
			}
			b.ReportMetric(median(checks), "check-ms")
			b.ReportMetric(median(doctors), "doctor-ms")
			b.ReportMetric(median(ratios), "x-check")
			b.ReportMetric(float64(doctor.tenants-check.tenants)/float64(n), "extra-requests/tenant")
			b.ReportMetric(float64(doctor.tokens)/float64(n), "doctor-tokens/tenant")
			b.ReportMetric(float64(check.tokens)/float64(n), "check-tokens/tenant")
			b.ReportMetric(float64(doctor.partner), "partner-requests")
			b.ReportMetric(float64(doctor.tenants+doctor.partner-check.tenants-check.partner)/float64(n), "all-extra-requests/tenant")
		})
	}
}

// requestCount is what one run sent: to the customer tenants (token
// requests included), of which token requests, and elsewhere (the partner
// tenant).
type requestCount struct{ tenants, tokens, partner int }

func countRequests(s *testserver.Server, customer map[string]bool) requestCount {
	var c requestCount
	for _, r := range s.Requests() {
		switch {
		case !customer[r.Tenant]:
			c.partner++
		case r.IsToken():
			c.tokens++
			c.tenants++
		default:
			c.tenants++
		}
	}
	return c
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
