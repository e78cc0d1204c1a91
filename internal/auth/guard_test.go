package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kpi-analytics/kpi/internal/auth"
)

type tenantSeen struct{}

// scopeRecorder is a Scope that leaves the tenant where echo finds it.
func scopeRecorder(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantSeen{}, tenant)
}

// echo answers 200 with the caller's key id and the scoped tenant.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	k, _ := auth.FromContext(r.Context())
	tenant, _ := r.Context().Value(tenantSeen{}).(string)
	_, _ = w.Write([]byte(k.ID + " " + tenant))
})

func TestGuard(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	opAdmin, opAdminKey := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	opRead, opReadKey := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleRead})
	acmeRead, acmeReadKey := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleRead})
	_, acmeIngestKey := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleIngest})
	acmeAdmin, acmeAdminKey := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleAdmin})
	revoked, revokedKey := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleRead})
	if err := s.Revoke(context.Background(), revoked.ID); err != nil {
		t.Fatal(err)
	}

	g := auth.NewGuard(s, nil)
	scoped := g.Require(auth.RoleRead, scopeRecorder, echo)
	unscoped := g.Require(auth.RoleRead, nil, echo)
	for _, tc := range []struct {
		name      string
		h         http.Handler
		header    string
		want      int
		wantBody  string // for 200: the echo
		challenge string // for 401: the WWW-Authenticate header
	}{
		{"no header", scoped, "", 401, "", `Bearer realm="kpi"`},
		{"basic auth", scoped, "Basic YTpi", 401, "", `Bearer realm="kpi"`},
		{"empty bearer", scoped, "Bearer ", 401, "", `Bearer realm="kpi"`},
		{"unknown key", scoped, "Bearer " + auth.SecretPrefix + strings.Repeat("A", 43), 401, "",
			`Bearer realm="kpi", error="invalid_token"`},
		{"revoked key", scoped, "Bearer " + revokedKey, 401, "",
			`Bearer realm="kpi", error="invalid_token"`},
		{"wrong role", scoped, "Bearer " + acmeIngestKey, 403, "", ""},
		{"tenant key, scoped route", scoped, "Bearer " + acmeReadKey, 200,
			acmeRead.ID + " acme", ""},
		{"lower-case scheme", scoped, "bearer " + acmeReadKey, 200, acmeRead.ID + " acme", ""},
		{"tenant admin implies read", scoped, "Bearer " + acmeAdminKey, 200,
			acmeAdmin.ID + " acme", ""},
		{"operator key is not scoped", scoped, "Bearer " + opReadKey, 200, opRead.ID + " ", ""},
		{"tenant key, unscoped route", unscoped, "Bearer " + acmeReadKey, 403, "", ""},
		{"operator key, unscoped route", unscoped, "Bearer " + opReadKey, 200, opRead.ID + " ", ""},
		{"operator admin, unscoped route", unscoped, "Bearer " + opAdminKey, 200,
			opAdmin.ID + " ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status = %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if tc.want == 200 {
				if got := w.Body.String(); got != tc.wantBody {
					t.Errorf("handler saw %q, want %q", got, tc.wantBody)
				}
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Errorf("body = %s, want JSON with an error", w.Body)
			}
		})
	}
}
