package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Authenticator finds the live key a secret belongs to; [*Store] is one.
type Authenticator interface {
	Authenticate(secret string) (Key, bool)
}

// Scope hands the tenant of a tenant-scoped key to the handler behind a
// guard, which must then confine the request to that tenant.
// ingest.WithTenant and queries.WithTenant are Scopes.
type Scope func(ctx context.Context, tenant string) context.Context

// Guard checks the API key of each request in front of a handler.
type Guard struct {
	keys Authenticator
	log  *slog.Logger
}

// NewGuard returns a Guard that looks keys up in keys.
func NewGuard(keys Authenticator, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Guard{keys: keys, log: log.With("component", "auth")}
}

// Require lets through to next only requests that carry, as
// `Authorization: Bearer <key>`, a live key whose role allows role; the key
// is then in the request's context (see [FromContext]). The answer is 401
// with `WWW-Authenticate: Bearer` when the key is missing or unknown, and 403
// when its role falls short.
//
// A tenant-scoped key also goes through scope, which confines the handler
// to the key's tenant. With a nil scope the handler cannot be confined, so
// it is for keys for all tenants only and a tenant-scoped key gets 403:
// a route that forgets its scope fails closed.
func (g *Guard) Require(role Role, scope Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		if !ok {
			unauthorized(w, "", "send an API key as Authorization: Bearer <key>")
			return
		}
		k, ok := g.keys.Authenticate(secret)
		if !ok {
			g.log.DebugContext(r.Context(), "unknown api key", "remote_addr", r.RemoteAddr,
				"path", r.URL.Path)
			unauthorized(w, "invalid_token", "invalid or revoked API key")
			return
		}
		if !k.Role.Allows(role) {
			forbidden(w, fmt.Sprintf("API key %s has role %s; this needs %s", k.ID, k.Role, role))
			return
		}
		ctx := context.WithValue(r.Context(), keyContext{}, k)
		if !k.AllTenants() {
			if scope == nil {
				forbidden(w, fmt.Sprintf("API key %s is scoped to tenant %q; this needs a key "+
					"for all tenants", k.ID, k.Tenant))
				return
			}
			ctx = scope(ctx, k.Tenant)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type keyContext struct{}

// FromContext returns the key a guarded request was authenticated with.
func FromContext(ctx context.Context) (Key, bool) {
	k, ok := ctx.Value(keyContext{}).(Key)
	return k, ok
}

// bearer extracts the token of an `Authorization: Bearer` header; the
// scheme is case-insensitive (RFC 7235).
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// unauthorized answers 401 with a challenge; code is an RFC 6750 error code
// or empty when no credentials were sent.
func unauthorized(w http.ResponseWriter, code, msg string) {
	challenge := `Bearer realm="kpi"`
	if code != "" {
		challenge += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, msg)
}

func forbidden(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusForbidden, msg)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
