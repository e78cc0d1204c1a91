// Package apptest runs a whole kpi process (embedded NATS, the embedded
// ClickHouse engine, the HTTP API) inside a test, for integration and
// acceptance tests that drive it over HTTP like a user would.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/auth"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb/chdbtest"
)

// SharedEngine is the one embedded ClickHouse of this test binary; each
// test owns a database in it.
func SharedEngine(t *testing.T) *chdb.Conn { return chdbtest.Shared(t) }

// Harness is a running kpi on the embedded default, reachable over HTTP.
type Harness struct {
	t *testing.T
	// App is the running process; Base its HTTP root; DB its database.
	App    *app.App
	Base   string
	DB     string
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// Start runs kpi for the test; mutate adjusts the configuration first.
// The process stops when the test ends.
func Start(t *testing.T, mutate ...func(*app.Config)) *Harness {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), Database: chdbtest.Database(t), Warehouse: SharedEngine(t),
		Addr: "127.0.0.1:0", Ingest: true, Project: true, Query: true, BatchSize: 500}
	for _, m := range mutate {
		m(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &Harness{t: t, App: a, Base: a.URL(), cancel: cancel,
		done: make(chan error, 1), DB: cfg.Database, dir: cfg.DataDir}
	go func() { h.done <- a.Run(ctx) }()
	t.Cleanup(h.Stop)
	return h
}

// WithAuth turns access control on (Start leaves it off); kpi then makes
// an admin key on first start, which AdminKey returns.
func WithAuth(c *app.Config) { c.Auth = true }

// AdminKey is the admin key kpi wrote to its data directory under WithAuth.
func (h *Harness) AdminKey() string {
	h.t.Helper()
	k, err := auth.ReadKeyFile(filepath.Join(h.dir, auth.AdminKeyFile))
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

// Stop shuts kpi down gracefully; it is safe to call twice.
func (h *Harness) Stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("app run: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Error("app did not stop within 30s")
	}
}

// Post sends a body to /v1/events and decodes the answer.
func (h *Harness) Post(body string) (int, map[string]any) {
	h.t.Helper()
	resp, err := http.Post(h.Base+"/v1/events", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// Idle waits until the projector has written everything published.
func (h *Harness) Idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.App.Projector.WaitIdle(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// KPI fetches one KPI as JSON with the given query string.
func (h *Harness) KPI(name, query string) Answer {
	h.t.Helper()
	resp, err := http.Get(h.Base + "/v1/kpis/" + name + "?" + query)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s?%s: %s: %s", name, query, resp.Status, b)
	}
	var ans Answer
	if err := json.Unmarshal(b, &ans); err != nil {
		h.t.Fatal(err)
	}
	return ans
}

// Answer is the JSON of GET /v1/kpis/{name} as tests read it.
type Answer struct {
	Rows []struct {
		WindowStart time.Time         `json:"window_start"`
		Group       map[string]string `json:"group"`
		Value       *float64          `json:"value"`
		Exact       string            `json:"exact"`
	} `json:"rows"`
}

// Total is the KPI's exact value over the whole range, no grouping.
func (h *Harness) Total(name string) string {
	h.t.Helper()
	ans := h.KPI(name, "from=2000-01-01&to=2030-01-01")
	if len(ans.Rows) != 1 {
		h.t.Fatalf("%s: %d rows, want 1", name, len(ans.Rows))
	}
	if ans.Rows[0].Exact != "" {
		return ans.Rows[0].Exact
	}
	if ans.Rows[0].Value == nil {
		return "null"
	}
	return fmt.Sprint(*ans.Rows[0].Value)
}

// NDJSON joins lines into a request body.
func NDJSON(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// Clicks makes n click events with ids built on idPrefix (13 hex chars
// and a dash, such as "0195f5c3-2b1e"), spread over three days.
func Clicks(n int, idPrefix string) string {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"id":"%s-7000-8000-%012d","type":"click","tenant":"acme",`+
			`"occurred_at":"2024-05-0%dT10:%02d:00Z","campaign":"c%d","channel":"search"}`+"\n",
			idPrefix, i, 1+i%3, i%60, i%2)
	}
	return b.String()
}

// CloseEngine closes the shared embedded engine; call it from TestMain after
// m.Run (see chdbtest.Close).
func CloseEngine() { chdbtest.Close() }
