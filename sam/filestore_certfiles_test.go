package sam

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/token"
)

// testCertificates are three certificates with their keys, made once: RSA
// key generation is slow under the race detector. Tests only read them.
var testCertificates = sync.OnceValues(func() ([]*token.Certificate, error) {
	var certs []*token.Certificate
	for _, subject := range []string{"first", "second", "third"} {
		c, err := NewCertificate(CertificateOptions{Subject: subject})
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	return certs, nil
})

func certificates(t *testing.T) []*token.Certificate {
	t.Helper()
	certs, err := testCertificates()
	require.NoError(t, err)
	return certs
}

// certOnly is the test credentials with cert and no client secret.
func certOnly(cert *token.Certificate) token.Credentials {
	c := testCredentials()
	c.ClientSecret, c.Certificate = token.Secret{}, cert
	return c
}

// writeCertificateFile writes cert and its key as PEM, mode 0600, as a
// FileStore does.
func writeCertificateFile(t *testing.T, path string, cert *token.Certificate) {
	t.Helper()
	text, err := certificatePEM(cert)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
}

// newCertStore is newTestStore with its folder made, for certificate
// files put there by hand.
func newCertStore(t *testing.T) (*FileStore, string) {
	t.Helper()
	s := newTestStore(t)
	dir := filepath.Dir(s.Path())
	require.NoError(t, os.MkdirAll(dir, 0o700))
	return s, dir
}

// assertHolds checks that s loads, with want as its certificate.
func assertHolds(t *testing.T, s *FileStore, want *token.Certificate, why string) {
	t.Helper()
	got, err := s.Load(t.Context())
	require.NoError(t, err, "%s should load: %s", filepath.Base(s.Path()), why)
	require.NotNil(t, got.Certificate, "%s: %s", filepath.Base(s.Path()), why)
	assert.Equal(t, want.Thumbprint(), got.Certificate.Thumbprint(), "%s's certificate: %s", filepath.Base(s.Path()), why)
}

// pemFiles lists the names in dir that end in .pem, sorted.
func pemFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	require.NoError(t, err)
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	slices.Sort(m)
	return m
}

// errKilled is what killBeforeRename's hook panics with.
var errKilled = "killed"

