package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

// certificateFlags shape the certificates setup and rotate-credentials
// make.
type certificateFlags struct {
	validity days
	keySize  int
}

func (f *certificateFlags) register(c *cobra.Command) {
	f.validity = days(sam.DefaultCertificateValidity)
	c.Flags().Var(&f.validity, "cert-validity", "how long a new certificate is valid: days (365d) or a duration (8760h); a day to three years")
	c.Flags().IntVar(&f.keySize, "key-size", sam.DefaultCertificateKeySize, "RSA key size of a new certificate: 2048, 3072 or 4096")
}

func (f certificateFlags) options() sam.CertificateOptions {
	return sam.CertificateOptions{Validity: time.Duration(f.validity), KeySize: f.keySize}
}

// days is a duration flag that also takes a number of days ("365d"),
// since certificate lifetimes are counted in days.
type days time.Duration

func (d *days) String() string {
	if *d%days(24*time.Hour) == 0 {
		return strconv.Itoa(int(time.Duration(*d)/(24*time.Hour))) + "d"
	}
	return time.Duration(*d).String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v <= 0 {
			return fmt.Errorf("%q: give a positive number of days, such as 365d", s)
		}
		*d = days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("%q: give days (365d) or a duration (8760h)", s)
	}
	*d = days(v)
	return nil
}

func (*days) Type() string { return "days" }
