package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/apptest"
	"github.com/kpi-analytics/kpi/internal/auth"
	"github.com/kpi-analytics/kpi/internal/broker"
)

// caller sends requests to a harness with one API key ("" for none).
type caller struct {
	t   *testing.T
	h   *apptest.Harness
	key string
}

func (c caller) do(method, path, body string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.h.Base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

// newKey makes a key through the admin API.
func (c caller) newKey(tenant string, role auth.Role) (auth.Key, caller) {
	c.t.Helper()
	req, _ := json.Marshal(auth.CreateRequest{Tenant: tenant, Role: role})
	resp, b := c.do(http.MethodPost, "/v1/admin/keys", string(req))
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("create %s key for %s: %s: %s", role, tenant, resp.Status, b)
	}
	var made auth.Created
	if err := json.Unmarshal(b, &made); err != nil {
		c.t.Fatal(err)
	}
	return made.Key, caller{c.t, c.h, made.Secret}
}

// rows asks for clicks over May 2024 and returns the tenant of each row.
func (c caller) rows(query string) (int, []string) {
	c.t.Helper()
	resp, b := c.do(http.MethodGet, "/v1/kpis/clicks?from=2024-05-01&to=2024-06-01&"+query, "")
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	var ans apptest.Answer
	if err := json.Unmarshal(b, &ans); err != nil {
		c.t.Fatal(err)
	}
	var tenants []string
	for _, r := range ans.Rows {
		tenants = append(tenants, r.Group["tenant"]+"="+r.Exact)
	}
	return resp.StatusCode, tenants
}

func click(tenant string) string {
	t := ""
	if tenant != "" {
		t = `"tenant":"` + tenant + `",`
	}
	return `{"type":"click",` + t + `"occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`
}

func TestAccessControlAnswers(t *testing.T) {
	h := apptest.Start(t, apptest.WithAuth)
	admin := caller{t, h, h.AdminKey()}
	_, opRead := admin.newKey(auth.AllTenants, auth.RoleRead)
	_, acmeRead := admin.newKey("acme", auth.RoleRead)
	_, acmeIngest := admin.newKey("acme", auth.RoleIngest)
	none := caller{t, h, ""}
	bogus := caller{t, h, auth.SecretPrefix + strings.Repeat("x", 43)}
	event := apptest.NDJSON(click("acme"))

	for _, tc := range []struct {
		name         string
		c            caller
		method, path string
		want         int
	}{
		{"health is open", none, "GET", "/healthz", 200},
		{"readiness is open", none, "GET", "/readyz", 200},
		{"ingest without a key", none, "POST", "/v1/events", 401},
		{"query without a key", none, "GET", "/v1/kpis", 401},
		{"metrics without a key", none, "GET", "/metrics", 401},
		{"admin without a key", none, "GET", "/v1/admin/keys", 401},
		{"ingest with an unknown key", bogus, "POST", "/v1/events", 401},
		{"ingest with a read key", acmeRead, "POST", "/v1/events", 403},
		{"query with an ingest key", acmeIngest, "GET", "/v1/kpis", 403},
		{"admin with a read key", opRead, "GET", "/v1/admin/keys", 403},
		{"metrics with a tenant's key", acmeRead, "GET", "/metrics", 403},
		{"metrics with an operator read key", opRead, "GET", "/metrics", 200},
		{"ingest with an ingest key", acmeIngest, "POST", "/v1/events", 202},
		{"query with a read key", acmeRead, "GET", "/v1/kpis", 200},
		{"admin with the admin key", admin, "GET", "/v1/admin/keys", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.t = t
			resp, body := tc.c.do(tc.method, tc.path, event)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if got, want := strings.HasPrefix(challenge, "Bearer"), tc.want == 401; got != want {
				t.Errorf("WWW-Authenticate = %q on %d", challenge, tc.want)
			}
			if tc.want == 401 || tc.want == 403 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
					t.Errorf("body = %s, want a JSON error", body)
				}
			}
			if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
				t.Errorf("HSTS %q over plain HTTP", hsts)
			}
		})
	}
}

