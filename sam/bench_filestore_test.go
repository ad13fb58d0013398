package sam

import (
	"path/filepath"
	"testing"

	"github.com/samkit/samkit/token"
)

// BenchmarkFileStoreSaveRefreshToken is the frequent save, a refresh-token
// rotation, into a file that names a certificate PEM beside it: what
// sweeping the certificate files left by killed saves adds to every save.
// Run it with
//
//	go test -run '^$' -bench FileStoreSaveRefreshToken -count 10 ./sam/
func BenchmarkFileStoreSaveRefreshToken(b *testing.B) {
	certs, err := testCertificates()
	if err != nil {
		b.Fatal(err)
	}
	s := NewFileStore(filepath.Join(b.TempDir(), "credentials.json"))
	if err := s.Save(b.Context(), certOnly(certs[0])); err != nil {
		b.Fatal(err)
	}
	rt := token.NewSecret("rt-bench")
	for b.Loop() {
		if err := s.SaveRefreshToken(b.Context(), token.RefreshSAM, rt); err != nil {
			b.Fatal(err)
		}
	}
}
