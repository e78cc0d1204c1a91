// Package auth is kpi's access control: API keys scoped to a tenant (or to
// every tenant, for an operator) and to a role, kept hashed in a JetStream
// key-value bucket that every kpi process of a deployment shares, cached in
// memory and kept current by a watcher, and checked by HTTP middleware.
//
// A key is shown once, when it is created; kpi stores only its SHA-256 and a
// short random id that listings and logs use instead of the key.
package auth

import (
	"errors"
	"fmt"
	"time"
)

// Role is what a key may do. RoleAdmin implies the others.
type Role string

// Roles a key can have.
const (
	// RoleIngest may send events (POST /v1/events).
	RoleIngest Role = "ingest"
	// RoleRead may query KPIs (GET /v1/kpis) and, for every tenant, read /metrics.
	RoleRead Role = "read"
	// RoleAdmin may do everything, including managing keys.
	RoleAdmin Role = "admin"
)

// ParseRole reads a role name; it returns an error wrapping [ErrInvalidSpec]
// for anything else.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleIngest, RoleRead, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("%w: role %q: want ingest, read or admin", ErrInvalidSpec, s)
}

// Allows reports whether a key of role r may act in role need.
func (r Role) Allows(need Role) bool { return r == need || r == RoleAdmin }

// AllTenants is the Tenant of an operator key, valid for every tenant. It
// cannot clash with a tenant name, whose alphabet has no '*'.
const AllTenants = "*"

// Key describes an API key: everything about it except the secret.
type Key struct {
	// ID is short, random and not secret; listings, logs and revocation use it.
	ID string `json:"id"`
	// Name is a free label, such as who holds the key.
	Name string `json:"name,omitempty"`
	// Tenant is the only tenant the key may touch, or [AllTenants].
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
	// CreatedAt is when the key was made; CreatedBy is the id of the key
	// that made it, empty for a key made by the server or `kpi keys bootstrap`.
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// AllTenants reports whether the key is an operator key.
func (k Key) AllTenants() bool { return k.Tenant == AllTenants }

// Covers reports whether the key may act for tenant.
func (k Key) Covers(tenant string) bool { return k.AllTenants() || k.Tenant == tenant }

// Spec asks for a new key.
type Spec struct {
	// Tenant is a tenant name or [AllTenants].
	Tenant string
	Role   Role
	Name   string
	// CreatedBy is the id of the key asking, if any.
	CreatedBy string
}

// MaxNameLen bounds Spec.Name, in bytes.
const MaxNameLen = 128

// Validate reports a Spec that cannot become a key, wrapping [ErrInvalidSpec].
func (s Spec) Validate() error {
	if s.Tenant != AllTenants && !validTenant(s.Tenant) {
		return fmt.Errorf("%w: tenant %q: want a tenant name or %q for all tenants",
			ErrInvalidSpec, s.Tenant, AllTenants)
	}
	if _, err := ParseRole(string(s.Role)); err != nil {
		return err
	}
	if len(s.Name) > MaxNameLen {
		return fmt.Errorf("%w: name: longer than %d bytes", ErrInvalidSpec, MaxNameLen)
	}
	for _, c := range s.Name {
		if c < ' ' || c == 0x7f {
			return fmt.Errorf("%w: name: control characters are not allowed", ErrInvalidSpec)
		}
	}
	return nil
}

// validTenant applies the tenant alphabet of events.Event.Tenant: an ASCII
// letter or digit, then up to 63 letters, digits, '_' or '-'.
func validTenant(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// Errors of the key store; callers branch on them with [errors.Is].
var (
	// ErrInvalidSpec is wrapped by errors about a malformed key request.
	ErrInvalidSpec = errors.New("auth: invalid key request")
	// ErrNotFound means no live key has the id.
	ErrNotFound = errors.New("auth: no such key")
	// ErrLastAdmin refuses to revoke the last admin key for all tenants,
	// which would leave nobody able to manage keys.
	ErrLastAdmin = errors.New("auth: the last admin key for all tenants cannot be revoked")
)