// tempFiles lists the paths in dir of s's temporary files, sorted.
func tempFiles(t *testing.T, s *FileStore, dir string) []string {
	t.Helper()
	var m []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), strings.TrimSuffix(s.tempPattern(), "*")) {
			m = append(m, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(m)
	return m
}

// killBeforeRename runs save on s and stops it as a kill would at the last
// moment before anything is renamed into place: the hook copies the files
// written so far to other temporary names (a panic unwinds through the
// cleanups a kill would skip) and panics. It returns the copies.
func killBeforeRename(t *testing.T, s *FileStore, save func() error) []string {
	t.Helper()
	dir := filepath.Dir(s.Path())
	var left []string
	s.beforeRename = func(string) error {
		for i, p := range tempFiles(t, s, dir) {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			survivor := filepath.Join(dir, strings.TrimSuffix(s.tempPattern(), "*")+"killed-"+strconv.Itoa(i))
			require.NoError(t, os.WriteFile(survivor, b, 0o600))
			left = append(left, survivor)
		}
		panic(errKilled)
	}
	defer func() { s.beforeRename = nil }()
	require.PanicsWithValue(t, errKilled, func() { _ = save() }, "the save should reach the credentials file's rename")
	return left
}

// TestFileStoreKilledSaveLeavesNoKeyBehind: a certificate rotation killed
// before the credentials file is renamed leaves the new key only in a
// temporary file, not under a certificate file's name; the next save,
// whichever it is (a refresh-token rotation is the usual one), removes it
// and keeps the stored certificate.
func TestFileStoreKilledSaveLeavesNoKeyBehind(t *testing.T) {
	t.Parallel()
	certs := certificates(t)
	for name, next := range map[string]func(*FileStore) error{
		"Save":              func(s *FileStore) error { return s.Save(t.Context(), certOnly(certs[0])) },
		"saveAppCredential": func(s *FileStore) error { return s.saveAppCredential(t.Context(), certOnly(certs[0])) },
		"SaveRefreshToken": func(s *FileStore) error {
			return s.SaveRefreshToken(t.Context(), token.RefreshSAM, token.NewSecret("rt-next"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newTestStore(t)
			dir := filepath.Dir(s.Path())
			require.NoError(t, s.Save(ctx, certOnly(certs[0])))
			stored := pemFiles(t, dir)
			require.Equal(t, []string{s.certFileName(certs[0])}, stored)

			left := killBeforeRename(t, s, func() error { return s.saveAppCredential(ctx, certOnly(certs[1])) })
			assert.Equal(t, stored, pemFiles(t, dir), "no certificate file is in place before the credentials file that names it")
			held := 0
			for _, p := range left {
				if c, err := loadCertificate(p, ""); err == nil && c.Thumbprint() == certs[1].Thumbprint() {
					held++
				}
			}
			require.Equal(t, 1, held, "the killed save's new key is in one temporary file")
			assertHolds(t, s, certs[0], "the file still holds the first certificate")

			require.NoError(t, next(s))
			assert.Empty(t, tempFiles(t, s, dir), "the next save removes what the killed one left")
			assert.Equal(t, stored, pemFiles(t, dir))
			assertHolds(t, s, certs[0], "the stored certificate is kept")
		})
	}
}

// TestFileStoreCertificateFileName: the PEM is named after the credentials
// file's whole name and the certificate's SHA-1 thumbprint.
func TestFileStoreCertificateFileName(t *testing.T) {
	t.Parallel()
	cert := certificates(t)[0]
	s := NewFileStore(filepath.Join("config", "credentials.json"))
	name := s.certFileName(cert)
	assert.Equal(t, "credentials.json.cert-"+cert.SHA1Thumbprint()+".pem", name)
	assert.True(t, s.wroteCertificate(name))
	assert.False(t, NewFileStore(filepath.Join("config", "credentials.yaml")).wroteCertificate(name), "another store's file")
	assert.False(t, NewFileStore(filepath.Join("config", "credentials")).wroteCertificate(name), "another store's file")
	assert.False(t, NewFileStore(filepath.Join("config", "credentials.json.bak")).wroteCertificate(name),
		"a new name is never of the earlier shape, whatever the store's name")
}

// TestFileStoreSparesARenamedFilesKey: a credentials file renamed beside
// its PEM (credentials.json to prod.json) keeps working, since its
// certificatePath is relative to its folder; a new file of the old name
// made there later (a second setup), its saves and its killed saves
// never remove prod.json's key, whose name is of that file's naming.
func TestFileStoreSparesARenamedFilesKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	certs := certificates(t)
	dir := t.TempDir()
	s := NewFileStore(filepath.Join(dir, "credentials.json"))
	require.NoError(t, s.Save(ctx, certOnly(certs[0])))
	prod := NewFileStore(filepath.Join(dir, "prod.json"))
	require.NoError(t, os.Rename(s.Path(), prod.Path()))
	assertHolds(t, prod, certs[0], "a renamed file keeps its key")

	fresh := NewFileStore(s.Path())
	// A first save of the same certificate that fails before anything is
	// in place leaves the file of that name, prod.json's, alone.
	fresh.beforeRename = func(string) error { return errors.New("injected") }
	require.Error(t, fresh.Save(ctx, certOnly(certs[0])))
	fresh.beforeRename = nil
	assertHolds(t, prod, certs[0], "a failed save removes only what it put in place")
	if runtime.GOOS != "windows" {
		// Nor does one that fails at the credentials file's rename (a
		// folder is in its way), after the PEM was renamed over
		// prod.json's: that name was not this save's to remove.
		fresh.beforeRename = func(string) error {
			return os.MkdirAll(filepath.Join(fresh.Path(), "in-the-way"), 0o700)
		}
		require.Error(t, fresh.Save(ctx, certOnly(certs[0])))
		fresh.beforeRename = nil
		require.NoError(t, os.RemoveAll(fresh.Path()))
		assertHolds(t, prod, certs[0], "a save that failed after its PEM was in place removes only a file it made")
	}
	require.NoError(t, fresh.Save(ctx, certOnly(certs[1])))
	killBeforeRename(t, fresh, func() error { return fresh.saveAppCredential(ctx, certOnly(certs[2])) })
	require.NoError(t, fresh.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("rt-next")))
	require.NoError(t, fresh.saveAppCredential(ctx, certOnly(certs[2])))
	assertHolds(t, prod, certs[0], "another file's saves never remove the key prod.json names")
	assertHolds(t, fresh, certs[2], "the new file keeps its own")
	assert.Empty(t, tempFiles(t, fresh, dir), "the killed save's key is gone")
}

