package testserver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The secrets operations of Key Vault's data plane. Shapes from the REST
// reference (https://learn.microsoft.com/rest/api/keyvault/secrets/):
// set-secret, get-secret, get-secret-versions, get-secrets, delete-secret,
// get-deleted-secret, get-deleted-secrets, recover-deleted-secret,
// purge-deleted-secret, update-secret.

// kvPageSize is the number of items a list answers with per page: the
// documented maximum (and default) of maxresults.
// https://learn.microsoft.com/rest/api/keyvault/secrets/get-secrets/get-secrets
const kvPageSize = 25

func (s *Server) routeKeyVault(mux *http.ServeMux) {
	mux.HandleFunc("PUT /secrets/{name}", s.kvSetSecret)
	mux.HandleFunc("GET /secrets", s.kvListSecrets)
	mux.HandleFunc("GET /secrets/{name}", s.kvGetSecret)
	mux.HandleFunc("GET /secrets/{name}/{rest...}", s.kvGetSecret)
	mux.HandleFunc("PATCH /secrets/{name}/{version}", s.kvUpdateSecret)
	mux.HandleFunc("DELETE /secrets/{name}", s.kvDeleteSecret)
	mux.HandleFunc("GET /deletedsecrets", s.kvListDeleted)
	mux.HandleFunc("GET /deletedsecrets/{name}", s.kvGetDeleted)
	mux.HandleFunc("POST /deletedsecrets/{name}/recover", s.kvRecover)
	mux.HandleFunc("DELETE /deletedsecrets/{name}", s.kvPurge)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.kvAuth(w, r, false); ok {
			writeKVError(w, http.StatusBadRequest, "BadParameter", "The request URI is not valid for this vault: "+r.Method+" "+r.URL.Path)
		}
	})
}

// kvRequest is what every operation starts from: the vault, locked.
// Handlers call it, do their work and call done.
type kvRequest struct {
	v    *Vault
	call kvCall
	now  time.Time
}

// kvBegin authenticates r, authorises write (or read) access and returns
// the vault with the server's lock held; on false it has answered.
func (s *Server) kvBegin(w http.ResponseWriter, r *http.Request, write bool) (*kvRequest, bool) {
	if _, ok := s.kvAuth(w, r, write); !ok {
		return nil, false
	}
	s.mu.Lock()
	v := s.world.Vaults[kvCallOf(r).vault]
	if v == nil { // deleted since kvAuth
		s.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	return &kvRequest{v: v, call: kvCallOf(r), now: s.clock.Now()}, true
}

// kvBeginWrite reads r's body, then begins a write as kvBegin does. The
// body is read before authenticating: the SDK's first request, the one
// that draws the challenge, comes without it.
func (s *Server) kvBeginWrite(w http.ResponseWriter, r *http.Request) (*kvRequest, []byte, bool) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	kr, ok := s.kvBegin(w, r, true)
	return kr, raw, ok
}

