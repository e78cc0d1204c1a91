package auth_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kpi-analytics/kpi/internal/auth"
)

func TestEnsureAdminKeyWritesAPrivateFileOnce(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), auth.AdminKeyFile)

	created, err := auth.EnsureAdminKey(ctx, s, path)
	if err != nil || !created {
		t.Fatalf("first EnsureAdminKey = %v, %v; want true, nil", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("key file mode = %v, want %v", got, want)
	}
	secret, err := auth.ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := s.Authenticate(secret)
	if !ok || k.Role != auth.RoleAdmin || !k.AllTenants() {
		t.Fatalf("key in file = %+v, %v; want an admin key for all tenants", k, ok)
	}

	created, err = auth.EnsureAdminKey(ctx, s, path)
	if err != nil || created {
		t.Errorf("second EnsureAdminKey = %v, %v; want false, nil", created, err)
	}
	if n := len(s.List()); n != 1 {
		t.Errorf("%d keys after two calls, want 1", n)
	}
}

func TestEnsureAdminKeyLeavesNoKeyWhenTheFileFails(t *testing.T) {
	s := openStore(t, connect(t, startNATS(t)))
	path := filepath.Join(t.TempDir(), "missing-dir", auth.AdminKeyFile)
	if _, err := auth.EnsureAdminKey(context.Background(), s, path); err == nil {
		t.Fatal("EnsureAdminKey into a missing directory succeeded")
	}
	if n := len(s.List()); n != 0 {
		t.Errorf("%d keys left behind, want 0", n)
	}
}

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"127.9.8.7:80", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LocalHost:0", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"10.0.0.5:8080", false},
		{"128.0.0.1:8080", false},
		{"example.com:8080", false},
		{"localhost.example.com:8080", false},
		{"127.0.0.1", false}, // no port: not a listen address
	} {
		if got := auth.IsLoopback(tc.addr); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
