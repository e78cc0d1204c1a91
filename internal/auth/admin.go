package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// maxAdminBody bounds a key request's body.
const maxAdminBody = 64 << 10

// CreateRequest is the body of POST /v1/admin/keys.
type CreateRequest struct {
	// Tenant is a tenant name or "*" for all tenants; an admin key scoped to
	// a tenant may leave it out to mean its own.
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
	Name   string `json:"name,omitempty"`
}

// Created answers POST /v1/admin/keys: the new key's description and, in
// Secret, the key itself, which no later answer repeats.
type Created struct {
	Key
	Secret string `json:"key"`
}

// KeyList answers GET /v1/admin/keys.
type KeyList struct {
	Keys []Key `json:"keys"`
}

// AdminAPI serves key management to admin keys, behind a Guard:
//
//	POST   /v1/admin/keys        create a key; the answer shows it this once
//	GET    /v1/admin/keys        list keys (their descriptions, never the keys)
//	DELETE /v1/admin/keys/{id}   revoke a key
//
// An admin key for all tenants manages every key; an admin key scoped to a
// tenant manages that tenant's keys only and sees no others.
type AdminAPI struct {
	store *Store
	log   *slog.Logger
	mux   *http.ServeMux
}

// NewAdminAPI returns the key management API over store, guarded by g.
func NewAdminAPI(store *Store, g *Guard, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &AdminAPI{store: store, log: log.With("component", "auth"), mux: http.NewServeMux()}
	a.mux.HandleFunc("POST /v1/admin/keys", a.create)
	a.mux.HandleFunc("GET /v1/admin/keys", a.list)
	a.mux.HandleFunc("DELETE /v1/admin/keys/{id}", a.revoke)
	// The handlers read the caller's key from the context and confine
	// themselves to its tenant.
	self := func(ctx context.Context, _ string) context.Context { return ctx }
	return g.Require(RoleAdmin, self, a.mux)
}

func (a *AdminAPI) create(w http.ResponseWriter, r *http.Request) {
	caller, _ := FromContext(r.Context())
	var req CreateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if req.Tenant == "" && !caller.AllTenants() {
		req.Tenant = caller.Tenant
	}
	spec := Spec{Tenant: req.Tenant, Role: req.Role, Name: req.Name, CreatedBy: caller.ID}
	if err := spec.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !caller.Covers(spec.Tenant) {
		forbidden(w, "API key "+caller.ID+" is scoped to tenant "+caller.Tenant+
			"; it cannot make keys for "+spec.Tenant)
		return
	}
	k, secret, err := a.store.Create(r.Context(), spec)
	if err != nil {
		a.log.ErrorContext(r.Context(), "create api key", "error", err)
		writeError(w, http.StatusServiceUnavailable, "key store unavailable")
		return
	}
	a.log.InfoContext(r.Context(), "api key created", "key_id", k.ID, "tenant", k.Tenant,
		"role", k.Role, "by", caller.ID)
	writeJSON(w, http.StatusCreated, Created{Key: k, Secret: secret})
}

func (a *AdminAPI) list(w http.ResponseWriter, r *http.Request) {
	caller, _ := FromContext(r.Context())
	out := KeyList{Keys: []Key{}}
	for _, k := range a.store.List() {
		if caller.Covers(k.Tenant) {
			out.Keys = append(out.Keys, k)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *AdminAPI) revoke(w http.ResponseWriter, r *http.Request) {
	caller, _ := FromContext(r.Context())
	id := r.PathValue("id")
	// Another tenant's key is answered like a missing one, so that a
	// tenant's admin cannot learn which ids exist.
	if k, ok := a.store.Get(id); !ok || !caller.Covers(k.Tenant) {
		writeError(w, http.StatusNotFound, "no key with id "+id)
		return
	}
	err := a.store.Revoke(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "no key with id "+id)
		return
	case errors.Is(err, ErrLastAdmin):
		writeError(w, http.StatusConflict, err.Error()+"; create another one first")
		return
	case err != nil:
		a.log.ErrorContext(r.Context(), "revoke api key", "key_id", id, "error", err)
		writeError(w, http.StatusServiceUnavailable, "key store unavailable")
		return
	}
	a.log.InfoContext(r.Context(), "api key revoked", "key_id", id, "by", caller.ID)
	w.WriteHeader(http.StatusNoContent)
}
