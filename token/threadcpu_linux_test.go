package token

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name.
const rusageThread = 1

// reportThreadCPU locks the benchmark to its thread and, when the
// benchmark ends, reports the CPU time that thread spent per operation
// ("cpu-ns/op"): on a machine shared with other work, ns/op also counts
// the time others held the CPU, and this does not.
func reportThreadCPU(b *testing.B) {
	b.Helper()
	runtime.LockOSThread()
	start := threadCPU()
	b.Cleanup(func() {
		used := threadCPU() - start
		runtime.UnlockOSThread()
		if b.N > 0 && used > 0 {
			b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	})
}

func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
