package testserver

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// A fake's state can outlive its process: SaveState writes the world (its
// tenants, apps, secrets, refresh tokens, consents), the clock's offset,
// the staged rehearsals and the key tokens are signed with; LoadState
// reads them back into a new server, so that credentials minted before a
// restart still work after it. Injected faults, recorded requests and
// Graph's replication bookkeeping are not kept.

// stateVersion is the version of the state file's format.
const stateVersion = 1

type savedState struct {
	Version           int           `json:"version"`
	SavedAt           time.Time     `json:"savedAt"`
	ClockOffset       time.Duration `json:"clockOffset"`
	BootstrapClientID string        `json:"bootstrapClientId"`
	Rehearsing        []Rehearsal   `json:"rehearsing,omitempty"`
	// SigningKey is the token signing key, PKCS #8 DER: access tokens
	// issued before a restart still verify after it.
	SigningKey []byte `json:"signingKey"`
	World      *World `json:"world"`
}

// SaveState writes the server's state as JSON. It holds secrets (client
// secrets, refresh tokens, the signing key) of the fake: write it where
// only its user can read it.
func (s *Server) SaveState(w io.Writer) error {
	key, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		return fmt.Errorf("testserver: saving the signing key: %w", err)
	}
	s.clock.mu.Lock()
	offset := s.clock.offset
	s.clock.mu.Unlock()
	s.mu.Lock()
	st := savedState{Version: stateVersion, SavedAt: time.Now().UTC(), ClockOffset: offset, BootstrapClientID: s.BootstrapClientID,
		SigningKey: key, World: s.world}
	for r, on := range s.rehearsing {
		if on {
			st.Rehearsing = append(st.Rehearsing, r)
		}
	}
	slices.Sort(st.Rehearsing)
	// Encoded under the lock: the world must not change half-written.
	b, err := json.Marshal(st)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("testserver: saving the state: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// LoadState replaces the server's state with one SaveState wrote.
func (s *Server) LoadState(r io.Reader) error {
	var st savedState
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return fmt.Errorf("testserver: the state is not a saved state: %w", err)
	}
	switch {
	case st.Version != stateVersion:
		return fmt.Errorf("testserver: the state has version %d; this server reads version %d", st.Version, stateVersion)
	case st.World == nil || st.World.Partner == nil || st.World.Tenants[st.World.Partner.ID] == nil:
		return errors.New("testserver: the state holds no world with a partner tenant")
	}
	k, err := x509.ParsePKCS8PrivateKey(st.SigningKey)
	key, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok {
		return errors.New("testserver: the state's signing key is not an RSA key")
	}
	der, err := signingCertificate(key)
	if err != nil {
		return err
	}
	w := st.World
	// The partner tenant is saved twice (World.Partner and in Tenants):
	// one object again.
	w.Partner = w.Tenants[w.Partner.ID]
	s.clock.mu.Lock()
	s.clock.offset = st.ClockOffset
	s.clock.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha1.Sum(der)
	s.key, s.kid, s.cert = key, base64.RawURLEncoding.EncodeToString(sum[:]), der
	s.world, s.BootstrapClientID = w, st.BootstrapClientID
	s.rehearsing = map[Rehearsal]bool{}
	for _, r := range st.Rehearsing {
		s.rehearsing[r] = true
	}
	s.limits = nil
	return nil
}

// keyCredentialJSON is a KeyCredential as the state file holds it: the
// certificate as DER.
type keyCredentialJSON struct {
	KeyID       string
	DisplayName string `json:",omitempty"`
	Certificate []byte
	Start, End  time.Time
	ReadyAt     time.Time `json:",omitzero"`
}

// MarshalJSON writes the certificate as DER (base64 in JSON).
func (k KeyCredential) MarshalJSON() ([]byte, error) {
	var der []byte
	if k.Certificate != nil {
		der = k.Certificate.Raw
	}
	return json.Marshal(keyCredentialJSON{KeyID: k.KeyID, DisplayName: k.DisplayName, Certificate: der, Start: k.Start, End: k.End, ReadyAt: k.ReadyAt})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (k *KeyCredential) UnmarshalJSON(b []byte) error {
	var j keyCredentialJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*k = KeyCredential{KeyID: j.KeyID, DisplayName: j.DisplayName, Start: j.Start, End: j.End, ReadyAt: j.ReadyAt}
	if len(j.Certificate) > 0 {
		c, err := x509.ParseCertificate(j.Certificate)
		if err != nil {
			return fmt.Errorf("testserver: key credential %s: %w", j.KeyID, err)
		}
		k.Certificate = c
	}
	return nil
}
