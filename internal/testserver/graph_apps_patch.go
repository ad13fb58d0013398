package testserver

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// PATCH /applications/{id}: which properties may be written, and the
// keyCredentials collection, which a PATCH replaces as a whole.
// https://learn.microsoft.com/graph/api/application-update
// https://learn.microsoft.com/graph/api/resources/keycredential
// Graph refuses a property the type does not declare, and a read-only one
// set to a value other than its own (setting it to its current value is a
// no-op, Graph's convention: https://github.com/microsoft/api-guidelines/pull/397).

// appWritable are the application properties a PATCH may set: the ones
// the fake models (applicationBody, keyCredentials) and the others
// application-update lists, which it accepts and does not keep.
var appWritable = map[string]bool{
	"displayName": true, "signInAudience": true, "requiredResourceAccess": true, "web": true, "publicClient": true,
	"isFallbackPublicClient": true, "keyCredentials": true,
	"api": true, "appRoles": true, "description": true, "disabledByMicrosoftStatus": true, "groupMembershipClaims": true,
	"identifierUris": true, "info": true, "isDeviceOnlyAuthSupported": true, "notes": true, "optionalClaims": true,
	"parentalControlSettings": true, "serviceManagementReference": true, "spa": true, "tags": true,
	"tokenEncryptionKeyId": true, "logo": true, "samlMetadataUrl": true, "defaultRedirectUri": true,
	"servicePrincipalLockConfiguration": true, "authenticationBehaviors": true, "nativeAuthenticationApisEnabled": true,
}

// appReadOnly are the application properties Graph computes or manages
// through actions (addPassword, removePassword).
var appReadOnly = map[string]bool{
	"id": true, "appId": true, "createdDateTime": true, "deletedDateTime": true, "publisherDomain": true,
	"passwordCredentials": true, "certification": true, "applicationTemplateId": true,
}

// checkAppPatch refuses a PATCH body naming a property that is unknown,
// or read-only with another value than cur's.
func checkAppPatch(raw map[string]json.RawMessage, cur map[string]any) *graphFail {
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case strings.HasPrefix(k, "@odata.") || appWritable[k]:
		case appReadOnly[k]:
			var want, got any
			b, _ := json.Marshal(cur[k])
			_ = json.Unmarshal(b, &want)
			_ = json.Unmarshal(raw[k], &got)
			if b2, _ := json.Marshal(got); string(b2) != string(b) {
				return graphFailBadRequest("Request_BadRequest", "Property '"+k+"' is read-only and cannot be set.")
			}
		default:
			return graphFailBadRequest("Request_BadRequest", "Property '"+k+"' does not exist as a declared property or extension property.")
		}
	}
	return nil
}

// keyCredentialBody is one keyCredential of a PATCH.
type keyCredentialBody struct {
	KeyID         string     `json:"keyId"`
	Type          string     `json:"type"`
	Usage         string     `json:"usage"`
	Key           *string    `json:"key"`
	DisplayName   string     `json:"displayName"`
	StartDateTime *time.Time `json:"startDateTime"`
	EndDateTime   *time.Time `json:"endDateTime"`
}

// keyCredentials turns a PATCH's keyCredentials into the app's new
// certificates. An entry with a key carries a base64 DER certificate; an
// entry without one names a certificate the app already has, by keyId,
// and keeps it (reads return key as null, so a client that adds a key
// sends the old ones back this way).
func keyCredentials(in []keyCredentialBody, old []*KeyCredential) ([]*KeyCredential, *graphFail) {
	out := make([]*KeyCredential, 0, len(in))
	for _, k := range in {
		if k.Key == nil || *k.Key == "" {
			i := slices.IndexFunc(old, func(o *KeyCredential) bool { return strings.EqualFold(o.KeyID, k.KeyID) })
			if k.KeyID == "" || i < 0 {
				return nil, graphFailInvalid("key", "KeyCredential")
			}
			out = append(out, old[i])
			continue
		}
		if k.Type != "AsymmetricX509Cert" || k.Usage != "Verify" {
			return nil, graphFailInvalid("type", "KeyCredential")
		}
		der, err := base64.StdEncoding.DecodeString(*k.Key)
		if err != nil {
			return nil, graphFailInvalid("key", "KeyCredential")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, graphFailInvalid("key", "KeyCredential")
		}
		kc := &KeyCredential{KeyID: k.KeyID, DisplayName: k.DisplayName, Certificate: cert, Start: cert.NotBefore, End: cert.NotAfter}
		if kc.KeyID == "" {
			kc.KeyID = newID()
		}
		if k.StartDateTime != nil {
			kc.Start = *k.StartDateTime
		}
		if k.EndDateTime != nil {
			kc.End = *k.EndDateTime
		}
		if !kc.End.After(kc.Start) {
			return nil, graphFailInvalid("endDateTime", "KeyCredential")
		}
		out = append(out, kc)
	}
	return out, nil
}

// readAppPatch reads a PATCH body: the properties it names, decoded.
func (s *Server) readAppPatch(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, applicationBody, bool) {
	var raw map[string]json.RawMessage
	if !s.readGraphBody(w, r, &raw) {
		return nil, applicationBody{}, false
	}
	var b applicationBody
	all, _ := json.Marshal(raw)
	if err := json.Unmarshal(all, &b); err != nil {
		s.writeGraphError(w, r, http.StatusBadRequest, "BadRequest", graphMsgBadJSON)
		return nil, applicationBody{}, false
	}
	return raw, b, true
}