// TestFileStoresShareAFolder: credentials.json and credentials.yaml in one
// folder, even holding the same certificate, never remove each other's
// certificate files, nor what a killed save of the other left.
func TestFileStoresShareAFolder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	certs := certificates(t)
	js := newTestStore(t)
	dir := filepath.Dir(js.Path())
	ys := NewFileStore(filepath.Join(dir, "credentials.yaml"))
	require.NoError(t, js.Save(ctx, certOnly(certs[0])))
	require.NoError(t, ys.Save(ctx, certOnly(certs[0])))

	// A rotation of one replaces its own file, not the other's copy.
	require.NoError(t, js.saveAppCredential(ctx, certOnly(certs[1])))
	assertHolds(t, ys, certs[0], "each store keeps its own")
	assertHolds(t, js, certs[1], "each store keeps its own")

	// One's killed save is its own to clear.
	killBeforeRename(t, js, func() error { return js.saveAppCredential(ctx, certOnly(certs[2])) })
	require.NoError(t, ys.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("rt-yaml")))
	assert.NotEmpty(t, tempFiles(t, js, dir), "credentials.yaml never removes credentials.json's files")
	require.NoError(t, js.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("rt-json")))
	assert.Empty(t, tempFiles(t, js, dir))

	want := []string{js.certFileName(certs[1]), ys.certFileName(certs[0])}
	slices.Sort(want)
	assert.Equal(t, want, pemFiles(t, dir))
	assertHolds(t, js, certs[1], "each store keeps its own")
	assertHolds(t, ys, certs[0], "each store keeps its own")
}

// TestFileStoreKeepsEarlierCertificateFileName: a file saved by an earlier
// version names its PEM "credentials.cert-<16 hex>.pem"; it keeps working,
// saves keep it, and a rotation that replaces it removes it. An orphan of
// that naming is left: its prefix may be another store's.
func TestFileStoreKeepsEarlierCertificateFileName(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	certs := certificates(t)
	s, dir := newCertStore(t)
	earlier := "credentials.cert-" + certs[0].Thumbprint()[:16] + ".pem"
	orphan := "credentials.cert-" + certs[1].Thumbprint()[:16] + ".pem"
	writeCertificateFile(t, filepath.Join(dir, earlier), certs[0])
	writeCertificateFile(t, filepath.Join(dir, orphan), certs[1])
	c := certOnly(nil)
	require.NoError(t, s.write(fileDoc{Version: fileVersion, TenantID: c.TenantID, ApplicationID: c.ApplicationID,
		RefreshToken: c.RefreshToken.Reveal(), CertificatePath: earlier}))

	assertHolds(t, s, certs[0], "the earlier file is used")
	require.NoError(t, s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("rt-next")))
	require.NoError(t, s.Save(ctx, certOnly(certs[0])))
	assert.Equal(t, earlier, readDoc(t, s.Path())["certificatePath"], "a save of the same certificate keeps its file")
	both := []string{earlier, orphan}
	slices.Sort(both)
	assert.Equal(t, both, pemFiles(t, dir))

	require.NoError(t, s.saveAppCredential(ctx, certOnly(certs[2])))
	assert.Equal(t, []string{orphan, s.certFileName(certs[2])}, pemFiles(t, dir),
		"the replaced earlier file goes; the orphan of the earlier naming stays")
	assert.Equal(t, s.certFileName(certs[2]), readDoc(t, s.Path())["certificatePath"])
	assertHolds(t, s, certs[2], "the new certificate is stored")
}

