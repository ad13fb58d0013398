package sam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

// FileStore keeps credentials in a JSON file that only its owner may read.
//
// The file holds one object:
//
//	{
//	  "version": 1,
//	  "tenantId": "contoso.onmicrosoft.com or the partner tenant's GUID",
//	  "applicationId": "the SAM app's client id",
//	  "clientSecret": "…",                 // optional
//	  "certificatePath": "sam.pfx",         // optional; relative to the file's directory
//	  "certificatePassword": "…",          // optional
//	  "refreshToken": "…",                 // the SAM refresh token
//	  "refreshTokenObtainedAt": "2026-01-01T08:55:36.5Z",
//	  "exchangeRefreshToken": "…",         // optional, legacy Exchange token
//	  "exchangeRefreshTokenObtainedAt": "…",
//	  "cloud": "public",                    // public, usgov, usgovdod, china or a custom cloud's name
//	  "cloudEndpoints": {…},                // a custom cloud's endpoints, as cloud.Parse reads them
//	  "savedAt": "2026-01-01T08:55:37Z"
//	}
//
// Secrets appear in clear in this file and nowhere else: errors name the
// path, never the content.
//
// Writes are atomic. The new content goes to a temporary file in the same
// directory (mode 0600), which is synced and then renamed over the old one,
// and the directory is synced; a crash or a failed write at any point leaves
// either the old content or the new, never a mix, and a failed write removes
// its temporary file. The store refuses to read a file that its group or
// others can read: a leaked refresh token is a standing key to every
// customer tenant, and the person who loosened the mode should know.
//
// Make one with NewFileStore. A FileStore is safe for concurrent use, and
// several processes (two cron jobs) may share one file: every write is a
// read-modify-write under a mutex and an exclusive lock on a sibling
// ".lock" file (flock on Unix, LockFileEx on Windows), and the file
// records when each refresh token was obtained, so that a process never
// replaces the file's refresh token with one it obtained earlier: the file
// never steps back to an older token.
type FileStore struct {
	path         string
	cloud        *cloud.Configuration
	certPath     string
	certPassword token.Secret

	mu  sync.Mutex
	now func() time.Time
	// beforeRename, when set, runs between writing the temporary file and
	// renaming it into place; tests use it to fail there.
	beforeRename func(tmp string) error
	// afterRename, when set, runs between renaming the credentials file
	// into place and syncing its directory; tests use it to fail there.
	afterRename func() error
}

// FileStoreOption configures a FileStore.
type FileStoreOption func(*FileStore)

// WithFileCloud records which Microsoft cloud the credentials belong to; it
// is written by every Save: a built-in cloud by its name, a custom one with
// its endpoints, so that Cloud reads back what was saved. Without it Save
// keeps the cloud already in the file ("public" for a new file).
func WithFileCloud(c cloud.Configuration) FileStoreOption {
	return func(s *FileStore) {
		if c != (cloud.Configuration{}) {
			s.cloud = &c
		}
	}
}

// WithCertificateFile makes Save record the app's certificate by its path
// (PEM or PFX, with the PFX password if any). The store never writes the
// key itself: Load reads it from the path every time. A certificate the
// file does not hold (a rotation's new one) is written beside the
// credentials instead, and the file at path is left alone.
func WithCertificateFile(path string, password token.Secret) FileStoreOption {
	return func(s *FileStore) { s.certPath, s.certPassword = path, password }
}

// NewFileStore returns a store for the file at path; DefaultPath gives the
// usual one. Nothing is read or written until it is used.
func NewFileStore(path string, opts ...FileStoreOption) *FileStore {
	s := &FileStore{path: path, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// DefaultPath returns samkit/credentials.json in the user's configuration
// directory: $XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application
// Support on macOS, %AppData% on Windows.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("sam: finding the configuration directory: %w", err)
	}
	return filepath.Join(dir, "samkit", "credentials.json"), nil
}

// Path returns the file the store reads and writes.
func (s *FileStore) Path() string { return s.path }

const fileVersion = 1

// maxFileSize bounds a read of the credentials or certificate file; both
// are a few KiB.
const maxFileSize = 1 << 20

