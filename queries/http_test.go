package queries

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
	const period = `"from":"2024-01-01","to":"2024-02-01"`
	tests := []struct {
		name, body string
		ctx        context.Context
		code       int
		param      string
	}{
		{"unknown field", `{"kpi":"mrr","tenant":"a",` + period + `,"target":1,"extra":1}`,
			ctx, 400, "body"},
		{"an array", `[{"kpi":"mrr"}]`, ctx, 400, "body"},
		{"a repeated key", `{"kpi":"mrr","tenant":"a","tenant":"*",` + period + `,"target":1}`,
			ctx, 400, "body"},
		{"a key in another case", `{"kpi":"mrr","Tenant":"a",` + period + `,"target":1}`,
			ctx, 400, "body"},
		{"data after the object", `{"kpi":"mrr","tenant":"a",` + period + `,"target":1} {}`,
			ctx, 400, "body"},
		{"bad time", `{"kpi":"mrr","tenant":"a","from":"soon","to":"2024-02-01","target":1}`,
			ctx, 400, "from"},
		{"before 2000", `{"kpi":"mrr","tenant":"a","from":"1970-01-01","to":"2024-02-01",` +
			`"target":1}`, ctx, 400, "from"},
		{"after 2100", `{"kpi":"mrr","tenant":"a","from":"2024-01-01","to":"9999-02-01",` +
			`"target":1}`, ctx, 400, "to"},
		{"number target with 7 decimals", `{"kpi":"mrr","tenant":"a",` + period +
			`,"target":0.1234567}`, ctx, 400, "target"},
		{"other tenant than the key's", `{"kpi":"mrr","tenant":"b",` + period + `,"target":1}`,
			WithTenant(ctx, "a"), 403, "tenant"},
		{"all tenants with a scoped key", `{"kpi":"mrr","tenant":"*",` + period + `,"target":1}`,
			WithTenant(ctx, "a"), 403, "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, h, tt.ctx, "PUT", "/v1/goals", tt.body)
			if code != tt.code || !strings.Contains(body, `"param": "`+tt.param+`"`) {
				t.Errorf("PUT %s: %d %s, want %d on %q", tt.body, code, body, tt.code, tt.param)
			}
		})
	}
}

// TestHTTPDeleteGoal: a goal set and deleted is gone from the listing and
// from results; deleting it again is 404.
func TestHTTPDeleteGoal(t *testing.T) {
	h := NewHandler(engineWith(t, ad("click", "2024-02-03T00:00:00Z", "c", 3)), nil)
	ctx := context.Background()
	goal := `{"kpi":"clicks","tenant":"*","from":"2024-02-01","to":"2024-03-01"`
	if code, body := do(t, h, ctx, "PUT", "/v1/goals", goal+`,"target":5}`); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	// The answer is the goal as stored, whatever target the body carries.
	code, body := do(t, h, ctx, "DELETE", "/v1/goals", goal+`,"target":2.5}`)
	if code != 200 || !strings.Contains(body, `"target": "5.00"`) ||
		strings.Contains(body, "0001-01-01") {
		t.Fatalf("DELETE: %d %s, want 200 with the stored target 5 and its set_at", code, body)
	}
	if _, body := do(t, h, ctx, "GET", "/v1/goals", ""); strings.Contains(body, "clicks") {
		t.Errorf("goal still listed after DELETE: %s", body)
	}
	_, body = do(t, h, ctx, "GET", "/v1/kpis/clicks?from=2024-02-01&to=2024-03-01", "")
	if strings.Contains(body, `"goal"`) {
		t.Errorf("goal still on the row after DELETE: %s", body)
	}
	if code, body := do(t, h, ctx, "DELETE", "/v1/goals", goal+"}"); code != 404 {
		t.Errorf("second DELETE: %d %s, want 404", code, body)
	}
}

// TestHTTPCountsCarryNoCurrency: a click KPI next to costs in two
// currencies has no currency; spend grouped by currency has no row for the
// events without an amount.
func TestHTTPCountsCarryNoCurrency(t *testing.T) {
	e := engineWith(t, ad("click", "2024-02-01T10:00:00Z", "c", 4),
		withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 1e6, "EUR"),
		withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 2e6, "USD"))
	h := NewHandler(e, nil)
	ctx := context.Background()
	for _, k := range []string{"clicks", "ctr"} {
		_, body := do(t, h, ctx, "GET", "/v1/kpis/"+k+"?from=2024-02-01&to=2024-03-01", "")
		if strings.Contains(body, `"currency": "`) {
			t.Errorf("%s carries a currency: %s", k, body)
		}
	}
	_, body := do(t, h, ctx, "GET",
		"/v1/kpis/spend?from=2024-02-01&to=2024-03-01&group_by=currency", "")
	if strings.Count(body, `"window_start"`) != 2 || strings.Contains(body, `"currency": ""`) {
		t.Errorf("spend by currency, want an EUR and a USD row: %s", body)
	}
}

