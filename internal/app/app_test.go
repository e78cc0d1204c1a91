package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kpi-analytics/kpi/internal/apptest"
)

func TestExactCountsAfterResendAndReplay(t *testing.T) {
	h := apptest.Start(t)
	body := apptest.Clicks(1200, "0195f5c3-2b1e")
	status, out := h.Post(body)
	if status != http.StatusAccepted || out["accepted"].(float64) != 1200 {
		t.Fatalf("first post: %d %v", status, out)
	}
	h.Idle()
	if got, want := h.Total("clicks"), "1200"; got != want {
		t.Fatalf("clicks after ingest = %s, want %s", got, want)
	}

	status, out = h.Post(body)
	if status != http.StatusAccepted || out["duplicates"].(float64) != 1200 {
		t.Fatalf("resend: %d duplicates=%v", status, out["duplicates"])
	}
	h.Idle()
	if got, want := h.Total("clicks"), "1200"; got != want {
		t.Fatalf("clicks after resend = %s, want %s", got, want)
	}

	ctx := context.Background()
	if err := h.App.Projector.Replay(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h.Idle()
	if got, want := h.Total("clicks"), "1200"; got != want {
		t.Fatalf("clicks after replay = %s, want %s", got, want)
	}
}

func TestBadEventsRejectedOthersKept(t *testing.T) {
	h := apptest.Start(t)
	status, out := h.Post(apptest.NDJSON(
		`{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`,
		`{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c","count":-1}`,
		`not json`,
		`{"type":"cost","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c","amount":"12.345","currency":"EUR"}`,
	))
	if status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202: %v", status, out)
	}
	rej := out["rejected"].([]any)
	if len(rej) != 2 {
		t.Fatalf("rejected = %v, want 2 entries", rej)
	}
	first := rej[0].(map[string]any)
	if first["index"].(float64) != 1 || first["field"] != "count" {
		t.Errorf("first rejection = %v, want index 1 field count", first)
	}
	h.Idle()
	if got, want := h.Total("clicks"), "1"; got != want {
		t.Errorf("clicks = %s, want %s", got, want)
	}
	if got, want := h.Total("spend"), "12.345"; got != want {
		t.Errorf("spend = %s, want %s", got, want)
	}
}

func TestRatiosWithZeroDenominatorAreNull(t *testing.T) {
	h := apptest.Start(t)
	h.Post(apptest.NDJSON(`{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`))
	h.Idle()
	if got := h.Total("ctr"); got != "null" {
		t.Errorf("ctr with no impressions = %s, want null", got)
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	h := apptest.Start(t)
	h.Post(apptest.Clicks(3, "0195f5c3-2b1e"))
	h.Idle()
	for path, want := range map[string]string{
		"/healthz": "ok", "/readyz": "ready", "/": "<title>kpi</title>", "/app.js": "/v1/kpis",
		"/metrics": `kpi_ingest_events_total{result="accepted"} 3`,
	} {
		resp, err := http.Get(h.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
}
