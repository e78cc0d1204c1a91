package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// SecretPrefix starts every API key, so that a leaked key is recognisable
// to secret scanners and to people.
const SecretPrefix = "kpi_"

const (
	secretBytes = 32
	secretLen   = len(SecretPrefix) + 43 // base64url of 32 bytes, unpadded
	idBytes     = 6
)

// digest is the SHA-256 of a key, the only form in which kpi keeps it.
type digest [sha256.Size]byte

// newSecret returns a fresh API key: the prefix and 32 random bytes in
// unpadded base64url.
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand never fails; it crashes the program instead
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// digestOf hashes a presented key. A key of the wrong shape is never stored,
// so ok is false for it and the caller can skip the lookup.
func digestOf(secret string) (d digest, ok bool) {
	if len(secret) != secretLen || !strings.HasPrefix(secret, SecretPrefix) {
		return d, false
	}
	return sha256.Sum256([]byte(secret)), true
}

// newID returns a short random key id (12 hex digits), independent of the
// key so that it reveals nothing about it.
func newID() string {
	b := make([]byte, idBytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
