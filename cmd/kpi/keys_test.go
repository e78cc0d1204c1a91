package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/auth"
	"github.com/kpi-analytics/kpi/internal/broker"
)

func TestKeysBootstrapWritesAnAdminKeyFile(t *testing.T) {
	ns, err := broker.StartEmbedded(broker.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	out := filepath.Join(t.TempDir(), "admin.key")
	ctx := context.Background()
	if err := keysBootstrap(ctx, []string{"--nats-url", ns.ClientURL(), "--out", out}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("%s mode = %v, want %v", out, got, want)
	}

	nc, js, err := broker.Connect(broker.ClientConfig{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	store, err := auth.Open(octx, auth.Config{JetStream: js})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	secret, err := auth.ReadKeyFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := store.Authenticate(secret); !ok || k.Role != auth.RoleAdmin || !k.AllTenants() {
		t.Errorf("bootstrapped key = %+v, %v; want an admin key for all tenants", k, ok)
	}
}

func TestKeysBootstrapNeedsAnExternalNATS(t *testing.T) {
	t.Setenv("KPI_NATS_URL", "")
	if err := keysBootstrap(context.Background(), nil); err == nil {
		t.Error("bootstrap without --nats-url succeeded")
	}
}

func TestAPIKeyLookupOrder(t *testing.T) {
	withFile := t.TempDir()
	if err := auth.WriteKeyFile(filepath.Join(withFile, auth.AdminKeyFile), "from-file"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, flag, env, dir, want string
	}{
		{"flag first", "from-flag", "from-env", withFile, "from-flag"},
		{"then the environment", "", "from-env", withFile, "from-env"},
		{"then the data dir's admin key", "", "", withFile, "from-file"},
		{"else none", "", "", t.TempDir(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KPI_API_KEY", tc.env)
			f := apiFlags{key: tc.flag, dataDir: tc.dir}
			got, err := f.apiKey()
			if err != nil || got != tc.want {
				t.Errorf("apiKey() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