// fileDoc is the file's schema. It holds revealed secrets, so it never
// leaves this file: it is marshalled only into the credentials file.
type fileDoc struct {
	Version              int    `json:"version"`
	TenantID             string `json:"tenantId"`
	ApplicationID        string `json:"applicationId"`
	ClientSecret         string `json:"clientSecret,omitempty"`
	CertificatePath      string `json:"certificatePath,omitempty"`
	CertificatePassword  string `json:"certificatePassword,omitempty"`
	RefreshToken         string `json:"refreshToken,omitempty"`
	ExchangeRefreshToken string `json:"exchangeRefreshToken,omitempty"`
	// The ObtainedAt times order the refresh tokens that processes
	// sharing the file save: an older one never replaces a newer one.
	RefreshTokenObtainedAt         time.Time `json:"refreshTokenObtainedAt,omitzero"`
	ExchangeRefreshTokenObtainedAt time.Time `json:"exchangeRefreshTokenObtainedAt,omitzero"`
	Cloud                          string    `json:"cloud,omitempty"`
	// CloudEndpoints describe a custom cloud, whose name alone says
	// nothing; nil for a built-in one.
	CloudEndpoints *cloud.Configuration `json:"cloudEndpoints,omitempty"`
	SavedAt        time.Time            `json:"savedAt"`
	// staged is the certificate file a save wrote under a temporary
	// name, which write renames into place with the file that names it.
	staged *stagedFile
}

// stagedFile is a file written beside the credentials under a temporary
// name (tempPattern's), to be renamed to path; placed once it is, where
// no file of that name was there before.
type stagedFile struct {
	tmp, path string
	placed    bool
}

// Load reads the credentials. A missing file gives an error that matches
// ErrNoCredentials and fs.ErrNotExist.
func (s *FileStore) Load(ctx context.Context) (token.Credentials, error) {
	if err := ctx.Err(); err != nil {
		return token.Credentials{}, err
	}
	doc, err := s.read()
	if err != nil {
		return token.Credentials{}, err
	}
	c := token.Credentials{
		TenantID:             doc.TenantID,
		ApplicationID:        doc.ApplicationID,
		ClientSecret:         token.NewSecret(doc.ClientSecret),
		RefreshToken:         token.NewSecret(doc.RefreshToken),
		ExchangeRefreshToken: token.NewSecret(doc.ExchangeRefreshToken),
	}
	if doc.CertificatePath != "" {
		p := s.resolve(doc.CertificatePath)
		// The PEM this store wrote, 0600, holds the key in clear, as the
		// credentials file holds the secrets.
		if info, err := os.Stat(p); err == nil && s.wroteCertificate(doc.CertificatePath) {
			if err := checkPrivate(p, info); err != nil {
				return token.Credentials{}, err
			}
		}
		if c.Certificate, err = loadCertificate(p, doc.CertificatePassword); err != nil {
			return token.Credentials{}, fmt.Errorf("sam: %s: %w", s.path, err)
		}
	}
	return c, nil
}

// checkPrivate refuses a file of secrets that its group or others can
// read. Windows has no such mode bits: its files are protected by the ACL
// of the user's profile directory.
func checkPrivate(path string, info fs.FileInfo) error {
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return &StoreError{Err: fmt.Errorf("sam: %s can be read by other users (mode %04o) and holds secrets", path, perm),
			Fix: fmt.Sprintf("run chmod 600 %s, and consider the secrets in it exposed", path)}
	}
	return nil
}

// Cloud returns the Microsoft cloud recorded with the credentials
// (cloud.Public when none is).
func (s *FileStore) Cloud(ctx context.Context) (cloud.Configuration, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Configuration{}, err
	}
	doc, err := s.read()
	if err != nil {
		return cloud.Configuration{}, err
	}
	return doc.cloud(s.path)
}

// cloud is the cloud the document records.
func (doc *fileDoc) cloud(path string) (cloud.Configuration, error) {
	if c := doc.CloudEndpoints; c != nil {
		if !strings.EqualFold(c.Name, doc.Cloud) {
			return cloud.Configuration{}, fmt.Errorf("sam: %s: the cloud is %q and its endpoints are those of %q: save the credentials again", path, doc.Cloud, c.Name)
		}
		if err := c.Validate(); err != nil {
			return cloud.Configuration{}, fmt.Errorf("sam: %s: %w", path, err)
		}
		return *c, nil
	}
	c, err := cloud.ByName(doc.Cloud)
	if err != nil {
		return cloud.Configuration{}, fmt.Errorf("sam: %s: %w; a custom cloud's endpoints were not saved with it: give them to the program (sam.WithCloud, samctl --cloud-file)", path, err)
	}
	return c, nil
}

