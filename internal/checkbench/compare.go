//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"text/tabwriter"
)

// compare runs the binary f.against and this one in turn, one measured
// run each at a time, so that both see the same load on the machine, and
// prints each one's medians.
func compare(f flags) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-json", "-runs", "1", "-n", strconv.Itoa(f.n), "-l", f.latency.String(), "-c", strconv.Itoa(f.c)}
	if f.bare {
		args = append(args, "-bare")
	}
	bins := []string{f.against, self}
	results := make([][]result, len(bins))
	for i := range f.runs {
		for b, bin := range bins {
			r, err := runBinary(bin, args)
			if err != nil {
				return fmt.Errorf("%s: %w", bin, err)
			}
			fmt.Fprintf(os.Stderr, "checkbench: run %d of %s: client CPU %v per tenant\n", i+1, filepath.Base(bin), r.ClientCPU)
			results[b] = append(results[b], r)
		}
	}
	fmt.Printf("checkbench: %d tenants, R = %d requests each, %v per request, %d at a time; median of %d runs each, in turn\n",
		f.n, requestsPerTenant, f.latency, f.c, f.runs)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, header("build", f.bare))
	for b, bin := range bins {
		fmt.Fprintf(tw, "%s\t%s\n", filepath.Base(bin), median(results[b]).row(f.bare))
	}
	return tw.Flush()
}

func runBinary(bin string, args []string) (result, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	var r result
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return result{}, fmt.Errorf("reading its result: %w", err)
		}
	}
	return r, sc.Err()
}
