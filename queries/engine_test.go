package queries

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse/chdb"
	"github.com/kpi-analytics/kpi/projections"
)

var (
	whOnce sync.Once
	wh     *chdb.Conn
	whErr  error
)

// engineWith stores evs in a fresh database of the shared embedded engine
// and returns an Engine over it.
func engineWith(t *testing.T, evs ...events.Event) *Engine {
	t.Helper()
	whOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kpi-queries-test-")
		if err == nil {
			wh, whErr = chdb.Open(chdb.Config{Path: filepath.Join(dir, "ch")})
		} else {
			whErr = err
		}
	})
	if errors.Is(whErr, chdb.ErrLibraryMissing) {
		t.Skipf("embedded ClickHouse missing (run `make libchdb`): %v", whErr)
	}
	if whErr != nil {
		t.Fatal(whErr)
	}
	db := fmt.Sprintf("q_%s_%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")),
		time.Now().UnixNano()%1e6)
	ctx := context.Background()
	if err := projections.Migrate(ctx, wh, db); err != nil {
		t.Fatal(err)
	}
	e := NewEngine(wh, db)
	insert(t, e, 0, evs...)
	return e
}

// insert stores evs in e's database as stream positions first+1, first+2...
// Events without an id get one derived from their position.
func insert(t *testing.T, e *Engine, first int, evs ...events.Event) {
	t.Helper()
	if len(evs) == 0 {
		return
	}
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		if ev.ID == "" {
			ev.ID = fmt.Sprintf("0195f5c3-2b1e-7a1e-9f00-%012d", first+i)
		}
		rows[i] = projections.Row(ev, uint64(first+i+1), 0)
	}
	err := wh.Insert(context.Background(), projections.EventsTable(e.db), projections.Columns(), rows)
	if err != nil {
		t.Fatal(err)
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ad(typ, when, campaign string, count int64) events.Event {
	return events.Event{Type: events.Type(typ), Tenant: "acme", OccurredAt: at(when),
		Campaign: campaign, Channel: "search", Count: count}
}

func withMoney(e events.Event, micros int64, cur string) events.Event {
	if e.Type == events.TypeConversion {
		e.Value = events.Micros(micros)
	} else {
		e.Amount = events.Micros(micros)
	}
	e.Currency = cur
	return e
}

func run(t *testing.T, e *Engine, req Request) *Answer {
	t.Helper()
	ans, err := e.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

func whole(kpi string) Request {
	return Request{KPI: kpi, From: at("2024-01-01T00:00:00Z"), To: at("2025-01-01T00:00:00Z")}
}

func TestAdKPIsWorkedByHand(t *testing.T) {
	e := engineWith(t,
		ad("impression", "2024-05-01T10:00:00Z", "c1", 600),
		ad("impression", "2024-05-01T11:30:00Z", "c1", 400),
		ad("click", "2024-05-01T10:05:00Z", "c1", 20),
		withMoney(ad("cost", "2024-05-01T00:00:00Z", "c1", 1), 10_000_000, "EUR"),
		withMoney(ad("conversion", "2024-05-01T12:00:00Z", "c1", 2), 50_000_000, "EUR"),
	)
	tests := []struct {
		kpi   string
		want  float64
		exact string
	}{
		{"impressions", 1000, "1000"},
		{"clicks", 20, "20"},
		{"ctr", 2, ""},
		{"spend", 10, "10.00"},
		{"cpc", 0.5, "0.50"},
		{"cpm", 10, "10.00"},
		{"conversions", 2, "2"},
		{"conversion_rate", 10, ""},
		{"conversion_value", 50, "50.00"},
		{"roas", 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.kpi, func(t *testing.T) {
			ans := run(t, e, whole(tt.kpi))
			if len(ans.Rows) != 1 {
				t.Fatalf("rows = %d, want 1", len(ans.Rows))
			}
			r := ans.Rows[0]
			if r.Value == nil || math.Abs(*r.Value-tt.want) > 1e-9 {
				t.Errorf("value = %v, want %v", r.Value, tt.want)
			}
			if r.Exact != tt.exact {
				t.Errorf("exact = %q, want %q", r.Exact, tt.exact)
			}
		})
	}
}

func TestZeroDenominatorsAreNull(t *testing.T) {
	e := engineWith(t, ad("impression", "2024-05-01T10:05:00Z", "c1", 0))
	for _, kpi := range []string{"ctr", "roas", "conversion_rate", "customer_churn_rate", "arpu"} {
		ans := run(t, e, whole(kpi))
		if v := ans.Rows[0].Value; v != nil {
			t.Errorf("%s = %v, want null", kpi, *v)
		}
	}
}

func TestDaysFollowTimeZoneAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	e := engineWith(t,
		ad("click", "2024-03-30T22:59:00Z", "c", 1), // 23:59 on the 30th in Paris
		ad("click", "2024-03-30T23:30:00Z", "c", 2), // 00:30 on the 31st
		ad("click", "2024-03-31T21:59:00Z", "c", 4), // 23:59 on the 31st (CEST)
		ad("click", "2024-03-31T22:00:00Z", "c", 8), // 00:00 on April 1st
	)
	req := Request{KPI: "clicks", Window: WindowDay, Location: paris,
		From: time.Date(2024, 3, 30, 0, 0, 0, 0, paris), To: time.Date(2024, 4, 2, 0, 0, 0, 0, paris)}
	ans := run(t, e, req)
	want := []struct {
		start string
		hours float64
		n     string
	}{{"2024-03-30", 24, "1"}, {"2024-03-31", 23, "6"}, {"2024-04-01", 24, "8"}}
	if len(ans.Rows) != len(want) {
		t.Fatalf("rows = %d, want %d", len(ans.Rows), len(want))
	}
	for i, w := range want {
		r := ans.Rows[i]
		if got := r.WindowStart.Format("2006-01-02"); got != w.start {
			t.Errorf("row %d start = %s, want %s", i, got, w.start)
		}
		if got := r.WindowEnd.Sub(r.WindowStart).Hours(); got != w.hours {
			t.Errorf("row %d length = %vh, want %vh", i, got, w.hours)
		}
		if r.Exact != w.n {
			t.Errorf("row %d clicks = %s, want %s", i, r.Exact, w.n)
		}
	}
}

// TestHalfHourOffsetChanges: Australia/Lord_Howe is +11 in summer and
// +10:30 in winter, so its local hours and days leave the UTC hour grid for
// half the year even when a range starts and ends in summer.
func TestHalfHourOffsetChanges(t *testing.T) {
	lhi, err := time.LoadLocation("Australia/Lord_Howe")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	e := engineWith(t,
		ad("click", "2024-06-30T13:15:00Z", "c", 1),   // 23:45 on June 30th (+10:30)
		ad("click", "2024-06-30T13:45:00Z", "c", 2),   // 00:15 on July 1st
		ad("click", "2024-04-06T14:45:00Z", "c", 4),   // 01:45 (+11), April 7th
		ad("click", "2024-04-06T15:10:00Z", "c", 8),   // 01:40 (+10:30), clocks went back at 15:00
		ad("click", "2024-04-06T16:10:00Z", "c", 16),  // 02:40 (+10:30)
		ad("click", "2024-10-05T15:15:00Z", "c", 32),  // 01:45 (+10:30), October 6th
		ad("click", "2024-10-05T15:45:00Z", "c", 64),  // 02:45 (+11), clocks went forward at 15:30
		ad("click", "2024-10-05T16:15:00Z", "c", 128), // 03:15 (+11)
	)
	months := run(t, e, Request{KPI: "clicks", Window: WindowMonth, Location: lhi,
		From: time.Date(2024, 3, 1, 0, 0, 0, 0, lhi), To: time.Date(2024, 11, 1, 0, 0, 0, 0, lhi)})
	got := map[string]string{}
	for _, r := range months.Rows {
		got[r.WindowStart.Format("2006-01")] = r.Exact
	}
	if got["2024-04"] != "28" || got["2024-06"] != "1" || got["2024-07"] != "2" {
		t.Errorf("months = %v, want April 28, June 1, July 2", got)
	}

	// Hours are counted from local midnight in elapsed time, as ClickHouse's
	// toStartOfHour in the zone counts them. April 7th (midnight 13:00Z)
	// lasts 24.5 hours: its hours stay on the UTC hour after the clocks go
	// back at 15:00Z, and the last one lasts 30 minutes. October 6th
	// (midnight 13:30Z) lasts 23.5 hours: its hours start at half past in
	// UTC even after the clocks go forward at 15:30Z.
	checkHours := func(from, to string, want [][2]string) {
		t.Helper()
		ans := run(t, e, Request{KPI: "clicks", Window: WindowHour, Location: lhi,
			From: at(from), To: at(to)})
		if len(ans.Rows) != len(want) {
			t.Fatalf("hours from %s: %d rows, want %d: %+v", from, len(ans.Rows), len(want), ans.Rows)
		}
		for i, w := range want {
			r := ans.Rows[i]
			if s := r.WindowStart.UTC().Format("15:04"); s != w[0] || r.Exact != w[1] {
				t.Errorf("hour %d from %s = %s UTC with %s clicks, want %s UTC with %s", i, from, s,
					r.Exact, w[0], w[1])
			}
		}
	}
	checkHours("2024-04-06T13:00:00Z", "2024-04-06T17:00:00Z",
		[][2]string{{"13:00", "0"}, {"14:00", "4"}, {"15:00", "8"}, {"16:00", "16"}})
	checkHours("2024-10-05T13:30:00Z", "2024-10-05T17:30:00Z",
		[][2]string{{"13:30", "0"}, {"14:30", "32"}, {"15:30", "192"}, {"16:30", "0"}})

	day := Request{From: time.Date(2024, 4, 7, 0, 0, 0, 0, lhi),
		To: time.Date(2024, 4, 8, 0, 0, 0, 0, lhi), Window: WindowHour, Location: lhi}
	long := day.Bounds()
	if n, last := len(long)-1, long[len(long)-1].Sub(long[len(long)-2]); n != 25 ||
		last != 30*time.Minute {
		t.Errorf("April 7th: %d hours, the last %v long; want 25, the last 30m", n, last)
	}
}

func TestGroupAndFilterByCampaign(t *testing.T) {
	e := engineWith(t, ad("click", "2024-05-01T10:00:00Z", "a", 1),
		ad("click", "2024-05-01T10:00:00Z", "b", 2), ad("click", "2024-05-02T10:00:00Z", "b", 4))
	req := whole("clicks")
	req.GroupBy = []string{"campaign"}
	ans := run(t, e, req)
	got := map[string]string{}
	for _, r := range ans.Rows {
		got[r.Group["campaign"]] = r.Exact
	}
	if got["a"] != "1" || got["b"] != "6" || len(got) != 2 {
		t.Errorf("by campaign = %v, want a:1 b:6", got)
	}
	req = whole("clicks")
	req.Filters = map[string]string{"campaign": "b' OR 1=1 --"}
	if ans := run(t, e, req); ans.Rows[0].Exact != "0" {
		t.Errorf("injection filter matched %s clicks, want 0", ans.Rows[0].Exact)
	}
}

func TestMixedCurrenciesRefused(t *testing.T) {
	e := engineWith(t, withMoney(ad("cost", "2024-05-01T00:00:00Z", "c", 1), 1_000_000, "EUR"),
		withMoney(ad("cost", "2024-05-01T00:00:00Z", "c", 1), 1_000_000, "USD"))
	_, err := e.Run(context.Background(), whole("spend"))
	if !errors.Is(err, ErrMixedCurrencies) {
		t.Fatalf("err = %v, want ErrMixedCurrencies", err)
	}
	req := whole("spend")
	req.GroupBy = []string{"currency"}
	if ans := run(t, e, req); len(ans.Rows) != 2 {
		t.Errorf("grouped by currency: %d rows, want 2", len(ans.Rows))
	}
}

func sub(typ, when, customer, subscription string, micros int64, interval string) events.Event {
	return events.Event{Type: events.Type(typ), Tenant: "saas", OccurredAt: at(when),
		Customer: customer, Subscription: subscription, Amount: events.Micros(micros),
		Currency: "USD", Interval: interval}
}

// TestBillingWorkedByHand: A pays 100/month from January and cancels in
// February; B pays 1200/year (100/month) from January and shrinks to
// 600/year in February; C joins and leaves within February, so it is not
// counted as churn.
func TestBillingWorkedByHand(t *testing.T) {
	e := engineWith(t,
		sub("subscription_started", "2024-01-01T00:00:00Z", "A", "a1", 100e6, "month"),
		sub("subscription_started", "2024-01-15T00:00:00Z", "B", "b1", 1200e6, "year"),
		sub("subscription_canceled", "2024-02-05T00:00:00Z", "A", "a1", 0, ""),
		sub("subscription_changed", "2024-02-10T00:00:00Z", "B", "b1", 600e6, "year"),
		sub("subscription_started", "2024-02-10T00:00:00Z", "C", "c1", 30e6, "month"),
		sub("subscription_canceled", "2024-02-20T00:00:00Z", "C", "c1", 0, ""),
	)
	feb := func(kpi string) Row {
		ans := run(t, e, Request{KPI: kpi, From: at("2024-02-01T00:00:00Z"),
			To: at("2024-03-01T00:00:00Z"), Window: WindowMonth})
		if len(ans.Rows) != 1 {
			t.Fatalf("%s: rows = %d, want 1", kpi, len(ans.Rows))
		}
		return ans.Rows[0]
	}
	if got := feb("mrr").Exact; got != "50.00" {
		t.Errorf("mrr end of February = %s, want 50.00", got)
	}
	if got := *feb("customer_churn_rate").Value; got != 50 {
		t.Errorf("customer churn = %v %%, want 50", got)
	}
	g := feb("gross_mrr_churn")
	if g.Exact != "150.00" || g.Rate == nil || *g.Rate != 75 {
		t.Errorf("gross MRR churn = %s (%v %%), want 150.00 (75 %%)", g.Exact, g.Rate)
	}
	if got := feb("arpu").Exact; got != "50.00" {
		t.Errorf("arpu = %s, want 50.00", got)
	}
	jan := run(t, e, Request{KPI: "mrr", From: at("2024-01-01T00:00:00Z"),
		To: at("2024-03-01T00:00:00Z"), Window: WindowMonth})
	if len(jan.Rows) != 2 || jan.Rows[0].Exact != "200.00" {
		t.Errorf("mrr by month = %+v, want 200.00 then 50.00", jan.Rows)
	}
}

func TestAdQueriesUseHourlyProjection(t *testing.T) {
	e := engineWith(t, ad("click", "2024-05-01T10:00:00Z", "a", 1))
	for _, w := range []Window{WindowHour, WindowDay, WindowWeek, WindowMonth, WindowAll} {
		req := whole("ctr")
		req.Window, req.Location = w, time.UTC
		req.GroupBy = []string{"campaign"}
		q := &query{e: e, req: req, bounds: req.Bounds()}
		scope := adScope{into: map[events.Type]measure{events.TypeClick: mClicks,
			events.TypeImpression: mImpressions}}
		res, err := wh.Query(context.Background(), "EXPLAIN "+scope.sql(q), q.params())
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for _, r := range res.Rows {
			fmt.Fprintln(&plan, r[0])
		}
		if !strings.Contains(plan.String(), "ReadFromMergeTree (ad_hourly)") {
			t.Errorf("window %s does not read the ad_hourly projection:\n%s", w, plan.String())
		}
	}
}

func TestRequestValidation(t *testing.T) {
	tests := []struct {
		name  string
		req   Request
		param string
	}{
		{"unknown kpi", Request{KPI: "nope"}, "kpi"},
		{"missing range", Request{KPI: "ctr"}, "from"},
		{"missing to", Request{KPI: "ctr", From: at("2024-02-01T00:00:00Z")}, "to"},
		{"reversed range", Request{KPI: "ctr", From: at("2024-02-01T00:00:00Z"),
			To: at("2024-01-01T00:00:00Z")}, "to"},
		{"bad window", Request{KPI: "ctr", From: at("2024-01-01T00:00:00Z"),
			To: at("2024-02-01T00:00:00Z"), Window: "fortnight"}, "window"},
		{"bad dimension", Request{KPI: "mrr", From: at("2024-01-01T00:00:00Z"),
			To: at("2024-02-01T00:00:00Z"), GroupBy: []string{"campaign"}}, "group_by"},
		{"too many windows", Request{KPI: "ctr", From: at("2000-01-01T00:00:00Z"),
			To: at("2024-02-01T00:00:00Z"), Window: WindowMinute}, "window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.req.Validate()
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tt.param {
				t.Errorf("err = %v, want RequestError on %s", err, tt.param)
			}
		})
	}
}