func (s *Server) kvSetSecret(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body struct {
		Value       *string           `json:"value"`
		ContentType string            `json:"contentType"`
		Tags        map[string]string `json:"tags"`
		Attributes  *kvAttributesIn   `json:"attributes"`
	}
	kr, raw, ok := s.kvBeginWrite(w, r)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if !validSecretName(w, name) {
		return
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Value == nil {
		writeKVError(w, http.StatusBadRequest, "BadParameter", "The request body must be a JSON object with a 'value'.")
		return
	}
	if len(*body.Value) > 25*1024 {
		// https://learn.microsoft.com/azure/key-vault/general/service-limits
		writeKVError(w, http.StatusBadRequest, "BadParameter", "Secret value is too large: the limit is 25 KB.")
		return
	}
	if len(body.Tags) > 15 {
		writeKVError(w, http.StatusBadRequest, "BadParameter", "A secret can have at most 15 tags.")
		return
	}
	key := strings.ToLower(name)
	if _, gone := kr.v.Deleted[key]; gone {
		writeKVErrorInner(w, http.StatusConflict, "Conflict", fmt.Sprintf("Secret %s is currently in a deleted but recoverable state, "+
			"and its name cannot be reused; in this state, the secret can only be recovered or purged.", name), "ObjectIsDeletedButRecoverable")
		return
	}
	sec := kr.v.Secrets[key]
	if sec == nil {
		sec = &VaultSecret{Name: name}
		kr.v.Secrets[key] = sec
	}
	ver := &SecretVersion{Version: kvVersionID(), Value: *body.Value, ContentType: body.ContentType, Tags: body.Tags,
		Enabled: true, Created: kr.now, Updated: kr.now}
	body.Attributes.applyTo(ver)
	sec.Versions = append(sec.Versions, ver)
	writeJSON(w, http.StatusOK, kr.bundle(sec, ver, true))
}

func (s *Server) kvGetSecret(w http.ResponseWriter, r *http.Request) {
	name, rest := r.PathValue("name"), r.PathValue("rest")
	if rest == "versions" {
		s.kvListVersions(w, r)
		return
	}
	if strings.Contains(rest, "/") {
		writeKVError(w, http.StatusBadRequest, "BadParameter", "The request URI is not valid: "+r.URL.Path)
		return
	}
	kr, ok := s.kvBegin(w, r, false)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sec, ver := kr.find(name, rest)
	if ver == nil {
		writeSecretNotFound(w, name, rest)
		return
	}
	if !ver.Enabled {
		writeKVError(w, http.StatusForbidden, "Forbidden", "Operation get is not allowed on a disabled secret.")
		return
	}
	writeJSON(w, http.StatusOK, kr.bundle(sec, ver, true))
}

func (s *Server) kvUpdateSecret(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ContentType *string            `json:"contentType"`
		Tags        *map[string]string `json:"tags"`
		Attributes  *kvAttributesIn    `json:"attributes"`
	}
	kr, raw, ok := s.kvBeginWrite(w, r)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if err := json.Unmarshal(raw, &body); err != nil {
		writeKVError(w, http.StatusBadRequest, "BadParameter", "The request body is not valid JSON.")
		return
	}
	name, version := r.PathValue("name"), r.PathValue("version")
	sec, ver := kr.find(name, version)
	if ver == nil {
		writeSecretNotFound(w, name, version)
		return
	}
	if body.ContentType != nil {
		ver.ContentType = *body.ContentType
	}
	if body.Tags != nil {
		ver.Tags = *body.Tags
	}
	body.Attributes.applyTo(ver)
	ver.Updated = kr.now
	writeJSON(w, http.StatusOK, kr.bundle(sec, ver, false))
}

func (s *Server) kvListSecrets(w http.ResponseWriter, r *http.Request) {
	kr, ok := s.kvBegin(w, r, false)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	secs := sortedSecrets(kr.v.Secrets)
	items := make([]map[string]any, 0, len(secs))
	for _, sec := range secs {
		it := kr.item(sec, sec.current())
		it["id"] = kr.call.base + "/secrets/" + sec.Name
		items = append(items, it)
	}
	writeKVPage(w, r, kr.call.base+"/secrets", items)
}

func (s *Server) kvListVersions(w http.ResponseWriter, r *http.Request) {
	kr, ok := s.kvBegin(w, r, false)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	name := r.PathValue("name")
	sec := kr.v.Secrets[strings.ToLower(name)]
	items := []map[string]any{}
	if sec != nil {
		for _, ver := range sec.Versions {
			items = append(items, kr.item(sec, ver))
		}
	}
	writeKVPage(w, r, kr.call.base+"/secrets/"+name+"/versions", items)
}

