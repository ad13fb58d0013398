//go:build unix

// Command checkbench measures what the access check costs samkit itself:
// it serves the fake cloud from a child process, so that the fake's work
// (TLS, signing every token with RSA-2048) is not counted, and checks its
// customers from this one, reading this process's own CPU time
// (getrusage RUSAGE_SELF) around Partner.Check. Each tenant costs R = 4
// requests (a token and a read for Graph, the same for Exchange), so no
// schedule beats N·R·L/C; the report shows how close a run comes to that,
// how many token requests each tenant cost per resource (1 is the goal)
// and the heap the run retains per tenant, its report and token cache held.
//
//	go run ./internal/checkbench -n 1000 -l 20ms -c 32
//
// With -bare, each run also checks the tenants with a bare net/http client
// making the same requests (bare.go), right after samkit and against the
// same fake, and states samkit's CPU per tenant as a ratio to that floor:
// a figure that compares across sessions of a machine whose speed varies.
//
// compare.sh in this folder builds it from another revision too and runs
// both in turn on the same load.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// requestsPerTenant is R for the default checks.
const requestsPerTenant = 4

type flags struct {
	n, c, runs int
	latency    time.Duration
	json       bool
	bare       bool
	against    string
	cpuprofile string
	memprofile string
}

func main() {
	var f flags
	serving := flag.Bool("serve", false, "serve the fake and answer commands on stdin (how checkbench starts its child)")
	flag.IntVar(&f.n, "n", 1000, "customer tenants")
	flag.DurationVar(&f.latency, "l", 20*time.Millisecond, "latency the fake adds to every request")
	flag.IntVar(&f.c, "c", sam.DefaultConcurrency, "tenants checked at once")
	flag.IntVar(&f.runs, "runs", 3, "measured runs, each with an empty token cache")
	flag.BoolVar(&f.json, "json", false, "print each run as a JSON line")
	flag.BoolVar(&f.bare, "bare", false, "in each run, also check the tenants with a bare net/http client making the same requests, and show samkit's CPU per tenant as a ratio to its")
	flag.StringVar(&f.against, "against", "", "another checkbench binary to run in turn with this one, runs times each, medians side by side")
	flag.StringVar(&f.cpuprofile, "cpuprofile", "", "write the client's CPU profile of the measured runs to this file")
	flag.StringVar(&f.memprofile, "memprofile", "", "write the client's allocation profile of the measured runs to this file")
	flag.Parse()
	if f.n < 1 || f.c < 1 || f.runs < 1 || f.latency < 0 {
		fmt.Fprintln(os.Stderr, "checkbench: -n, -c and -runs must be at least 1, -l not negative")
		os.Exit(2)
	}
	if f.bare && (f.cpuprofile != "" || f.memprofile != "") {
		fmt.Fprintln(os.Stderr, "checkbench: the profiles are samkit's alone: drop -bare, or the profile flags")
		os.Exit(2)
	}
	var err error
	switch {
	case *serving:
		err = serve(f.n, f.latency, os.Stdin, os.Stdout)
	case f.against != "":
		err = compare(f)
	default:
		err = measure(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkbench:", err)
		os.Exit(1)
	}
}

// result is one measured run. Durations per tenant are in nanoseconds.
type result struct {
	Wall   time.Duration `json:"wall"`
	XIdeal float64       `json:"xIdeal"`
	// ClientCPU is this process's CPU per tenant; ServerCPU the fake's.
	ClientCPU     time.Duration `json:"clientCpuPerTenant"`
	ServerCPU     time.Duration `json:"serverCpuPerTenant"`
	TokensPerPair float64       `json:"tokensPerTenantPerResource"`
	MaxPerPair    int           `json:"maxTokensPerPair"`
	Requests      float64       `json:"requestsPerTenant"`
	HeapPerTenant float64       `json:"retainedHeapPerTenant"`
	Failed        int           `json:"failedTenants"`
	// With -bare: the bare client's CPU per tenant in the same run, the
	// ratio ClientCPU/BareCPU, and the tenants the bare client failed.
	BareCPU    time.Duration `json:"bareCpuPerTenant,omitzero"`
	Ratio      float64       `json:"cpuRatio,omitzero"`
	BareFailed int           `json:"bareFailedTenants,omitzero"`
}

// child is the serving process and the pipes to talk to it.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
}