func TestTenantKeyConfinedToItsTenant(t *testing.T) {
	h := apptest.Start(t, apptest.WithAuth)
	admin := caller{t, h, h.AdminKey()}
	_, acme := admin.newKey("acme", auth.RoleAdmin) // ingest and read
	_, beta := admin.newKey("beta", auth.RoleRead)

	resp, b := acme.do(http.MethodPost, "/v1/events",
		apptest.NDJSON(click(""), click("acme"), click("beta")))
	var out struct {
		Accepted int
		Rejected []struct {
			Index         int
			Field, Reason string
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 202 || out.Accepted != 2 || len(out.Rejected) != 1 {
		t.Fatalf("acme posting acme, acme and beta events: %s: %s", resp.Status, b)
	}
	if r := out.Rejected[0]; r.Index != 2 || r.Field != "tenant" ||
		!strings.Contains(r.Reason, `scoped to tenant "acme"`) {
		t.Errorf("rejected %+v, want index 2, field tenant, a reason naming acme", r)
	}
	if resp, b := acme.do(http.MethodPost, "/v1/events", click("beta")); resp.StatusCode != 400 {
		t.Errorf("acme posting only a beta event: %s: %s, want 400", resp.Status, b)
	}
	if got := storedFor(t, h, "beta"); got != 0 {
		t.Fatalf("%d messages stored for beta, want 0", got)
	}
	// The operator writes for beta, so that there is something not to see.
	if resp, b := admin.do(http.MethodPost, "/v1/events", click("beta")); resp.StatusCode != 202 {
		t.Fatalf("operator posting for beta: %s: %s", resp.Status, b)
	}
	h.Idle()

	for _, tc := range []struct {
		name  string
		c     caller
		query string
		want  int
		rows  string
	}{
		{"operator sees both", admin, "group_by=tenant", 200, "acme=2 beta=1"},
		{"acme grouped by tenant", acme, "group_by=tenant", 200, "acme=2"},
		{"acme ungrouped", acme, "", 200, "=2"},
		{"acme filtering itself", acme, "tenant=acme", 200, "=2"},
		{"acme filtering beta", acme, "tenant=beta", 403, ""},
		{"beta grouped by tenant", beta, "group_by=tenant", 200, "beta=1"},
		{"beta filtering acme", beta, "tenant=acme&group_by=campaign", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.t = t
			code, rows := tc.c.rows(tc.query)
			if code != tc.want || strings.Join(rows, " ") != tc.rows {
				t.Errorf("got %d %q, want %d %q", code, rows, tc.want, tc.rows)
			}
		})
	}
}

// storedFor counts the event stream's messages for a tenant.
func storedFor(t *testing.T, h *apptest.Harness, tenant string) uint64 {
	t.Helper()
	ctx := context.Background()
	s, err := h.App.JetStream().Stream(ctx, broker.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(broker.EventSubject(tenant, ">")))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

func TestRevokedKeyIsRefusedAtOnce(t *testing.T) {
	h := apptest.Start(t, apptest.WithAuth)
	admin := caller{t, h, h.AdminKey()}
	k, ingest := admin.newKey("acme", auth.RoleIngest)
	if resp, b := ingest.do(http.MethodPost, "/v1/events", click("acme")); resp.StatusCode != 202 {
		t.Fatalf("before revoking: %s: %s", resp.Status, b)
	}
	if resp, b := admin.do(http.MethodDelete, "/v1/admin/keys/"+k.ID, ""); resp.StatusCode != 204 {
		t.Fatalf("revoke: %s: %s", resp.Status, b)
	}
	if resp, b := ingest.do(http.MethodPost, "/v1/events", click("acme")); resp.StatusCode != 401 {
		t.Errorf("after revoking: %s: %s, want 401", resp.Status, b)
	}
}

func TestFirstStartWritesAdminKeyOnce(t *testing.T) {
	dir := t.TempDir()
	inDir := func(c *app.Config) { c.DataDir = dir }
	h := apptest.Start(t, apptest.WithAuth, inDir)
	path := filepath.Join(dir, auth.AdminKeyFile)
	if got := h.App.AdminKeyFile(); got != path {
		t.Fatalf("AdminKeyFile = %q, want %q", got, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("%s mode = %v, want %v", path, got, want)
	}
	key := h.AdminKey()
	h.Stop()

	h = apptest.Start(t, apptest.WithAuth, inDir)
	if got := h.App.AdminKeyFile(); got != "" {
		t.Errorf("second start wrote %s again", got)
	}
	if got := h.AdminKey(); got != key {
		t.Error("second start replaced the admin key file")
	}
	if resp, b := (caller{t, h, key}).do("GET", "/v1/admin/keys", ""); resp.StatusCode != 200 {
		t.Errorf("first start's key after a restart: %s: %s", resp.Status, b)
	}
}

func TestNoAuthOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		auth bool
		ok   bool
	}{
		{"127.0.0.1:8080", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{"", false, true}, // the default, 127.0.0.1:8080
		{"0.0.0.0:8080", false, false},
		{":8080", false, false},
		{"10.1.2.3:8080", false, false},
		{"kpi.example.com:443", false, false},
		{"0.0.0.0:8080", true, true},
	} {
		cfg := app.Config{DataDir: "data", Database: "kpi", Ingest: true, Addr: tc.addr,
			Auth: tc.auth}
		err := cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("Validate(addr %q, auth %v) = %v, want ok %v", tc.addr, tc.auth, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "loopback") {
			t.Errorf("error %q does not say why", err)
		}
	}
}

func TestServesTLS(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t)
	h := apptest.Start(t, apptest.WithAuth, func(c *app.Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
	})
	if !strings.HasPrefix(h.Base, "https://") {
		t.Fatalf("Base = %q, want https", h.Base)
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots}}}
	req, _ := http.NewRequest(http.MethodGet, h.Base+"/v1/kpis", nil)
	req.Header.Set("Authorization", "Bearer "+h.AdminKey())
	resp, err := trusting.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("GET /v1/kpis over TLS: %s, TLS %+v", resp.Status, resp.TLS)
	}
	if got, want := resp.Header.Get("Strict-Transport-Security"), "max-age=31536000"; got != want {
		t.Errorf("HSTS = %q, want %q", got, want)
	}

	if _, err := http.Get(h.Base + "/healthz"); err == nil {
		t.Error("a client that does not trust the certificate connected")
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(h.Base + "/healthz"); err == nil {
		t.Error("a TLS 1.1 client connected")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a
// pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject:   pkix.Name{CommonName: "kpi test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", pkcs8)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}),
		0o600); err != nil {
		t.Fatal(err)
	}
}

