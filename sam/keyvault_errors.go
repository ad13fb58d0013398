package sam

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Key Vault's refusals, as errors.Is matches a *KeyVaultError. Each comes
// wrapped in a *StoreError whose Fix says what to do.
var (
	// ErrVaultUnauthorized: the vault did not accept the credential's
	// token (401).
	ErrVaultUnauthorized = errors.New("sam: Key Vault did not accept the identity's token")
	// ErrVaultForbidden: the identity has no role that allows the
	// operation (403).
	ErrVaultForbidden = errors.New("sam: Key Vault refused the identity access to its secrets")
	// ErrVaultThrottled: the vault is throttling (429).
	ErrVaultThrottled = errors.New("sam: Key Vault is throttling requests")
	// ErrVaultUnavailable: the vault failed (5xx).
	ErrVaultUnavailable = errors.New("sam: Key Vault is unavailable")
	// ErrVaultConflict: the secret is soft-deleted and its name cannot be
	// reused until it is recovered or purged (409).
	ErrVaultConflict = errors.New("sam: the Key Vault secret is deleted but recoverable")
)

// KeyVaultError is a Key Vault answer the store could not use: the HTTP
// status, Key Vault's error code, the operation and the secret.
// errors.Is matches it against the ErrVault sentinels (and a 404 against
// ErrNoCredentials). Its text never holds a secret's value.
type KeyVaultError struct {
	Vault, Secret, Op string
	Status            int
	Code              string
	// RetryAfter is the wait the vault asked for with a 429 (0 when it
	// named none).
	RetryAfter time.Duration
}

func (e *KeyVaultError) Error() string {
	msg := fmt.Sprintf("sam: Key Vault %s: %s %s: %d", e.Vault, e.Op, e.Secret, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	return msg
}

// Unwrap gives the sentinel of the error's kind.
func (e *KeyVaultError) Unwrap() error {
	switch {
	case e.Status == http.StatusUnauthorized:
		return ErrVaultUnauthorized
	case e.Status == http.StatusForbidden:
		return ErrVaultForbidden
	case e.Status == http.StatusNotFound:
		return ErrNoCredentials
	case e.Status == http.StatusConflict:
		return ErrVaultConflict
	case e.Status == http.StatusTooManyRequests:
		return ErrVaultThrottled
	case e.Status >= 500:
		return ErrVaultUnavailable
	}
	return nil
}

// fix says what a person should do about e.
func (e *KeyVaultError) fix(prefix string) string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "sign the identity in to the vault's own tenant (the vault names it in its challenge) and check the vault URL"
	case e.Status == http.StatusForbidden:
		return "grant the identity the Key Vault Secrets Officer role on the vault " +
			"(az role assignment create --role \"Key Vault Secrets Officer\" --assignee <identity> --scope <vault resource id>); " +
			"a vault using access policies instead needs get, list and set on secrets"
	case e.Status == http.StatusNotFound:
		return "run samctl setup with this vault as the store, or check the vault URL and the prefix " + strconv.Quote(prefix)
	case e.Status == http.StatusConflict:
		return "recover the deleted secret (az keyvault secret recover) or purge it, then try again"
	case e.Status == http.StatusTooManyRequests:
		wait := "a little"
		if e.RetryAfter > 0 {
			wait = e.RetryAfter.String()
		}
		return "wait " + wait + " and try again; keep the credentials loaded rather than reading the vault for every request"
	case e.Status >= 500:
		return "try again later; if it persists, check Azure's status page for Key Vault in the vault's region"
	}
	return "see Key Vault's error code in the Azure documentation"
}

// vaultError turns an azsecrets error into a *StoreError holding a
// *KeyVaultError, or returns err as it is when the vault did not answer
// (a transport error, a cancelled context).
func (s *KeyVaultStore) vaultError(op, secret string, err error) error {
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) {
		// The identity could not sign in at all, before the vault saw it.
		return &StoreError{Err: fmt.Errorf("%w: Key Vault %s: %s %s: signing in: %w", ErrVaultUnauthorized, s.vaultURL, op, secret, err),
			Fix: "check the identity the store signs in to the vault as (its tenant, client id and secret or certificate, or the managed identity)"}
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("sam: Key Vault %s: %s %s: %w", s.vaultURL, op, secret, err)
	}
	ke := &KeyVaultError{Vault: s.vaultURL, Secret: secret, Op: op, Status: re.StatusCode, Code: re.ErrorCode}
	if re.RawResponse != nil {
		if n, err := strconv.Atoi(re.RawResponse.Header.Get("Retry-After")); err == nil && n >= 0 {
			ke.RetryAfter = time.Duration(n) * time.Second
		}
	}
	return &StoreError{Err: ke, Fix: ke.fix(s.prefix)}
}