func (s *Server) kvDeleteSecret(w http.ResponseWriter, r *http.Request) {
	kr, ok := s.kvBegin(w, r, true)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	name := r.PathValue("name")
	key := strings.ToLower(name)
	sec := kr.v.Secrets[key]
	if sec == nil {
		writeSecretNotFound(w, name, "")
		return
	}
	delete(kr.v.Secrets, key)
	d := &DeletedVaultSecret{Secret: sec, Deleted: kr.now, PurgeAt: kr.now.Add(keyVaultRecoverableDays * 24 * time.Hour)}
	kr.v.Deleted[key] = d
	writeJSON(w, http.StatusOK, kr.deleted(d, false))
}

func (s *Server) kvListDeleted(w http.ResponseWriter, r *http.Request) {
	kr, ok := s.kvBegin(w, r, false)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	keys := make([]string, 0, len(kr.v.Deleted))
	for k := range kr.v.Deleted {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	items := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		items = append(items, kr.deleted(kr.v.Deleted[k], true))
	}
	writeKVPage(w, r, kr.call.base+"/deletedsecrets", items)
}

func (s *Server) kvGetDeleted(w http.ResponseWriter, r *http.Request) {
	s.kvOnDeleted(w, r, false, func(kr *kvRequest, key string, d *DeletedVaultSecret) {
		writeJSON(w, http.StatusOK, kr.deleted(d, false))
	})
}

func (s *Server) kvRecover(w http.ResponseWriter, r *http.Request) {
	s.kvOnDeleted(w, r, true, func(kr *kvRequest, key string, d *DeletedVaultSecret) {
		delete(kr.v.Deleted, key)
		kr.v.Secrets[key] = d.Secret
		writeJSON(w, http.StatusOK, kr.bundle(d.Secret, d.Secret.current(), false))
	})
}

func (s *Server) kvPurge(w http.ResponseWriter, r *http.Request) {
	s.kvOnDeleted(w, r, true, func(kr *kvRequest, key string, _ *DeletedVaultSecret) {
		delete(kr.v.Deleted, key)
		w.WriteHeader(http.StatusNoContent)
	})
}

// kvOnDeleted runs fn, under the lock, on the deleted secret the request
// names, or answers 404.
func (s *Server) kvOnDeleted(w http.ResponseWriter, r *http.Request, write bool, fn func(kr *kvRequest, key string, d *DeletedVaultSecret)) {
	kr, ok := s.kvBegin(w, r, write)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	name := r.PathValue("name")
	key := strings.ToLower(name)
	d := kr.v.Deleted[key]
	if d == nil {
		writeKVError(w, http.StatusNotFound, "SecretNotFound", fmt.Sprintf("Deleted Secret not found: %s", name))
		return
	}
	fn(kr, key, d)
}

// find returns a secret and its version (the current one when version is
// empty), or nil.
func (kr *kvRequest) find(name, version string) (*VaultSecret, *SecretVersion) {
	sec := kr.v.Secrets[strings.ToLower(name)]
	if sec == nil {
		return nil, nil
	}
	if version == "" {
		return sec, sec.current()
	}
	for _, ver := range sec.Versions {
		if strings.EqualFold(ver.Version, version) {
			return sec, ver
		}
	}
	return sec, nil
}

// kvAttributesIn is the attributes object of a request.
type kvAttributesIn struct {
	Enabled *bool  `json:"enabled"`
	NBF     *int64 `json:"nbf"`
	Exp     *int64 `json:"exp"`
}

func (a *kvAttributesIn) applyTo(v *SecretVersion) {
	if a == nil {
		return
	}
	if a.Enabled != nil {
		v.Enabled = *a.Enabled
	}
	if a.NBF != nil {
		t := time.Unix(*a.NBF, 0).UTC()
		v.NotBefore = &t
	}
	if a.Exp != nil {
		t := time.Unix(*a.Exp, 0).UTC()
		v.Expires = &t
	}
}