// setCloud records c in the document: a built-in cloud by its name, a
// custom one with its endpoints too.
func (doc *fileDoc) setCloud(c cloud.Configuration) error {
	if c.IsBuiltin() {
		doc.Cloud, doc.CloudEndpoints = c.Name, nil
		return nil
	}
	if strings.TrimSpace(c.Name) == "" {
		return errors.New("sam: WithFileCloud: a custom cloud needs a name")
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("sam: WithFileCloud: %w", err)
	}
	doc.Cloud, doc.CloudEndpoints = c.Name, &c
	return nil
}

// Save replaces the stored credentials with c, creating the file (0600) and
// its directory (0700) if needed. A certificate is recorded by path: the one
// given by WithCertificateFile, else the one already in the file, when
// that file holds it; else it is written to a PEM file of its own,
// "credentials.json.cert-<SHA-1 thumbprint>.pem" beside "credentials.json".
// That file is written under a temporary name first and renamed into place
// just before the credentials file that names it: a save killed before
// then leaves the key only in a temporary file, which the next save
// removes with the other temporary files a crash left.
func (s *FileStore) Save(ctx context.Context, c token.Credentials) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.TenantID == "" || c.ApplicationID == "" {
		return errors.New("sam: credentials to save need a tenant id and an application id")
	}
	var files certFiles
	return s.updateThen(ctx, func(old *fileDoc) (fileDoc, error) {
		doc := fileDoc{
			TenantID:             c.TenantID,
			ApplicationID:        c.ApplicationID,
			ClientSecret:         c.ClientSecret.Reveal(),
			RefreshToken:         c.RefreshToken.Reveal(),
			ExchangeRefreshToken: c.ExchangeRefreshToken.Reveal(),
		}
		switch {
		case s.cloud != nil:
			if err := doc.setCloud(*s.cloud); err != nil {
				return fileDoc{}, err
			}
		case old != nil:
			doc.Cloud, doc.CloudEndpoints = old.Cloud, old.CloudEndpoints
		}
		// Save is given tokens just obtained (by a sign-in), or the
		// file's own, whose time is kept.
		now := s.clock()()
		doc.RefreshTokenObtainedAt = obtainedAt(doc.RefreshToken, now, old, token.RefreshSAM)
		doc.ExchangeRefreshTokenObtainedAt = obtainedAt(doc.ExchangeRefreshToken, now, old, token.RefreshExchange)
		var err error
		files, err = s.placeCertificate(old, &doc, c.Certificate)
		return doc, err
	}, func(err error) { s.settleCertificate(files, err) })
}

// certFileMark is in the name of every certificate file a FileStore
// writes: "credentials.json.cert-<SHA-1 thumbprint>.pem" beside
// "credentials.json".
const certFileMark = ".cert-"

// certFileName names the PEM file that keeps c beside the credentials
// file: after the file's whole name and the certificate's thumbprint, so
// that a new certificate never overwrites the one the credentials file
// still names, and so that the name tells which store wrote it and which
// certificate it holds (the SHA-1 thumbprint is the one samctl inspect
// and the Entra admin center show).
func (s *FileStore) certFileName(c *token.Certificate) string {
	return filepath.Base(s.path) + certFileMark + c.SHA1Thumbprint() + ".pem"
}

