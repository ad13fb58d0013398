//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/testserver"
)

// world is what the serving process hands the measuring one: where the
// fake is, how to trust it, and ready credentials for its customers.
type world struct {
	Cloud         cloud.Configuration `json:"cloud"`
	Certificate   []byte              `json:"certificate"` // DER
	PartnerTenant string              `json:"partnerTenant"`
	AppID         string              `json:"appId"`
	Secret        string              `json:"secret"`
	RefreshToken  string              `json:"refreshToken"`
	Tenants       []string            `json:"tenants"`
}

// serverStats answers the "stats" command: the requests since the last
// "run" and the serving process's CPU so far.
type serverStats struct {
	Requests int `json:"requests"`
	// Tokens counts token requests; Pairs the distinct tenant and resource
	// pairs among them; MaxPerPair the most any pair cost.
	Tokens     int           `json:"tokens"`
	Pairs      int           `json:"pairs"`
	MaxPerPair int           `json:"maxPerPair"`
	CPU        time.Duration `json:"cpu"`
}

// serve runs the fake with n healthy, consented customers, prints the
// world as one JSON line, then answers commands read from stdin, one a
// line, until stdin closes:
//
//	run    start afresh: forget the requests, delay each by latency
//	stats  print serverStats as one JSON line
func serve(n int, latency time.Duration, in io.Reader, out io.Writer) error {
	s, w, err := newFake(n)
	if err != nil {
		return err
	}
	defer s.Close()
	enc := json.NewEncoder(out)
	if err := enc.Encode(w); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch cmd := sc.Text(); cmd {
		case "run":
			s.ClearFaults()
			if latency > 0 {
				s.Inject(testserver.Fault{Kind: testserver.Latency, Latency: latency})
			}
			s.ResetRequests()
			err = enc.Encode(serverStats{CPU: cpuTime(syscall.RUSAGE_SELF)})
		case "stats":
			err = enc.Encode(stats(s))
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			return err
		}
	}
	return sc.Err()
}

// newFake starts the fake with n healthy, consented customers and returns
// it with its world. Close it when done.
func newFake(n int) (*testserver.Server, world, error) {
	s := testserver.New()
	app, err := s.RegisterApp(testserver.AppSpec{})
	if err != nil {
		s.Close()
		return nil, world{}, err
	}
	rt, err := s.MintRefreshToken(app.AppID)
	if err != nil {
		s.Close()
		return nil, world{}, err
	}
	w := world{Cloud: s.Cloud(), Certificate: s.Certificate(), PartnerTenant: s.Partner().TenantID,
		AppID: app.AppID, Secret: app.Secret, RefreshToken: rt, Tenants: make([]string, n)}
	for i := range w.Tenants {
		id := s.AddCustomer(testserver.CustomerSpec{GDAP: true, Users: 1})
		if err := s.GrantConsent(app.AppID, id); err != nil {
			s.Close()
			return nil, world{}, err
		}
		w.Tenants[i] = id
	}
	return s, w, nil
}

func stats(s *testserver.Server) serverStats {
	st := serverStats{Requests: s.TotalRequests(), CPU: cpuTime(syscall.RUSAGE_SELF)}
	per := map[string]int{}
	for _, r := range s.Requests() {
		if !r.IsToken() {
			continue
		}
		st.Tokens++
		k := r.Tenant + " " + strings.Fields(r.Form.Get("scope") + " ?")[0]
		per[k]++
		st.MaxPerPair = max(st.MaxPerPair, per[k])
	}
	st.Pairs = len(per)
	return st
}

// cpuTime is the user and system CPU time of who (RUSAGE_SELF or
// RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "checkbench: getrusage:", err)
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
