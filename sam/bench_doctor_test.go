package sam_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// BenchmarkDoctor runs the access check and the doctor over the same
// tenants in the same run, each with an empty token cache, at 20 ms per
// request, and reports the doctor's time as a multiple of the check's
// ("x-check", at most 2 is the goal) and the requests it sends per tenant
// beyond the check's ("extra-requests/tenant", at most 2). Run it with
//
//	go test -run '^$' -bench Doctor -benchtime 1x ./sam/
func BenchmarkDoctor(b *testing.B) {
	const latency = 20 * time.Millisecond
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("N=%d,L=20ms,C=%d", n, sam.DefaultConcurrency), func(b *testing.B) {
			b.StopTimer()
			w := newAccessWorld(b)
			m := fakeManifest(b, w)
			tenants := make([]sam.Tenant, n)
			for i := range tenants {
				tenants[i] = w.customer(b, testserver.CustomerSpec{GDAP: true, Users: 1}, true)
			}
			var check, doctor time.Duration
			var checkReqs, doctorReqs int
			for range b.N {
				freshProvider(b, w)
				w.s.Inject(testserver.Fault{Kind: testserver.Latency, Latency: latency})
				w.s.ResetRequests()
				start := time.Now()
				rep, err := w.check(b.Context(), b, w.options(tenants, sam.Checks{}))
				check = time.Since(start)
				if err != nil || !rep.OK() {
					b.Fatalf("Check: %v", err)
				}
				checkReqs = w.s.TotalRequests()

				freshProvider(b, w)
				w.s.ResetRequests()
				start = time.Now()
				b.StartTimer()
				drep, err := w.sp.Doctor(b.Context(), tenants, sam.DoctorOptions{Manifest: m})
				b.StopTimer()
				doctor = time.Since(start)
				if err != nil || len(drep.Findings) > 0 {
					b.Fatalf("Doctor: %v, %+v", err, drep)
				}
				doctorReqs = w.s.TotalRequests()
			}
			b.ReportMetric(float64(check.Milliseconds()), "check-ms")
			b.ReportMetric(float64(doctor.Milliseconds()), "doctor-ms")
			b.ReportMetric(float64(doctor)/float64(check), "x-check")
			b.ReportMetric(float64(doctorReqs-checkReqs)/float64(n), "extra-requests/tenant")
		})
	}
}
