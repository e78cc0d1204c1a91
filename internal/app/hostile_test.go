package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kpi-analytics/kpi/internal/apptest"
	"github.com/kpi-analytics/kpi/internal/broker"
)

const okClick = `{"type":"click","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z","campaign":"c"}`

// with returns okClick with one member replaced or added.
func with(member string) string {
	return strings.Replace(okClick, `"campaign":"c"`, member, 1)
}

// TestHostileEventsAreRefusedAndStoreNothing sends broken and hostile events
// one request each: every one gets a 4xx naming the field at fault, and the
// stream holds nothing afterwards.
func TestHostileEventsAreRefusedAndStoreNothing(t *testing.T) {
	h := apptest.Start(t)
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"invalid json", `{"type":"click",`, 400, ""},
		{"invalid utf-8", with("\"campaign\":\"\xff\xfe\""), 400, "campaign"},
		{"wrong type for count", with(`"campaign":"c","count":"3"`), 400, "count"},
		{"wrong type for tenant", strings.Replace(okClick, `"acme"`, `42`, 1), 400, "tenant"},
		{"NaN count", with(`"campaign":"c","count":NaN`), 400, "count"},
		{"infinite amount", `{"type":"cost","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z",` +
			`"campaign":"c","amount":Infinity,"currency":"EUR"}`, 400, "amount"},
		{"huge count", with(`"campaign":"c","count":1e400`), 400, "count"},
		{"huge integer", with(`"campaign":"c","count":99999999999999999999999`), 400, "count"},
		{"negative count", with(`"campaign":"c","count":-5`), 400, "count"},
		{"zero count", with(`"campaign":"c","count":0`), 400, "count"},
		{"unknown type", strings.Replace(okClick, `"click"`, `"hover"`, 1), 400, "type"},
		{"missing tenant", strings.Replace(okClick, `"tenant":"acme",`, ``, 1), 400, "tenant"},
		{"tenant with subject wildcard", strings.Replace(okClick, `"acme"`, `"a.>"`, 1), 400, "tenant"},
		{"far past", strings.Replace(okClick, "2024-05-01", "1970-01-01", 1), 400, "occurred_at"},
		{"far future", strings.Replace(okClick, "2024-05-01", "2999-01-01", 1), 400, "occurred_at"},
		{"no offset", strings.Replace(okClick, "10:00:00Z", "10:00:00", 1), 400, "occurred_at"},
		{"oversized field", with(`"campaign":"` + long + `"`), 400, "campaign"},
		{"unknown field", with(`"campaign":"c","campaing":"d"`), 400, "campaing"},
		{"money as float with 7 decimals", `{"type":"cost","tenant":"acme",` +
			`"occurred_at":"2024-05-01T10:00:00Z","campaign":"c","amount":"0.0000001",` +
			`"currency":"EUR"}`, 400, "amount"},
		{"bad currency", `{"type":"cost","tenant":"acme","occurred_at":"2024-05-01T10:00:00Z",` +
			`"campaign":"c","amount":"1","currency":"EURO"}`, 400, "currency"},
		{"sql in a value is just text", with(`"campaign":"x'); DROP TABLE events; --",` +
			`"count":-1`), 400, "count"},
		{"oversized body", strings.Repeat(okClick+"\n", 120000), 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := h.Post(tt.body)
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %v", status, tt.status, out)
			}
			if tt.field == "" {
				if out["error"] == nil || out["error"] == "" {
					t.Errorf("answer has no error: %v", out)
				}
				return
			}
			rej, _ := out["rejected"].([]any)
			if len(rej) != 1 {
				t.Fatalf("rejected = %v, want one entry", out["rejected"])
			}
			r := rej[0].(map[string]any)
			if r["field"] != tt.field || r["reason"] == "" {
				t.Errorf("rejection = %v, want field %q with a reason", r, tt.field)
			}
		})
	}
	t.Run("duplicate ids in one batch", func(t *testing.T) {
		e := with(`"campaign":"c","id":"0195f5c3-2b1e-7a1e-9f00-000000000001"`)
		status, out := h.Post(e + "\n" + e)
		rej, _ := out["rejected"].([]any)
		if status != http.StatusAccepted || len(rej) != 1 || rej[0].(map[string]any)["field"] != "id" {
			t.Fatalf("status %d, rejected %v; want 202 with the second rejected on id", status, rej)
		}
	})
	h.Idle()
	if got := streamMessages(t, h); got != 1 {
		t.Errorf("stream holds %d messages, want only the one valid event's", got)
	}
	if got := h.Total("clicks"); got != "1" {
		t.Errorf("clicks = %s, want 1", got)
	}
}

// TestHostileQueryParameters: parameters that try to reach SQL are either
// refused naming the parameter or treated as plain values.
func TestHostileQueryParameters(t *testing.T) {
	h := apptest.Start(t)
	h.Post(okClick)
	h.Idle()
	base := url.Values{"from": {"2024-01-01"}, "to": {"2025-01-01"}}
	tests := []struct {
		name   string
		set    map[string]string
		status int
		param  string
	}{
		{"group by injection", map[string]string{"group_by": "campaign; DROP TABLE x"}, 400, "group_by"},
		{"unknown dimension", map[string]string{"campaign')--": "x"}, 400, "campaign')--"},
		{"window injection", map[string]string{"window": "day) UNION SELECT 1 --"}, 400, "window"},
		{"tz injection", map[string]string{"tz": "UTC'); DROP"}, 400, "tz"},
		{"bad from", map[string]string{"from": "yesterday"}, 400, "from"},
		{"filter value is a value", map[string]string{"campaign": "c' OR '1'='1"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range tt.set {
				q.Set(k, v)
			}
			resp, err := http.Get(h.Base + "/v1/kpis/clicks?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			var out map[string]any
			_ = json.Unmarshal(b, &out)
			if tt.param != "" && out["param"] != tt.param {
				t.Errorf("param = %v, want %q", out["param"], tt.param)
			}
			if tt.status == 200 && strings.Contains(string(b), `"exact": "1"`) {
				t.Errorf("injected filter matched the stored click: %s", b)
			}
		})
	}
	if got := h.Total("clicks"); got != "1" {
		t.Errorf("clicks = %s, want 1 (nothing changed)", got)
	}
}

func streamMessages(t *testing.T, h *apptest.Harness) uint64 {
	t.Helper()
	s, err := h.App.JetStream().Stream(context.Background(), broker.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
