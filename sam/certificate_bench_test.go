package sam

import (
	"strconv"
	"testing"
)

// BenchmarkNewCertificate shows what a certificate costs to make at each
// key size setup --key-size offers: RSA key generation dominates.
func BenchmarkNewCertificate(b *testing.B) {
	for _, bits := range []int{2048, 3072, 4096} {
		b.Run(strconv.Itoa(bits), func(b *testing.B) {
			for b.Loop() {
				if _, err := NewCertificate(CertificateOptions{Subject: "bench", KeySize: bits}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
