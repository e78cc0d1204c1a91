package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/internal/auth"
	"github.com/kpi-analytics/kpi/internal/broker"
)

// startNATS runs an embedded JetStream for the test.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	ns, err := broker.StartEmbedded(broker.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// connect opens a connection of its own, as another kpi process would.
func connect(t *testing.T, ns *server.Server) jetstream.JetStream {
	t.Helper()
	nc, js, err := broker.Connect(broker.ClientConfig{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return js
}

func openStore(t *testing.T, js jetstream.JetStream) *auth.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := auth.Open(ctx, auth.Config{JetStream: js})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustCreate(t *testing.T, s *auth.Store, spec auth.Spec) (auth.Key, string) {
	t.Helper()
	k, secret, err := s.Create(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func TestCreateListRevoke(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	ctx := context.Background()
	admin, _ := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	k, secret := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleRead, Name: "dash"})

	if !strings.HasPrefix(secret, auth.SecretPrefix) || len(secret) != 47 {
		t.Errorf("secret = %q, want %s and 43 base64url characters", secret, auth.SecretPrefix)
	}
	if strings.Contains(secret, k.ID) {
		t.Errorf("secret %q contains the id %q", secret, k.ID)
	}
	got, ok := s.Authenticate(secret)
	if !ok || got != k {
		t.Fatalf("Authenticate = %+v, %v; want %+v, true", got, ok, k)
	}
	if list := s.List(); len(list) != 2 || list[0].ID != admin.ID && list[1].ID != admin.ID {
		t.Fatalf("List = %+v, want the two keys", list)
	}

	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Authenticate(secret); ok {
		t.Error("a revoked key still authenticates")
	}
	if list := s.List(); len(list) != 1 || list[0].ID != admin.ID {
		t.Errorf("List after revoke = %+v, want only the admin key", list)
	}
	if err := s.Revoke(ctx, k.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("second Revoke = %v, want ErrNotFound", err)
	}
}

func TestKeysAreHashedAtRest(t *testing.T) {
	ns := startNATS(t)
	js := connect(t, ns)
	s := openStore(t, js)
	k, secret := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleIngest})

	kv, err := js.KeyValue(context.Background(), auth.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	random := strings.TrimPrefix(secret, auth.SecretPrefix)
	if bytes.Contains(e.Value(), []byte(random)) {
		t.Fatalf("stored record %s holds the key", e.Value())
	}
	sum := sha256.Sum256([]byte(secret))
	if !bytes.Contains(e.Value(), []byte(hex.EncodeToString(sum[:]))) {
		t.Errorf("stored record %s lacks the key's SHA-256", e.Value())
	}
	if st, err := kv.Status(context.Background()); err != nil {
		t.Fatal(err)
	} else if got := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Storage; got !=
		jetstream.FileStorage {
		t.Errorf("bucket storage = %v, want file", got)
	}
}

// waitFor polls cond for up to a second, the promised propagation time.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < time.Second {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: not within 1s", what)
	return 0
}