// attributes renders a version's attributes: times in Unix seconds.
func (v *SecretVersion) attributes() map[string]any {
	a := map[string]any{"enabled": v.Enabled, "created": v.Created.Unix(), "updated": v.Updated.Unix(),
		"recoveryLevel": "Recoverable+Purgeable", "recoverableDays": keyVaultRecoverableDays}
	if v.NotBefore != nil {
		a["nbf"] = v.NotBefore.Unix()
	}
	if v.Expires != nil {
		a["exp"] = v.Expires.Unix()
	}
	return a
}

// item is a SecretItem: a version's metadata without its value.
func (kr *kvRequest) item(sec *VaultSecret, v *SecretVersion) map[string]any {
	m := map[string]any{"id": kr.call.base + "/secrets/" + sec.Name + "/" + v.Version, "attributes": v.attributes()}
	if v.ContentType != "" {
		m["contentType"] = v.ContentType
	}
	if len(v.Tags) > 0 {
		m["tags"] = v.Tags
	}
	return m
}

// bundle is a SecretBundle: an item with its value (withValue false for the
// answers that leave it out).
func (kr *kvRequest) bundle(sec *VaultSecret, v *SecretVersion, withValue bool) map[string]any {
	m := kr.item(sec, v)
	if withValue {
		m["value"] = v.Value
	}
	return m
}

// deleted is a DeletedSecretBundle (or, asItem, a DeletedSecretItem).
func (kr *kvRequest) deleted(d *DeletedVaultSecret, asItem bool) map[string]any {
	m := kr.item(d.Secret, d.Secret.current())
	if asItem {
		m["id"] = kr.call.base + "/secrets/" + d.Secret.Name
	}
	m["recoveryId"] = kr.call.base + "/deletedsecrets/" + d.Secret.Name
	m["deletedDate"] = d.Deleted.Unix()
	m["scheduledPurgeDate"] = d.PurgeAt.Unix()
	return m
}

func sortedSecrets(m map[string]*VaultSecret) []*VaultSecret {
	out := make([]*VaultSecret, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *VaultSecret) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out
}

// writeKVPage answers one page of items with a nextLink to the next, by
// the $skiptoken the request carries.
func writeKVPage(w http.ResponseWriter, r *http.Request, self string, items []map[string]any) {
	size := kvPageSize
	if n, err := strconv.Atoi(r.URL.Query().Get("maxresults")); err == nil {
		if n < 1 || n > kvPageSize {
			writeKVError(w, http.StatusBadRequest, "BadParameter", "maxresults must be between 1 and 25.")
			return
		}
		size = n
	}
	skip, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	skip = min(max(skip, 0), len(items))
	end := min(skip+size, len(items))
	body := map[string]any{"value": items[skip:end], "nextLink": nil}
	if end < len(items) {
		body["nextLink"] = fmt.Sprintf("%s?api-version=%s&$skiptoken=%d&maxresults=%d", self, r.URL.Query().Get("api-version"), end, size)
	}
	writeJSON(w, http.StatusOK, body)
}

func validSecretName(w http.ResponseWriter, name string) bool {
	if secretNamePattern.MatchString(name) {
		return true
	}
	writeKVError(w, http.StatusBadRequest, "BadParameter", fmt.Sprintf("The request URI contains an invalid name: %s. "+
		"Follow this rule: '^[0-9a-zA-Z-]+$'.", name))
	return false
}

func writeSecretNotFound(w http.ResponseWriter, name, version string) {
	id := name
	if version != "" {
		id += "/" + version
	}
	writeKVError(w, http.StatusNotFound, "SecretNotFound", fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. "+
		"If you recently deleted this secret you may be able to recover it using the correct recovery command. "+
		"For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", id))
}

// writeKVError answers in Key Vault's error shape.
// https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret#keyvaulterror
func writeKVError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

func writeKVErrorInner(w http.ResponseWriter, status int, code, message, inner string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message,
		"innererror": map[string]any{"code": inner}}})
}

// kvVersionID is a new version identifier: 32 hex digits.
func kvVersionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
