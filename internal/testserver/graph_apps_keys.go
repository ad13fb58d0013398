package testserver

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

// addKey and removeKey: an application rolls its own certificates, proving
// with a JWT signed by one of its current certificates that it holds the
// key (https://learn.microsoft.com/graph/api/application-addkey,
// https://learn.microsoft.com/graph/api/application-removekey). The proof
// (https://learn.microsoft.com/graph/application-rollkey-prooftoken) has
// aud 00000003-0000-0000-c000-000000000000 (Microsoft Graph's appId; the
// page's earlier version named 00000002-0000-0000-c000-000000000000, Azure
// AD Graph's, which is still accepted), iss the application's object id
// (not its appId), and nbf and exp at most ten minutes apart. "Applications
// that don't have any existing valid certificates ... won't be able to use
// this service action": they use PATCH instead.
//
// Microsoft documents no error body for a refused proof. What callers
// report from Graph is 401 Authentication_MissingOrMalformed, "Access
// Token missing or malformed."
// (https://github.com/microsoftgraph/microsoft-graph-docs/issues/14626,
// https://github.com/microsoftgraph/microsoft-graph-docs/issues/22076),
// and the fake answers that.

// Audiences a proof may carry.
var proofAudiences = []string{"00000003-0000-0000-c000-000000000000", "00000002-0000-0000-c000-000000000000"}

// proofMaxLifetime is the longest exp - nbf a proof may span.
const proofMaxLifetime = 10 * time.Minute

func (s *Server) routeGraphAppKeys(api *http.ServeMux) {
	api.HandleFunc("POST /v1.0/applications/{id}/addKey", s.graphOp(permAppsWrite, s.graphAddKey))
	api.HandleFunc("POST /v1.0/applications/{id}/removeKey", s.graphOp(permAppsWrite, s.graphRemoveKey))
}

func graphFailProof() *graphFail {
	return &graphFail{status: http.StatusUnauthorized, code: "Authentication_MissingOrMalformed", message: "Access Token missing or malformed."}
}

// checkProofLocked verifies a proof of possession for app a.
func (s *Server) checkProofLocked(a *App, proof string) *graphFail {
	h, claims, signed, sig, err := parseJWT(proof)
	if err != nil {
		return graphFailProof()
	}
	now := s.clock.Now()
	nbf, exp := claims.Time("nbf"), claims.Time("exp")
	switch {
	case !slices.ContainsFunc(claims.Strings("aud"), func(v string) bool { return slices.Contains(proofAudiences, strings.ToLower(v)) }):
		return graphFailProof()
	case !strings.EqualFold(claims.String("iss"), a.ObjectID):
		return graphFailProof()
	case nbf.IsZero() || exp.IsZero() || exp.Sub(nbf) > proofMaxLifetime || now.Add(assertionSkew).Before(nbf) || !now.Before(exp):
		return graphFailProof()
	}
	thumb, sum := thumbprint(h)
	for _, k := range a.Certificates {
		if k.Certificate == nil || !k.validAt(now) {
			continue
		}
		if thumb != nil && subtle.ConstantTimeCompare(sum(k.Certificate.Raw), thumb) != 1 {
			continue
		}
		if pub, ok := k.Certificate.PublicKey.(*rsa.PublicKey); ok && verifyAssertionSignature(pub, h, signed, sig) == nil {
			return nil
		}
	}
	return graphFailProof()
}

// validAt reports whether the certificate is within its registered
// validity at now (replicated or not: the directory itself knows it).
func (k *KeyCredential) validAt(now time.Time) bool {
	return (k.Start.IsZero() || !now.Before(k.Start)) && (k.End.IsZero() || now.Before(k.End))
}

// graphAddKey serves POST /applications/{id}/addKey: 200 with the new
// keyCredential (its key null, as on every read).
func (s *Server) graphAddKey(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		KeyCredential *keyCredentialBody `json:"keyCredential"`
		Proof         string             `json:"proof"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	if b.KeyCredential == nil || b.KeyCredential.Key == nil || *b.KeyCredential.Key == "" {
		s.writeGraphFail(w, r, graphFailInvalid("keyCredential", "Application"))
		return
	}
	var obj map[string]any
	s.mu.Lock()
	_, a, fail := s.graphAppToChangeLocked(c, r.PathValue("id"))
	if fail == nil {
		fail = s.checkProofLocked(a, b.Proof)
	}
	if fail == nil {
		var added []*KeyCredential
		if added, fail = keyCredentials([]keyCredentialBody{*b.KeyCredential}, nil); fail == nil {
			k := added[0]
			if slices.ContainsFunc(a.Certificates, func(o *KeyCredential) bool { return strings.EqualFold(o.KeyID, k.KeyID) }) {
				fail = graphFailInvalid("keyId", "KeyCredential")
			} else {
				s.credentialAddedLocked(&k.ReadyAt)
				a.Certificates = append(a.Certificates, k)
				obj = graphKeyJSON(k)
			}
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	obj["@odata.context"] = s.graphContext("microsoft.graph.keyCredential")
	s.writeGraphJSON(w, r, http.StatusOK, obj)
}

// graphRemoveKey serves POST /applications/{id}/removeKey: 204.
func (s *Server) graphRemoveKey(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		KeyID string `json:"keyId"`
		Proof string `json:"proof"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	s.mu.Lock()
	_, a, fail := s.graphAppToChangeLocked(c, r.PathValue("id"))
	if fail == nil {
		fail = s.checkProofLocked(a, b.Proof)
	}
	if fail == nil {
		i := slices.IndexFunc(a.Certificates, func(k *KeyCredential) bool { return strings.EqualFold(k.KeyID, b.KeyID) })
		if i < 0 {
			fail = graphFailInvalid("keyId", "KeyCredential")
		} else {
			a.Certificates = slices.Delete(a.Certificates, i, i+1)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

// credentialAddedLocked sets when a credential added now starts working
// at the token endpoint: after World.CredentialDelay, as Entra replicates
// it.
func (s *Server) credentialAddedLocked(readyAt *time.Time) {
	if d := s.world.CredentialDelay; d > 0 {
		*readyAt = s.clock.Now().Add(d)
	}
}

// graphKeyJSON renders a keyCredential: key null, customKeyIdentifier the
// certificate's SHA-1 thumbprint, as Graph returns for certificates
// (https://learn.microsoft.com/graph/api/resources/keycredential).
func graphKeyJSON(k *KeyCredential) map[string]any {
	var ski, name any
	if k.Certificate != nil {
		sum := sha1.Sum(k.Certificate.Raw)
		ski = base64.StdEncoding.EncodeToString(sum[:])
		name = "CN=" + k.Certificate.Subject.CommonName
	}
	if k.DisplayName != "" {
		name = k.DisplayName
	}
	return map[string]any{
		"customKeyIdentifier": ski, "displayName": name, "key": nil, "keyId": k.KeyID,
		"startDateTime": graphTime(k.Start), "endDateTime": graphTime(k.End),
		"type": "AsymmetricX509Cert", "usage": "Verify",
	}
}

// graphKeysJSON renders an application's keyCredentials.
func graphKeysJSON(ks []*KeyCredential) []map[string]any {
	out := make([]map[string]any, 0, len(ks))
	for _, k := range ks {
		out = append(out, graphKeyJSON(k))
	}
	return out
}