func TestChangesReachOtherProcessesWithinASecond(t *testing.T) {
	ns := startNATS(t)
	here, there := openStore(t, connect(t, ns)), openStore(t, connect(t, ns))
	mustCreate(t, here, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	k, secret := mustCreate(t, here, auth.Spec{Tenant: "acme", Role: auth.RoleIngest})

	took := waitFor(t, "created key seen by the other process", func() bool {
		_, ok := there.Authenticate(secret)
		return ok
	})
	t.Logf("creation propagated in %s", took)
	if err := here.Revoke(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "revocation seen by the other process", func() bool {
		_, ok := there.Authenticate(secret)
		return !ok
	})
	t.Logf("revocation propagated in %s", took)
}

func TestOpenLoadsExistingKeys(t *testing.T) {
	ns := startNATS(t)
	first := openStore(t, connect(t, ns))
	k, secret := mustCreate(t, first, auth.Spec{Tenant: "acme", Role: auth.RoleRead})
	first.Close()

	// No waiting: Open returns only once every existing key is loaded.
	later := openStore(t, connect(t, ns))
	if got, ok := later.Authenticate(secret); !ok || got.ID != k.ID {
		t.Fatalf("Authenticate right after Open = %+v, %v; want key %s", got, ok, k.ID)
	}
}

func TestLastOperatorAdminCannotBeRevoked(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	ctx := context.Background()
	first, _ := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	tenantAdmin, _ := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleAdmin})
	if err := s.Revoke(ctx, first.ID); !errors.Is(err, auth.ErrLastAdmin) {
		t.Fatalf("Revoke(last operator admin) = %v, want ErrLastAdmin", err)
	}
	if err := s.Revoke(ctx, tenantAdmin.ID); err != nil {
		t.Errorf("Revoke(tenant admin) = %v, want nil", err)
	}
	second, _ := mustCreate(t, s, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin})
	if err := s.Revoke(ctx, first.ID); err != nil {
		t.Errorf("Revoke(first of two operator admins) = %v, want nil", err)
	}
	if !s.HasOperatorAdmin() {
		t.Errorf("HasOperatorAdmin = false with %s live", second.ID)
	}
}

func TestAuthenticateRejectsMalformedAndUnknownKeys(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	_, secret := mustCreate(t, s, auth.Spec{Tenant: "acme", Role: auth.RoleRead})
	for _, tc := range []struct{ name, secret string }{
		{"empty", ""},
		{"no prefix", strings.TrimPrefix(secret, auth.SecretPrefix)},
		{"truncated", secret[:len(secret)-1]},
		{"one character changed", secret[:len(secret)-1] + flip(secret[len(secret)-1])},
		{"padded", secret + " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if k, ok := s.Authenticate(tc.secret); ok {
				t.Errorf("Authenticate(%q) = %+v, true; want false", tc.secret, k)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestCreateRejectsInvalidSpecs(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	for _, tc := range []struct {
		name string
		spec auth.Spec
	}{
		{"no tenant", auth.Spec{Role: auth.RoleRead}},
		{"tenant with a dot", auth.Spec{Tenant: "a.b", Role: auth.RoleRead}},
		{"tenant wildcard", auth.Spec{Tenant: ">", Role: auth.RoleRead}},
		{"tenant too long", auth.Spec{Tenant: strings.Repeat("a", 65), Role: auth.RoleRead}},
		{"no role", auth.Spec{Tenant: "acme"}},
		{"unknown role", auth.Spec{Tenant: "acme", Role: "owner"}},
		{"name with newline", auth.Spec{Tenant: "acme", Role: auth.RoleRead, Name: "a\nb"}},
		{"name too long", auth.Spec{Tenant: "acme", Role: auth.RoleRead,
			Name: strings.Repeat("n", auth.MaxNameLen+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Create(context.Background(), tc.spec)
			if !errors.Is(err, auth.ErrInvalidSpec) {
				t.Errorf("Create(%+v) = %v, want ErrInvalidSpec", tc.spec, err)
			}
		})
	}
	if n := len(s.List()); n != 0 {
		t.Errorf("%d keys stored after invalid requests, want 0", n)
	}
}

func TestRoleAllows(t *testing.T) {
	for _, tc := range []struct {
		have, need auth.Role
		want       bool
	}{
		{auth.RoleAdmin, auth.RoleIngest, true},
		{auth.RoleAdmin, auth.RoleRead, true},
		{auth.RoleAdmin, auth.RoleAdmin, true},
		{auth.RoleRead, auth.RoleRead, true},
		{auth.RoleRead, auth.RoleIngest, false},
		{auth.RoleRead, auth.RoleAdmin, false},
		{auth.RoleIngest, auth.RoleRead, false},
		{auth.RoleIngest, auth.RoleAdmin, false},
	} {
		if got := tc.have.Allows(tc.need); got != tc.want {
			t.Errorf("%s.Allows(%s) = %v, want %v", tc.have, tc.need, got, tc.want)
		}
	}
}