// TestCostPerClickInOneCurrency: clicks carry no currency, so cpc filtered
// or grouped by currency divides that currency's spend by every click.
func TestCostPerClickInOneCurrency(t *testing.T) {
	e := engineWith(t, ad("click", "2024-02-01T10:00:00Z", "c", 4),
		withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 10e6, "EUR"),
		withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 10_705_000, "USD"),
		ad("click", "2024-02-02T10:00:00Z", "d", 5))
	inEUR := func(kpi string) Request {
		r := feb(kpi)
		r.Filters = map[string]string{DimCurrency: "EUR"}
		return r
	}
	checkOne(t, e, inEUR, []kpiCase{{"cpc", "1.111111"}, {"clicks", "9"}, {"spend", "10.00"}})
	r := feb("cpc")
	r.GroupBy = []string{DimCampaign, DimCurrency}
	got := map[string]string{}
	for _, row := range run(t, e, r).Rows {
		got[row.Group[DimCampaign]+" "+row.Group[DimCurrency]] = text(row.value)
	}
	want := map[string]string{"c EUR": "2.50", "c USD": "2.67625"}
	if !maps.Equal(got, want) {
		t.Errorf("cpc by campaign and currency = %v, want %v", got, want)
	}
}

// expect400 asks for clicks with each query string and expects a 400 that
// names the given parameter.
func expect400(t *testing.T, h http.Handler, cases map[string]string) {
	t.Helper()
	for q, param := range cases {
		code, body := do(t, h, context.Background(), "GET", "/v1/kpis/clicks?"+q, "")
		if code != 400 || !strings.Contains(body, `"param": "`+param+`"`) {
			t.Errorf("%s: %d %s, want 400 on %s", q, code, body, param)
		}
	}
}

// TestHTTPBadQueryParams: format, tz=Local and too many windows are 400
// naming the parameter.
func TestHTTPBadQueryParams(t *testing.T) {
	expect400(t, NewHandler(engineWith(t), nil), map[string]string{
		"from=2024-02-01&to=2024-03-01&format=xml":                    "format",
		"from=2024-02-01&to=2024-03-01&tz=Local":                      "tz",
		"from=2000-01-01&to=2024-03-01&window=minute":                 "window",
		"from=2024-02-01&to=2024-03-01&tz=Europe/Nowhere":             "tz",
		"from=2024-02-01&to=2024-03-01&group_by=campaign%27+OR+1%3D1": "group_by",
	})
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

// TestHTTPCompareGrouped: grouped rows all carry the previous period, with
// a null value for a group that had no events then.
func TestHTTPCompareGrouped(t *testing.T) {
	e := engineWith(t, ad("click", "2024-01-10T00:00:00Z", "old", 2),
		ad("click", "2024-02-10T00:00:00Z", "old", 3), ad("click", "2024-02-11T00:00:00Z", "new", 4))
	h := NewHandler(e, nil)
	e2 := "from=2024-02-01&to=2024-03-01&group_by=campaign&compare=previous"
	_, body := do(t, h, context.Background(), "GET", "/v1/kpis/clicks?"+e2, "")
	var ans struct {
		Rows []struct {
			Group    map[string]string `json:"group"`
			Previous *struct {
				WindowStart time.Time `json:"window_start"`
				Value       *float64  `json:"value"`
				Change      *float64  `json:"change"`
			} `json:"previous"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || len(ans.Rows) != 2 {
		t.Fatalf("answer %s: %v, want 2 rows", body, err)
	}
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range ans.Rows {
		p := r.Previous
		if p == nil || !p.WindowStart.Equal(jan) {
			t.Fatalf("%v: previous %+v, want January", r.Group, p)
		}
		switch r.Group["campaign"] {
		case "old":
			if p.Value == nil || *p.Value != 2 || p.Change == nil || *p.Change != 1 {
				t.Errorf("old: previous %+v, want 2 and a change of 1", p)
			}
		case "new":
			if p.Value != nil || p.Change != nil {
				t.Errorf("new: previous %+v, want no value", p)
			}
		}
	}
}

// TestHTTPRangesAndQueryStrings: times outside 1970-2200, a previous
// period before 1970, a malformed query string and a repeated group_by are
// 400s naming what is wrong, never a 500 or a silently dropped filter.
func TestHTTPRangesAndQueryStrings(t *testing.T) {
	expect400(t, NewHandler(engineWith(t), nil), map[string]string{
		"from=0001-01-02&to=2026-01-01":                            "from",
		"from=0001-01-01&to=2026-01-01":                            "from",
		"from=2026-01-01&to=9999-12-31T23:59:59Z":                  "to",
		"from=1971-01-01&to=2026-01-01&compare=previous":           "compare",
		"from=2024-02-01&to=2024-03-01&tenant=r2%zz":               "query",
		"from=2024-02-01&to=2024-03-01&tenant=r1;campaign=c1":      "query",
		"from=2024-02-01&to=2024-03-01&group_by=campaign,campaign": "group_by",
		"from=2024-02-01&to=2024-03-01&window=day&window=hour":     "window",
		"from=2024-02-01&to=2024-03-01&tz=UTC&tz=Europe/Paris":     "tz",
		"from=2024-02-01&from=2024-02-02&to=2024-03-01":            "from",
		"from=2024-02-01&to=2024-03-01&campaign=a&campaign=b":      "campaign",
	})
}
