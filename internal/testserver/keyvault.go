package testserver

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Azure Key Vault's secrets data plane, as the azsecrets client calls it.
// A vault belongs to one tenant; callers present a token for
// https://vault.azure.net issued in that tenant, and Azure RBAC decides what
// they may do with the vault's secrets.
// https://learn.microsoft.com/rest/api/keyvault/secrets/set-secret/set-secret
// https://learn.microsoft.com/azure/key-vault/general/rbac-guide

const (
	// KeyVaultAppID is Azure Key Vault's first-party application.
	KeyVaultAppID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"
	// KeyVaultResource is the audience of tokens for Key Vault's data plane.
	KeyVaultResource = "https://vault.azure.net"

	// KeyVaultSecretsOfficer may do anything with a vault's secrets.
	KeyVaultSecretsOfficer = "Key Vault Secrets Officer"
	// KeyVaultSecretsUser may read secrets' values and metadata.
	KeyVaultSecretsUser = "Key Vault Secrets User"

	// keyVaultPrefix is where the fake serves a vault by path:
	// /keyvault/{vault}/secrets/...
	keyVaultPrefix = "/keyvault/"
	// keyVaultRecoverableDays is the soft-delete retention Key Vault
	// defaults to.
	keyVaultRecoverableDays = 90
)

// keyVaultHostSuffixes are the DNS suffixes of vaults in the built-in
// clouds; a request to {vault}.{suffix} is served by that vault.
// https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#dns-suffixes-for-object-identifiers
var keyVaultHostSuffixes = []string{".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net"}

// secretNamePattern is the documented shape of a secret's name.
var secretNamePattern = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// vaultNamePattern is the documented shape of a vault's name.
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault
var vaultNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,22}[a-z0-9]$`)

// Vault is a key vault: its secrets, its soft-deleted secrets and the role
// each principal (service principal or user object id) holds on it.
type Vault struct {
	Name     string
	TenantID string
	// Roles maps a principal's object id to its role on the vault
	// (KeyVaultSecretsOfficer or KeyVaultSecretsUser).
	Roles map[string]string
	// Secrets by lower-cased name: Key Vault's names are case-insensitive.
	Secrets map[string]*VaultSecret
	// Deleted holds soft-deleted secrets by lower-cased name until they are
	// recovered or purged.
	Deleted map[string]*DeletedVaultSecret
}

// VaultSecret is a secret and every version it has had, oldest first.
type VaultSecret struct {
	Name     string
	Versions []*SecretVersion
}

// current is the newest version, the one a GET without a version returns.
func (v *VaultSecret) current() *SecretVersion { return v.Versions[len(v.Versions)-1] }

// SecretVersion is one version of a secret.
type SecretVersion struct {
	Version            string // 32 hex digits
	Value              string
	ContentType        string
	Tags               map[string]string
	Enabled            bool
	NotBefore, Expires *time.Time
	Created, Updated   time.Time
}

// DeletedVaultSecret is a soft-deleted secret.
type DeletedVaultSecret struct {
	Secret           *VaultSecret
	Deleted, PurgeAt time.Time
}

// VaultSpec describes a vault for AddVault.
type VaultSpec struct {
	// Name is the vault's name (3-24 letters, digits and dashes).
	Name string
	// TenantID is the tenant the vault trusts; the partner tenant when
	// empty.
	TenantID string
}

// AddVault creates a vault and returns its URL on this server, served by
// path (https://127.0.0.1:port/keyvault/{name}). The vault is also served
// at https://{name}.vault.azure.net to a client whose transport dials the
// fake for that host. Tokens for it come from the identity platform for
// the resource KeyVaultResource; GrantVaultRole lets a principal in.
func (s *Server) AddVault(spec VaultSpec) (string, error) {
	name := strings.ToLower(spec.Name)
	if !vaultNamePattern.MatchString(name) {
		return "", fmt.Errorf("testserver: vault name %q: use 3-24 letters, digits and dashes, starting with a letter", spec.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	tid := strings.ToLower(spec.TenantID)
	if tid == "" {
		tid = w.Partner.ID
	}
	t := w.Tenants[tid]
	if t == nil {
		return "", fmt.Errorf("testserver: no tenant %s for vault %s", spec.TenantID, spec.Name)
	}
	if w.Vaults == nil {
		w.Vaults = map[string]*Vault{}
	}
	if w.Vaults[name] != nil {
		return "", fmt.Errorf("testserver: vault %s exists", name)
	}
	w.Vaults[name] = &Vault{Name: name, TenantID: t.ID, Roles: map[string]string{},
		Secrets: map[string]*VaultSecret{}, Deleted: map[string]*DeletedVaultSecret{}}
	// Key Vault's service principal exists in every tenant; the fake adds
	// it to a tenant with its first vault, so that the identity platform
	// issues tokens for it there.
	kv := w.Apps[KeyVaultAppID]
	if kv == nil {
		kv = &App{AppID: KeyVaultAppID, ObjectID: newID(), DisplayName: "Azure Key Vault", Resource: KeyVaultResource,
			Scopes: map[string]string{"f53da476-18e3-4152-8e01-aec403e6edc0": "user_impersonation"}, Roles: map[string]string{},
			CreatedAt: s.clock.Now()}
		w.Apps[KeyVaultAppID] = kv
	}
	t.AddServicePrincipal(kv, s.clock.Now())
	return s.URL() + keyVaultPrefix + name, nil
}

// GrantVaultRole gives principal (an object id: a service principal's or a
// user's) role on vault, as an Azure role assignment scoped to the vault
// does; role "" removes the assignment.
func (s *Server) GrantVaultRole(vault, principal, role string) error {
	switch role {
	case "", KeyVaultSecretsOfficer, KeyVaultSecretsUser:
	default:
		return fmt.Errorf("testserver: unknown Key Vault role %q", role)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.world.Vaults[strings.ToLower(vault)]
	if v == nil {
		return fmt.Errorf("testserver: no vault %s", vault)
	}
	if role == "" {
		delete(v.Roles, strings.ToLower(principal))
	} else {
		v.Roles[strings.ToLower(principal)] = role
	}
	return nil
}

// kvCall is the vault a request addresses and the base URL the client
// called it by (ids in responses are built on it).
type kvCall struct {
	vault string
	base  string
}

type kvCallKey struct{}

// keyVaultRoute reports whether r is for a vault, by host
// ({vault}.vault.azure.net) or by path (/keyvault/{vault}/...), and
// returns the request as the vault's mux expects it: the path relative to
// the vault, the vault in its context.
func keyVaultRoute(r *http.Request, host string) (*http.Request, bool) {
	host = strings.ToLower(host)
	for _, suffix := range keyVaultHostSuffixes {
		if name, ok := strings.CutSuffix(host, suffix); ok && name != "" && !strings.Contains(name, ".") {
			return r.WithContext(context.WithValue(r.Context(), kvCallKey{}, kvCall{vault: name, base: "https://" + r.Host})), true
		}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, keyVaultPrefix)
	if !ok {
		return nil, false
	}
	name, sub, _ := strings.Cut(rest, "/")
	r2 := r.Clone(context.WithValue(r.Context(), kvCallKey{}, kvCall{vault: strings.ToLower(name),
		base: "https://" + r.Host + keyVaultPrefix + name}))
	r2.URL.Path, r2.URL.RawPath = "/"+sub, ""
	return r2, true
}

func kvCallOf(r *http.Request) kvCall {
	c, _ := r.Context().Value(kvCallKey{}).(kvCall)
	return c
}
