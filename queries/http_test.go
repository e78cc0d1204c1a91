package queries

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// do sends one request to a handler over e and returns status and body.
func do(t *testing.T, h http.Handler, ctx context.Context, method, target, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestHTTPCatalogue(t *testing.T) {
	h := NewHandler(engineWith(t), nil)
	code, body := do(t, h, context.Background(), "GET", "/v1/kpis", "")
	var cat struct {
		KPIs  []KPI           `json:"kpis"`
		Units map[Unit]string `json:"units"`
	}
	if err := json.Unmarshal([]byte(body), &cat); err != nil || code != http.StatusOK {
		t.Fatalf("GET /v1/kpis: %d %v", code, err)
	}
	if got, want := len(cat.KPIs), len(registry); got != want {
		t.Errorf("kpis listed: got %d, want %d", got, want)
	}
	for _, k := range cat.KPIs {
		if k.Name == "mrr" && (k.Unit != UnitMoney || !k.HigherIsBetter || k.Formula == "") {
			t.Errorf("mrr listed as %+v", k)
		}
	}
}

// TestHTTPGoalsAndComparison sets a goal over PUT, lists it, and reads a
// KPI with its goal and previous period as JSON and CSV.
func TestHTTPGoalsAndComparison(t *testing.T) {
	e := engineWith(t, ad("click", "2024-01-10T00:00:00Z", "c", 20),
		ad("click", "2024-02-10T00:00:00Z", "c", 30))
	h := NewHandler(e, nil)
	ctx := context.Background()
	code, body := do(t, h, ctx, "PUT", "/v1/goals", `{"kpi":"clicks","tenant":"acme",
		"from":"2024-02-01","to":"2024-03-01","target":"40"}`)
	if code != http.StatusOK || !strings.Contains(body, `"target": "40.00"`) {
		t.Fatalf("PUT /v1/goals: %d %s", code, body)
	}
	code, body = do(t, h, ctx, "GET", "/v1/goals?kpi=clicks", "")
	if code != http.StatusOK || !strings.Contains(body, `"tenant": "acme"`) {
		t.Fatalf("GET /v1/goals: %d %s", code, body)
	}
	q := "/v1/kpis/clicks?from=2024-02-01&to=2024-03-01&tenant=acme&compare=previous"
	code, body = do(t, h, ctx, "GET", q, "")
	var ans Answer
	if err := json.Unmarshal([]byte(body), &ans); err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", q, code, body)
	}
	r := ans.Rows[0]
	if r.Goal == nil || r.Goal.Status != StatusBehind || *r.Goal.Progress != 75 ||
		r.Previous == nil || *r.Previous.ChangePercent != 50 {
		t.Errorf("row %+v: want goal behind at 75 %%, +50 %% on January", r)
	}
	_, csv := do(t, h, ctx, "GET", q+"&format=csv", "")
	want := "window_start,window_end,currency,clicks,exact,target,progress_percent,status," +
		"previous,change,change_percent\n" +
		"2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,,30,30,40.00,75,behind,20,10,50\n"
	if csv != want {
		t.Errorf("CSV:\n got %q\nwant %q", csv, want)
	}
}

func TestHTTPGoalErrors(t *testing.T) {
	h := NewHandler(engineWith(t), nil)
	ctx := context.Background()
	tests := []struct {
		name, body string
		ctx        context.Context
		param      string
	}{
		{"unknown field", `{"kpi":"mrr","tenant":"a","from":"2024-01-01","to":"2024-02-01",` +
			`"target":1,"extra":1}`, ctx, ""},
		{"bad time", `{"kpi":"mrr","tenant":"a","from":"soon","to":"2024-02-01","target":1}`,
			ctx, "from"},
		{"number target with 7 decimals", `{"kpi":"mrr","tenant":"a","from":"2024-01-01",` +
			`"to":"2024-02-01","target":0.1234567}`, ctx, "target"},
		{"other tenant than the key's", `{"kpi":"mrr","tenant":"b","from":"2024-01-01",` +
			`"to":"2024-02-01","target":1}`, WithTenant(ctx, "a"), "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, h, tt.ctx, "PUT", "/v1/goals", tt.body)
			if code != http.StatusBadRequest ||
				tt.param != "" && !strings.Contains(body, `"param": "`+tt.param+`"`) {
				t.Errorf("PUT %s: %d %s, want 400 on %q", tt.body, code, body, tt.param)
			}
		})
	}
}

// TestHTTPScopedKeySeesItsGoalsOnly: a key scoped to tenant a lists a's
// goals even when asking for all.
func TestHTTPScopedKeySeesItsGoalsOnly(t *testing.T) {
	e := engineWith(t)
	h := NewHandler(e, nil)
	for _, tenant := range []string{"a", "b"} {
		if code, body := do(t, h, context.Background(), "PUT", "/v1/goals", `{"kpi":"mrr",
			"tenant":"`+tenant+`","from":"2024-01-01","to":"2024-02-01","target":1}`); code != 200 {
			t.Fatalf("PUT: %d %s", code, body)
		}
	}
	_, body := do(t, h, WithTenant(context.Background(), "a"), "GET", "/v1/goals", "")
	if !strings.Contains(body, `"tenant": "a"`) || strings.Contains(body, `"tenant": "b"`) {
		t.Errorf("scoped listing: %s", body)
	}
}

func TestHTTPMixedCurrenciesAre422(t *testing.T) {
	e := engineWith(t, withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 1e6, "EUR"),
		withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 1e6, "USD"))
	h := NewHandler(e, nil)
	code, _ := do(t, h, context.Background(), "GET", "/v1/kpis/spend?from=2024-02-01&to=2024-03-01", "")
	if code != http.StatusUnprocessableEntity {
		t.Errorf("mixed currencies: %d, want 422", code)
	}
	code, body := do(t, h, context.Background(), "GET",
		"/v1/kpis/spend?from=2024-02-01&to=2024-03-01&convert_to=USD", "")
	if code != http.StatusOK || !strings.Contains(body, `"exact": "2.0705"`) {
		t.Errorf("converted to USD: %d %s, want 2.0705", code, body)
	}
}
