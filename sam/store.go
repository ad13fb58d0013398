package sam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/token"
)

// Store is where a SAM app's credentials live between runs.
//
// Load returns the stored credentials. Save replaces them. SaveRefreshToken
// replaces one refresh token and leaves the rest as it was; it makes a Store
// a token.RefreshTokenStore, so that a token.Provider built with
// token.WithRefreshTokenStore hands it every rotated refresh token before
// returning the access token that came with it. The Provider fails that
// token request when SaveRefreshToken fails: a token it could not keep is
// one it must not rely on.
//
// The credentials include the app's certificate: Load returns it with its
// private key when the store holds one, and Save keeps c.Certificate (a
// FileStore as a PEM file beside the credentials, a KeyVaultStore as a
// secret), so that a certificate-only app, with no client secret, lives
// in a store as a secret-based one does.
//
// Cloud returns the Microsoft cloud the credentials belong to
// (cloud.Public when the store records none). RefreshTokenObtainedAt
// returns when the stored SAM refresh token was obtained, that is when it
// was last rotated, which starts its 90-day idle lifetime; the zero time
// when the store does not know.
//
// Implementations are safe for concurrent use by multiple goroutines.
type Store interface {
	Load(ctx context.Context) (token.Credentials, error)
	Save(ctx context.Context, c token.Credentials) error
	Cloud(ctx context.Context) (cloud.Configuration, error)
	RefreshTokenObtainedAt(ctx context.Context) (time.Time, error)
	token.RefreshTokenStore
}

// WritableStore is a Store that can tell, before anything is done,
// whether Save would fail for want of rights: Setup asks it before the
// admin signs in, so that no sign-in (with MFA) and no app is wasted on a
// store that cannot keep the result. Writable leaves the stored
// credentials as they are; its error matches ErrReadOnlyStore and says
// what to fix.
type WritableStore interface {
	Store
	Writable(ctx context.Context) error
}

var (
	// ErrNoCredentials means a store holds no credentials yet: run setup.
	ErrNoCredentials = errors.New("sam: no stored credentials")
	// ErrReadOnlyStore means a store cannot keep what it was given.
	ErrReadOnlyStore = errors.New("sam: the credential store cannot be written")
)

// StoreError is a store's problem that a person must mend, with how:
// errors.As finds it, so that a caller can show the fix on its own line.
type StoreError struct {
	Err error  // what is wrong
	Fix string // what to do about it
}

func (e *StoreError) Error() string { return e.Err.Error() + ": " + e.Fix }
func (e *StoreError) Unwrap() error { return e.Err }

// readOnlyError says that a store cannot be written because of err,
// matching both ErrReadOnlyStore and err.
type readOnlyError struct{ err error }

func (e readOnlyError) Error() string {
	return ErrReadOnlyStore.Error() + ": " + strings.TrimPrefix(e.err.Error(), "sam: ")
}
func (e readOnlyError) Unwrap() []error { return []error{ErrReadOnlyStore, e.err} }

// refreshKindName names a kind of refresh token for messages, and refuses
// a kind this package does not know where to keep.
func refreshKindName(kind token.RefreshKind) (string, error) {
	switch kind {
	case token.RefreshSAM, token.RefreshExchange:
		return kind.String(), nil
	}
	return "", fmt.Errorf("sam: unknown kind of refresh token %v", kind)
}