func startChild(f flags) (*child, world, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, world{}, err
	}
	cmd := exec.Command(self, "-serve", "-n", strconv.Itoa(f.n), "-l", f.latency.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, world{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, world{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, world{}, err
	}
	c := &child{cmd: cmd, in: in, out: json.NewDecoder(bufio.NewReader(out))}
	var w world
	if err := c.out.Decode(&w); err != nil {
		c.stop()
		return nil, world{}, fmt.Errorf("reading the fake's world: %w", err)
	}
	return c, w, nil
}

func (c *child) ask(cmd string) (serverStats, error) {
	var st serverStats
	if _, err := io.WriteString(c.in, cmd+"\n"); err != nil {
		return st, err
	}
	return st, c.out.Decode(&st)
}

func (c *child) stop() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

func measure(f flags) error {
	ch, w, err := startChild(f)
	if err != nil {
		return err
	}
	defer ch.stop()
	hc, err := trusting(w.Certificate)
	if err != nil {
		return err
	}
	// The bare client has a transport of its own, so that neither finds
	// the other's connections open.
	var bareHC *http.Client
	if f.bare {
		if bareHC, err = trusting(w.Certificate); err != nil {
			return err
		}
	}
	tenants := make([]sam.Tenant, len(w.Tenants))
	for i, id := range w.Tenants {
		tenants[i] = sam.Tenant{ID: id}
	}
	ctx := context.Background()
	// A first short run opens the connection and warms the code paths, as
	// the first seconds of a long run do.
	warm := min(len(tenants), 2*f.c)
	if _, err := check(ctx, w, hc, tenants[:warm], f.c); err != nil {
		return err
	}
	if f.bare {
		if _, err := newBare(w, bareHC.Transport).check(ctx, w.Tenants[:warm], f.c); err != nil {
			return fmt.Errorf("the bare client's warm-up: %w", err)
		}
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if f.memprofile != "" {
		// Every allocation of the measured runs, not one per 512 KiB.
		runtime.MemProfileRate = 1
		defer func() {
			if err := writeHeapProfile(f.memprofile); err != nil {
				fmt.Fprintln(os.Stderr, "checkbench:", err)
			}
		}()
	}
	var results []result
	if !f.json {
		fmt.Printf("checkbench: %d tenants, R = %d requests each, %v per request, %d at a time; the fake in process %d\n",
			f.n, requestsPerTenant, f.latency, f.c, ch.cmd.Process.Pid)
	}
	for range f.runs {
		r, err := run(ctx, f, ch, w, hc, tenants)
		if err != nil {
			return err
		}
		if f.bare {
			if err := runBare(ctx, f, ch, w, bareHC, &r); err != nil {
				return err
			}
		}
		if f.json {
			if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
				return err
			}
		}
		results = append(results, r)
	}
	if !f.json {
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, header("run", f.bare))
		for i, r := range results {
			fmt.Fprintf(tw, "%d\t%s\n", i+1, r.row(f.bare))
		}
		if len(results) > 1 {
			fmt.Fprintf(tw, "median\t%s\n", median(results).row(f.bare))
		}
		return tw.Flush()
	}
	return nil
}

// header is the table's first line, its first column called first; with
// bare, with the bare client's columns.
func header(first string, bare bool) string {
	bareCols := ""
	if bare {
		bareCols = "bare CPU/tenant\tsamkit/bare\t"
	}
	return first + "\twall\tx-ideal\tclient CPU/tenant\t" + bareCols +
		"fake CPU/tenant\ttokens/tenant/resource\trequests/tenant\tretained heap/tenant\tfailed\t"
}

// row is r's line of the table but its first column (see header).
func (r result) row(bare bool) string {
	bareCols := ""
	if bare {
		bareCols = fmt.Sprintf("%v\t%.2f\t", r.BareCPU.Round(time.Microsecond), r.Ratio)
	}
	return fmt.Sprintf("%v\t%.2f\t%v\t%s%v\t%.3f\t%.2f\t%.0f B\t%d\t",
		r.Wall.Round(time.Millisecond), r.XIdeal, r.ClientCPU.Round(time.Microsecond), bareCols, r.ServerCPU.Round(time.Microsecond),
		r.TokensPerPair, r.Requests, r.HeapPerTenant, r.Failed)
}