// placeCertificate records c in doc: by the path WithCertificateFile
// gave; by the path old records when that file holds c; else in a PEM
// file of its own, with its key, mode 0600, which it writes. It returns the
// certificate files settleCertificate removes once doc is saved or not.
func (s *FileStore) placeCertificate(old, doc *fileDoc, c *token.Certificate) (files certFiles, err error) {
	// A file of the store's naming that WithCertificateFile gives is the
	// person's own all the same.
	if old != nil && s.wroteCertificate(old.CertificatePath) && !s.isCertificateFile(old.CertificatePath) {
		files.replaced = old.CertificatePath
	}
	switch {
	// The file WithCertificateFile names is recorded only while it holds
	// c: a rotation's new certificate recorded by the old one's path would
	// be lost, and the store left with the certificate the rotation then
	// removes from the app.
	case s.certPath != "" && (c == nil || s.holds(s.certPath, s.certPassword.Reveal(), c)):
		doc.CertificatePath, doc.CertificatePassword = s.certPath, s.certPassword.Reveal()
	case c == nil:
	case len(c.Chain) == 0 || c.Key == nil:
		return certFiles{}, fmt.Errorf("sam: %s: the certificate to save has no certificate or no key", s.path)
	case old != nil && old.CertificatePath != "" && s.holds(old.CertificatePath, old.CertificatePassword, c):
		doc.CertificatePath, doc.CertificatePassword = old.CertificatePath, old.CertificatePassword
	default:
		pemText, err := certificatePEM(c)
		if err != nil {
			return certFiles{}, err
		}
		name := s.certFileName(c)
		tmp, err := s.stage(filepath.Dir(s.path), []byte(pemText))
		if err != nil {
			return certFiles{}, fmt.Errorf("sam: writing the certificate beside %s: %w", s.path, err)
		}
		doc.staged = &stagedFile{tmp: tmp, path: s.resolve(name)}
		doc.CertificatePath = name
		if old == nil || old.CertificatePath != name {
			files.written = doc.staged
		}
	}
	if files.replaced == doc.CertificatePath {
		files.replaced = ""
	}
	return files, nil
}

// certFiles are the certificate files of a save: replaced, one samkit
// wrote earlier that the saved file no longer names; written, one this
// save stages that the file did not name before.
type certFiles struct {
	replaced string
	written  *stagedFile
}

// settleCertificate removes, under the store's locks, the certificate
// file that the credentials file no longer names once writing it ended
// with err: the replaced one after a write; after a failure, whichever of
// the replaced one and the one this save put in place the file, as read
// back, does not name, since the failure may have come after the file
// was replaced (its directory not synced). A key that is not stored
// should not linger on disk, where nothing would ever remove it; a file
// this save did not put in place is not its to remove, nor is the
// replaced one while the file cannot be read back.
func (s *FileStore) settleCertificate(files certFiles, err error) {
	if err == nil {
		if files.replaced != "" {
			os.Remove(s.resolve(files.replaced))
		}
		return
	}
	doc, rerr := s.read()
	names := func(p string) bool { return rerr == nil && s.resolve(doc.CertificatePath) == p }
	if p := s.resolve(files.replaced); files.replaced != "" && rerr == nil && !names(p) {
		os.Remove(p)
	}
	if w := files.written; w != nil && w.placed && !names(w.path) {
		os.Remove(w.path)
	}
}

// isCertificateFile reports whether path (relative to the credentials
// file) is the one WithCertificateFile gave, by name or by another way to
// the same file (a link, a linked folder, another case on Windows and
// macOS).
func (s *FileStore) isCertificateFile(path string) bool {
	if s.certPath == "" {
		return false
	}
	p, given := filepath.Clean(s.resolve(path)), filepath.Clean(s.resolve(s.certPath))
	if p == given {
		return true
	}
	pi, err := os.Stat(p)
	if err != nil {
		return false
	}
	gi, err := os.Stat(given)
	return err == nil && os.SameFile(pi, gi)
}

// holds reports whether the certificate file at path (relative to the
// credentials file) holds c.
func (s *FileStore) holds(path, password string, c *token.Certificate) bool {
	held, err := loadCertificate(s.resolve(path), password)
	return err == nil && sameCertificate(held, c)
}

// wroteCertificate reports whether name is a certificate file this store
// writes, beside the credentials file: of certFileName's shape, or of the
// shape earlier versions wrote ("credentials.cert-<16 hex>.pem" beside
// "credentials.json"), which a file saved by them may still name. Only
// such a file is removed when replaced, never one a person pointed the
// store at.
func (s *FileStore) wroteCertificate(name string) bool {
	stem := strings.TrimSuffix(filepath.Base(s.path), filepath.Ext(s.path))
	return isCertFileName(name, filepath.Base(s.path), 40, "0123456789ABCDEF") ||
		isCertFileName(name, stem, 16, "0123456789abcdef")
}

