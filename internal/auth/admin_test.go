package auth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/kpi-analytics/kpi/internal/auth"
)

// adminClient calls the admin API with one key.
type adminClient struct {
	t    *testing.T
	base string
	key  string
}

func (c adminClient) do(method, path string, in any, out any) int {
	c.t.Helper()
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			c.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func (c adminClient) create(req auth.CreateRequest) (int, auth.Created) {
	c.t.Helper()
	var out auth.Created
	return c.do(http.MethodPost, "/v1/admin/keys", req, &out), out
}

func (c adminClient) list() []auth.Key {
	c.t.Helper()
	var out auth.KeyList
	if code := c.do(http.MethodGet, "/v1/admin/keys", nil, &out); code != http.StatusOK {
		c.t.Fatalf("list: status %d", code)
	}
	return out.Keys
}

// ids lists the keys' ids, sorted, for comparing sets of keys.
func ids(keys []auth.Key) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func sorted(ids ...string) string {
	slices.Sort(ids)
	return strings.Join(ids, " ")
}

func TestAdminAPIRoundTrip(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	root, rootKey := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	srv := httptest.NewServer(auth.NewAdminAPI(s, auth.NewGuard(s, nil), nil))
	t.Cleanup(srv.Close)
	op := adminClient{t, srv.URL, rootKey}

	code, made := op.create(auth.CreateRequest{Tenant: "acme", Role: auth.RoleRead, Name: "bi"})
	if code != http.StatusCreated {
		t.Fatalf("create: status %d", code)
	}
	if made.Tenant != "acme" || made.Role != auth.RoleRead || made.CreatedBy != root.ID {
		t.Errorf("created %+v, want tenant acme, role read, created by %s", made.Key, root.ID)
	}
	if k, ok := s.Authenticate(made.Secret); !ok || k.ID != made.ID {
		t.Fatalf("the returned key does not authenticate as %s", made.ID)
	}
	raw, _ := json.Marshal(op.list())
	if bytes.Contains(raw, []byte(strings.TrimPrefix(made.Secret, auth.SecretPrefix))) {
		t.Fatalf("list shows the key: %s", raw)
	}
	if got, want := ids(op.list()), sorted(root.ID, made.ID); got != want {
		t.Errorf("listed ids = %q, want %q", got, want)
	}

	if code := op.do(http.MethodDelete, "/v1/admin/keys/"+made.ID, nil, nil); code != 204 {
		t.Fatalf("revoke: status %d, want 204", code)
	}
	if got, want := ids(op.list()), root.ID; got != want {
		t.Errorf("listed ids after revoke = %q, want %q", got, want)
	}
	if code := op.do(http.MethodDelete, "/v1/admin/keys/"+made.ID, nil, nil); code != 404 {
		t.Errorf("second revoke: status %d, want 404", code)
	}
	if code := op.do(http.MethodDelete, "/v1/admin/keys/"+root.ID, nil, nil); code != 409 {
		t.Errorf("revoking the last operator admin: status %d, want 409", code)
	}
}

func TestAdminAPIConfinesTenantAdmins(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	other, _ := mustCreate(t, s, auth.Spec{Tenant: "beta", Role: auth.RoleRead})
	acmeAdmin, acmeAdminKey := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleAdmin})
	_, readKey := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleRead})
	srv := httptest.NewServer(auth.NewAdminAPI(s, auth.NewGuard(s, nil), nil))
	t.Cleanup(srv.Close)
	acme := adminClient{t, srv.URL, acmeAdminKey}

	code, own := acme.create(auth.CreateRequest{Role: auth.RoleIngest})
	if code != http.StatusCreated || own.Tenant != "acme" {
		t.Fatalf("create without tenant: %d %+v, want 201 for tenant acme", code, own.Key)
	}
	for _, tc := range []struct {
		name string
		req  auth.CreateRequest
		want int
	}{
		{"another tenant", auth.CreateRequest{Tenant: "beta", Role: auth.RoleRead}, 403},
		{"all tenants", auth.CreateRequest{Tenant: auth.AllTenants, Role: auth.RoleRead}, 403},
		{"unknown role", auth.CreateRequest{Tenant: "acme", Role: "owner"}, 400},
		{"bad tenant", auth.CreateRequest{Tenant: "a b", Role: auth.RoleRead}, 400},
	} {
		if code, _ := acme.create(tc.req); code != tc.want {
			t.Errorf("create %s: status %d, want %d", tc.name, code, tc.want)
		}
	}
	if got, want := ids(acme.list()), sorted(acmeAdmin.ID, own.ID); got != want {
		t.Errorf("tenant admin lists %q, want only acme's keys %q", got, want)
	}
	if code := acme.do(http.MethodDelete, "/v1/admin/keys/"+other.ID, nil, nil); code != 404 {
		t.Errorf("revoking another tenant's key: status %d, want 404", code)
	}
	if _, ok := s.Get(other.ID); !ok {
		t.Error("another tenant's key was revoked")
	}
	reader := adminClient{t, srv.URL, readKey}
	if code := reader.do(http.MethodGet, "/v1/admin/keys", nil, nil); code != 403 {
		t.Errorf("list with a read key: status %d, want 403", code)
	}
	if code := acme.do(http.MethodPost, "/v1/admin/keys", map[string]string{"tenant": "acme",
		"role": "read", "scope": "x"}, nil); code != 400 {
		t.Errorf("create with an unknown field: status %d, want 400", code)
	}
}