// run makes one measured access check with an empty token cache.
func run(ctx context.Context, f flags, ch *child, w world, hc *http.Client, tenants []sam.Tenant) (result, error) {
	before, err := ch.ask("run")
	if err != nil {
		return result{}, err
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	p, err := partnerOf(w, hc, f.c)
	if err != nil {
		return result{}, err
	}
	cpu0 := cpuTime(syscall.RUSAGE_SELF)
	start := time.Now()
	rep, err := p.Check(ctx, tenants, sam.CheckOptions{})
	wall := time.Since(start)
	cpu := cpuTime(syscall.RUSAGE_SELF) - cpu0
	if err != nil {
		return result{}, err
	}
	after, err := ch.ask("stats")
	if err != nil {
		return result{}, err
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	// The heap held: the report and the Provider's cached tokens.
	runtime.KeepAlive(rep)
	runtime.KeepAlive(p)

	n := len(tenants)
	ideal := time.Duration(n*requestsPerTenant) * f.latency / time.Duration(rep.Concurrency)
	r := result{
		Wall:          wall,
		ClientCPU:     cpu / time.Duration(n),
		ServerCPU:     (after.CPU - before.CPU) / time.Duration(n),
		TokensPerPair: float64(after.Tokens) / float64(2*n),
		MaxPerPair:    after.MaxPerPair,
		Requests:      float64(after.Requests) / float64(n),
		HeapPerTenant: (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n),
		Failed:        len(rep.Failures()),
	}
	if ideal > 0 {
		r.XIdeal = float64(wall) / float64(ideal)
	}
	warnTokens("samkit", after, n)
	return r, nil
}

// runBare checks every tenant with a fresh bare client, in the same way
// as run checks them with samkit, and adds its figures to r.
func runBare(ctx context.Context, f flags, ch *child, w world, hc *http.Client, r *result) error {
	if _, err := ch.ask("run"); err != nil {
		return err
	}
	runtime.GC()
	b := newBare(w, hc.Transport)
	cpu0 := cpuTime(syscall.RUSAGE_SELF)
	failed, first := b.check(ctx, w.Tenants, f.c)
	cpu := cpuTime(syscall.RUSAGE_SELF) - cpu0
	after, err := ch.ask("stats")
	if err != nil {
		return err
	}
	n := len(w.Tenants)
	warnTokens("the bare client", after, n)
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "checkbench: the bare client failed %d tenants, the first with: %v\n", failed, first)
	}
	if got := float64(after.Requests) / float64(n); got != requestsPerTenant {
		fmt.Fprintf(os.Stderr, "checkbench: the bare client made %.2f requests per tenant, want %d\n", got, requestsPerTenant)
	}
	r.BareCPU, r.BareFailed = cpu/time.Duration(n), failed
	if r.BareCPU > 0 {
		r.Ratio = float64(r.ClientCPU) / float64(r.BareCPU)
	}
	return nil
}

// warnTokens says when who's run did not cost exactly one token request
// per tenant and resource.
func warnTokens(who string, after serverStats, n int) {
	if after.Pairs != 2*n || after.MaxPerPair != 1 {
		fmt.Fprintf(os.Stderr, "checkbench: %s made %d token requests for %d tenant/resource pairs (at most %d for one), want one for each of %d\n",
			who, after.Tokens, after.Pairs, after.MaxPerPair, 2*n)
	}
}

// writeHeapProfile writes the allocations made since MemProfileRate was
// set (see go tool pprof -sample_index=alloc_space).
func writeHeapProfile(name string) error {
	pf, err := os.Create(name)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(pf, 0); err != nil {
		_ = pf.Close()
		return err
	}
	return pf.Close()
}

// check runs one access check with a fresh Partner, for the warm-up.
func check(ctx context.Context, w world, hc *http.Client, tenants []sam.Tenant, c int) (*sam.AccessReport, error) {
	p, err := partnerOf(w, hc, c)
	if err != nil {
		return nil, err
	}
	return p.Check(ctx, tenants, sam.CheckOptions{})
}

// partnerOf opens the world's credentials as samctl check does, with an
// empty token cache and c workers.
func partnerOf(w world, hc *http.Client, c int) (*sam.Partner, error) {
	return sam.New(token.Credentials{TenantID: w.PartnerTenant, ApplicationID: w.AppID,
		ClientSecret: token.NewSecret(w.Secret), RefreshToken: token.NewSecret(w.RefreshToken)},
		sam.WithCloud(w.Cloud), sam.WithHTTPClient(hc), sam.WithConcurrency(c))
}

// trusting returns a client over a transport configured as
// httpx.DefaultTransport, the one samkit's clients share when given none,
// that trusts the fake's certificate.
func trusting(der []byte) (*http.Client, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("the fake's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := httpx.DefaultTransport().Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}

// median takes each figure's median over rs on its own.
func median(rs []result) result {
	pick := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return result{
		Wall:          time.Duration(pick(func(r result) float64 { return float64(r.Wall) })),
		XIdeal:        pick(func(r result) float64 { return r.XIdeal }),
		ClientCPU:     time.Duration(pick(func(r result) float64 { return float64(r.ClientCPU) })),
		ServerCPU:     time.Duration(pick(func(r result) float64 { return float64(r.ServerCPU) })),
		TokensPerPair: pick(func(r result) float64 { return r.TokensPerPair }),
		MaxPerPair:    int(pick(func(r result) float64 { return float64(r.MaxPerPair) })),
		Requests:      pick(func(r result) float64 { return r.Requests }),
		HeapPerTenant: pick(func(r result) float64 { return r.HeapPerTenant }),
		Failed:        int(pick(func(r result) float64 { return float64(r.Failed) })),
		BareCPU:       time.Duration(pick(func(r result) float64 { return float64(r.BareCPU) })),
		// The median of the runs' ratios, each taken in one run, not
		// the ratio of the medians.
		Ratio:      pick(func(r result) float64 { return r.Ratio }),
		BareFailed: int(pick(func(r result) float64 { return float64(r.BareFailed) })),
	}
}