// isCertFileName reports whether name is prefix, certFileMark, n of the
// digits and ".pem".
func isCertFileName(name, prefix string, n int, digits string) bool {
	thumb, ok := strings.CutPrefix(name, prefix+certFileMark)
	if !ok {
		return false
	}
	thumb, ok = strings.CutSuffix(thumb, ".pem")
	return ok && len(thumb) == n && strings.Trim(thumb, digits) == ""
}

// resolve makes a path the file records absolute: relative ones are
// relative to the credentials file's directory.
func (s *FileStore) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(s.path), p)
}

// SaveRefreshToken replaces one refresh token in the file and keeps
// everything else, as SaveRefreshTokenObtained does with the time of the
// call. The file must exist.
func (s *FileStore) SaveRefreshToken(ctx context.Context, kind token.RefreshKind, rt token.Secret) error {
	return s.SaveRefreshTokenObtained(ctx, kind, rt, s.clock()())
}

// SaveRefreshTokenObtained replaces one refresh token in the file, obtained
// at the given time, and keeps everything else; a token.Provider calls it
// with the time each rotated token arrived. When the file holds a token of
// that kind obtained later (by another process sharing the file), the file
// is left as it is: both tokens work, and the newer one lives longer. The
// file must exist.
func (s *FileStore) SaveRefreshTokenObtained(ctx context.Context, kind token.RefreshKind, rt token.Secret, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := refreshKindName(kind)
	if err != nil {
		return err
	}
	if rt.IsZero() {
		return fmt.Errorf("sam: refusing to save an empty %s refresh token", name)
	}
	return s.update(ctx, func(old *fileDoc) (fileDoc, error) {
		if old == nil {
			return fileDoc{}, fmt.Errorf("sam: cannot save the rotated %s refresh token: %w: %s does not exist", name, ErrNoCredentials, s.path)
		}
		doc := *old
		held, heldAt := &doc.RefreshToken, &doc.RefreshTokenObtainedAt
		if kind == token.RefreshExchange {
			held, heldAt = &doc.ExchangeRefreshToken, &doc.ExchangeRefreshTokenObtainedAt
		}
		if at.Before(*heldAt) {
			return fileDoc{}, errKeepFile
		}
		*held, *heldAt = rt.Reveal(), at.UTC()
		return doc, nil
	})
}

// errKeepFile, from an update's change, leaves the file as it is.
var errKeepFile = errors.New("sam: the file is up to date")

// obtainedAt is when the refresh token rt of kind, about to be saved, was
// obtained: the file's time if the file holds it already, else now.
func obtainedAt(rt string, now time.Time, old *fileDoc, kind token.RefreshKind) time.Time {
	if rt == "" {
		return time.Time{}
	}
	if old != nil {
		switch {
		case kind == token.RefreshSAM && old.RefreshToken == rt:
			return old.RefreshTokenObtainedAt
		case kind == token.RefreshExchange && old.ExchangeRefreshToken == rt:
			return old.ExchangeRefreshTokenObtainedAt
		}
	}
	return now.UTC()
}

func (s *FileStore) clock() func() time.Time {
	if s.now != nil {
		return s.now
	}
	return time.Now
}

// lockPath is the file whose lock the store's writers take.
func (s *FileStore) lockPath() string { return s.path + ".lock" }

// Writable checks that Save can write the file, without changing it: the
// directory can be created and written, the lock file opened, and the
// file, if there is one, is a credentials file only its owner can read
// (Save reads it first, and refuses one that others can read).
func (s *FileStore) Writable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: %s cannot be created (%v): choose a credentials file in a folder you can write to, or fix the folder's permissions", ErrReadOnlyStore, dir, pathErrText(err))
	}
	if _, err := s.read(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return readOnlyError{err}
	}
	tmp, err := os.CreateTemp(dir, s.tempPattern())
	if err != nil {
		return fmt.Errorf("%w: %s cannot be written (%v): choose a credentials file in a folder you can write to, or fix the folder's permissions", ErrReadOnlyStore, dir, pathErrText(err))
	}
	tmp.Close()
	os.Remove(tmp.Name())
	f, err := os.OpenFile(s.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: the lock file %s cannot be opened (%v): fix its permissions or remove it", ErrReadOnlyStore, s.lockPath(), pathErrText(err))
	}
	return f.Close()
}