// TestGoalsNeedAnAdminKey: a read key lists goals but cannot change them; a
// tenant's admin key sets its own tenant's goals only.
func TestGoalsNeedAnAdminKey(t *testing.T) {
	h := apptest.Start(t, apptest.WithAuth)
	admin := caller{t, h, h.AdminKey()}
	_, acmeRead := admin.newKey("acme", auth.RoleRead)
	_, acmeAdmin := admin.newKey("acme", auth.RoleAdmin)
	goal := func(tenant string) string {
		return `{"kpi":"clicks","tenant":"` + tenant +
			`","from":"2024-05-01","to":"2024-06-01","target":10}`
	}
	for _, tc := range []struct {
		name         string
		c            caller
		method, body string
		want         int
	}{
		{"set with a read key", acmeRead, "PUT", goal("acme"), 403},
		{"set with the tenant's admin key", acmeAdmin, "PUT", goal("acme"), 200},
		{"set another tenant's", acmeAdmin, "PUT", goal("beta"), 403},
		{"set the agency's", acmeAdmin, "PUT", goal("*"), 403},
		{"list with a read key", acmeRead, "GET", "", 200},
		{"delete with a read key", acmeRead, "DELETE", goal("acme"), 403},
		{"delete with the tenant's admin key", acmeAdmin, "DELETE", goal("acme"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.t = t
			if resp, body := tc.c.do(tc.method, "/v1/goals", tc.body); resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		})
	}
}