// TestFileStoreNeverRemovesCertificateFile: a file WithCertificateFile
// gives is the person's, even named as the store names its own, and
// whether by a relative, an absolute or a linked path: neither a rotation
// away from it nor a later save removes it.
func TestFileStoreNeverRemovesCertificateFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	certs := certificates(t)
	base, dir := newCertStore(t)
	theirs := base.certFileName(certs[0])
	writeCertificateFile(t, filepath.Join(dir, theirs), certs[0])

	paths := map[string]string{"relative": theirs, "absolute": filepath.Join(dir, theirs)}
	if runtime.GOOS != "windows" {
		require.NoError(t, os.Symlink(theirs, filepath.Join(dir, "mine.pem")))
		paths["link"] = "mine.pem"
	}
	for how, p := range paths {
		s := NewFileStore(base.Path(), WithCertificateFile(p, token.Secret{}))
		require.NoError(t, s.Save(ctx, certOnly(certs[0])), how)
		assert.Equal(t, p, readDoc(t, s.Path())["certificatePath"], "%s: the file holds the certificate, so it is recorded", how)
		require.NoError(t, s.saveAppCredential(ctx, certOnly(certs[1])), how)
		require.NoError(t, s.SaveRefreshToken(ctx, token.RefreshSAM, token.NewSecret("rt-"+how)), how)
		assert.FileExists(t, filepath.Join(dir, theirs), "%s: the person's file is never removed", how)
		assertHolds(t, s, certs[1], how)
	}
}

// TestFileStoreUnsyncedSaveRemovesReplacedKey: a rotation whose
// credentials file is renamed into place but whose folder cannot be
// synced fails, yet the file names the new certificate (a rotation keeps
// it, seeing the store hold it): the replaced PEM, which nothing names
// and no later save removes, goes as after a save that succeeded.
func TestFileStoreUnsyncedSaveRemovesReplacedKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	certs := certificates(t)
	for name, save := range map[string]func(*FileStore, token.Credentials) error{
		"Save":              func(s *FileStore, c token.Credentials) error { return s.Save(ctx, c) },
		"saveAppCredential": func(s *FileStore, c token.Credentials) error { return s.saveAppCredential(ctx, c) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, dir := newCertStore(t)
			require.NoError(t, s.Save(ctx, certOnly(certs[0])))

			s.afterRename = func() error { return errors.New("injected: the folder cannot be synced") }
			require.Error(t, save(s, certOnly(certs[1])))
			s.afterRename = nil
			assertHolds(t, s, certs[1], "the file was renamed into place")
			assert.Equal(t, []string{s.certFileName(certs[1])}, pemFiles(t, dir), "the replaced key is removed")
		})
	}
}

// TestFileStoreKeepsItsFileGivenByAnotherPath: a certificate file the
// store wrote, then given to it by WithCertificateFile by another way to
// it (a link, a linked folder), is the person's from then on: the save
// that records that path does not remove the file as replaced.
func TestFileStoreKeepsItsFileGivenByAnotherPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	t.Parallel()
	certs := certificates(t)
	for how, path := range map[string]func(dir, name string) string{
		"a link":          func(dir, name string) string { return linkTo(t, name, filepath.Join(dir, "mine.pem")) },
		"a linked folder": func(dir, name string) string { return filepath.Join(linkTo(t, dir, dir+"-link"), name) },
	} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s, dir := newCertStore(t)
			require.NoError(t, s.Save(t.Context(), certOnly(certs[0])))
			given := NewFileStore(s.Path(), WithCertificateFile(path(dir, s.certFileName(certs[0])), token.Secret{}))
			require.NoError(t, given.Save(t.Context(), certOnly(certs[0])))
			assert.FileExists(t, filepath.Join(dir, s.certFileName(certs[0])), "the file given is kept")
			assertHolds(t, given, certs[0], "the store loads the file it was given")
		})
	}
}

// linkTo makes a symbolic link at link to target and returns link.
func linkTo(t *testing.T, target, link string) string {
	t.Helper()
	require.NoError(t, os.Symlink(target, link))
	return link
}