// pathErrText is the reason of a file system error without the path, which
// the message names already.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// saveAppCredential replaces the app's client secret and certificate
// alone, for a rotation: the refresh tokens in the file may have been
// rotated by another process since c was loaded, and must not step back.
func (s *FileStore) saveAppCredential(ctx context.Context, c token.Credentials) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var files certFiles
	return s.updateThen(ctx, func(old *fileDoc) (fileDoc, error) {
		if old == nil {
			return fileDoc{}, fmt.Errorf("sam: cannot save the new credential: %w: %s does not exist", ErrNoCredentials, s.path)
		}
		if !strings.EqualFold(old.ApplicationID, c.ApplicationID) || !strings.EqualFold(old.TenantID, c.TenantID) {
			return fileDoc{}, fmt.Errorf("sam: %s now holds the credentials of another app (%s): the new credential of %s was not saved", s.path, old.ApplicationID, c.ApplicationID)
		}
		doc := *old
		doc.ClientSecret = c.ClientSecret.Reveal()
		doc.CertificatePath, doc.CertificatePassword = "", ""
		var err error
		files, err = s.placeCertificate(old, &doc, c.Certificate)
		return doc, err
	}, func(err error) { s.settleCertificate(files, err) })
}

// update runs a read-modify-write of the file under the store's locks;
// change gets nil when there is no file yet.
func (s *FileStore) update(ctx context.Context, change func(old *fileDoc) (fileDoc, error)) error {
	return s.updateThen(ctx, change, nil)
}

// updateThen is update, calling then, still under the locks, with the
// outcome of writing the changed file.
func (s *FileStore) updateThen(ctx context.Context, change func(old *fileDoc) (fileDoc, error), then func(err error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sam: creating the credentials directory: %w", err)
	}
	unlock, exclusive, err := lockFile(ctx, s.lockPath())
	if err != nil {
		return fmt.Errorf("sam: locking %s: %w", s.path, err)
	}
	defer unlock()
	if exclusive {
		// No other writer holds the lock, so any temporary file left
		// beside the credentials, a staged certificate's among them, was
		// abandoned by a crash.
		s.removeStaleTemps()
	}

	var old *fileDoc
	switch doc, err := s.read(); {
	case err == nil:
		old = &doc
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	doc, err := change(old)
	if errors.Is(err, errKeepFile) {
		return nil
	}
	if err != nil {
		return err
	}
	doc.Version = fileVersion
	doc.SavedAt = s.clock()().UTC().Truncate(time.Second)
	err = s.write(doc)
	if then != nil {
		then(err)
	}
	return err
}

// read loads and checks the file.
func (s *FileStore) read() (fileDoc, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileDoc{}, missingFileError{s.path}
	}
	if err != nil {
		return fileDoc{}, fmt.Errorf("sam: opening the credentials file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fileDoc{}, fmt.Errorf("sam: reading the credentials file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fileDoc{}, fmt.Errorf("sam: %s is not a regular file", s.path)
	}
	if err := checkPrivate(s.path, info); err != nil {
		return fileDoc{}, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fileDoc{}, fmt.Errorf("sam: reading the credentials file: %w", err)
	}
	if len(b) > maxFileSize {
		return fileDoc{}, fmt.Errorf("sam: %s is larger than %d bytes: not a credentials file", s.path, maxFileSize)
	}
	return decodeFileDoc(s.path, b)
}

// decodeFileDoc parses the file. Its errors never quote the content: the
// standard messages for syntax errors show the offending character, which
// may belong to a secret.
func decodeFileDoc(path string, b []byte) (fileDoc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		var (
			se *json.SyntaxError
			te *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &se):
			return fileDoc{}, fmt.Errorf("sam: %s is not valid JSON (error at byte %d)", path, se.Offset)
		case errors.As(err, &te):
			return fileDoc{}, fmt.Errorf("sam: %s: %q must be %s", path, te.Field, jsonTypeName(te.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fileDoc{}, fmt.Errorf("sam: %s: %s", path, strings.TrimPrefix(err.Error(), "json: "))
		}
		return fileDoc{}, fmt.Errorf("sam: %s is not a credentials file", path)
	}
	if dec.More() {
		return fileDoc{}, fmt.Errorf("sam: %s has data after the credentials object", path)
	}
	switch {
	case doc.Version > fileVersion:
		return fileDoc{}, fmt.Errorf("sam: %s was written by a newer samkit (format %d): upgrade samkit", path, doc.Version)
	case doc.TenantID == "":
		return fileDoc{}, fmt.Errorf("sam: %s has no tenantId", path)
	case doc.ApplicationID == "":
		return fileDoc{}, fmt.Errorf("sam: %s has no applicationId", path)
	}
	return doc, nil
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int":
		return "a number"
	case "struct":
		return "a date such as 2026-01-01T08:55:37Z"
	}
	return "a " + goKind
}

// tempPattern names temporary files after the credentials file, so that
// they are easy to recognise and never collide with another store's.
func (s *FileStore) tempPattern() string { return "." + filepath.Base(s.path) + ".tmp-*" }

// write replaces the file with doc atomically.
func (s *FileStore) write(doc fileDoc) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("sam: encoding the credentials: %w", err)
	}
	if err := s.writeFile(s.path, append(b, '\n'), doc.staged); err != nil {
		return fmt.Errorf("sam: writing the credentials: %w", err)
	}
	return nil
}

// writeFile replaces the file at path, beside the credentials file, with
// b atomically, mode 0600. A staged file, when there is one, is renamed
// into place just before, so that path never names a file that is not
// there, and a failure before the renames leaves neither; it is removed
// when writeFile fails before its rename.
func (s *FileStore) writeFile(path string, b []byte, staged *stagedFile) error {
	dir := filepath.Dir(path)
	renamed := false
	defer func() {
		if staged != nil && !renamed {
			os.Remove(staged.tmp)
		}
	}()
	tmp, err := s.stage(dir, b)
	if err != nil {
		return err
	}
	defer func() {
		if !renamed {
			os.Remove(tmp)
		}
	}()
	if s.beforeRename != nil {
		if err := s.beforeRename(tmp); err != nil {
			return err
		}
	}
	if staged != nil {
		// A file already of that name (a renamed credentials file's, the
		// same certificate's) is replaced, but was not this save's to make,
		// so it is not this save's to remove.
		_, err := os.Lstat(staged.path)
		made := errors.Is(err, fs.ErrNotExist)
		if err := os.Rename(staged.tmp, staged.path); err != nil {
			return fmt.Errorf("replacing %s: %w", staged.path, err)
		}
		staged.placed = made
		// Durable before the file that names it: a file system that
		// does not keep renames in order could otherwise keep the
		// credentials file's after a crash and lose this one, and the
		// key would go with the stale temporary files.
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("syncing the directory: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	renamed = true
	if s.afterRename != nil {
		if err := s.afterRename(); err != nil {
			return err
		}
	}
	// The rename is durable only once the directory entry is.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("syncing the directory: %w", err)
	}
	return nil
}

// stage writes b to a new temporary file in dir, mode 0600, synced, and
// returns its path. Nothing is left when it fails.
func (s *FileStore) stage(dir string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, s.tempPattern())
	if err != nil {
		return "", err
	}
	err = writeSynced(f, b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeSynced writes b to f, mode 0600, and syncs it.
func writeSynced(f *os.File, b []byte) error {
	// CreateTemp already uses 0600; Chmod states it, whatever the umask.
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	return f.Sync()
}

// removeStaleTemps removes the temporary files of this store's naming
// beside the credentials file: by prefix, since the file's name may hold
// characters a glob pattern would read as its own.
func (s *FileStore) removeStaleTemps() {
	dir := filepath.Dir(s.path)
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	temp := strings.TrimSuffix(s.tempPattern(), "*")
	for _, name := range names {
		if strings.HasPrefix(name, temp) {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// loadCertificate reads and parses a certificate file. The password is
// revealed only to the parser.
func loadCertificate(path, password string) (*token.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("certificate %s is larger than %d bytes", path, maxFileSize)
	}
	cert, err := token.ParseCertificate(b, password)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	return cert, nil
}

// missingFileError is a credentials file that does not exist. It matches
// both ErrNoCredentials and fs.ErrNotExist, and says so once.
type missingFileError struct{ path string }

func (e missingFileError) Error() string {
	return fmt.Sprintf("%v: %s does not exist; run setup to create it", ErrNoCredentials, e.path)
}

func (e missingFileError) Is(target error) bool {
	return target == ErrNoCredentials || target == fs.ErrNotExist
}
