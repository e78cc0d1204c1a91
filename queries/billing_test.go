package queries

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/kpi-analytics/kpi/events"
)

// subEv is a subscription event of tenant saas in USD.
func subEv(typ events.Type, when, customer, subscription string, amount float64,
	interval string) events.Event {
	return events.Event{Type: typ, Tenant: "saas", OccurredAt: at(when), Customer: customer,
		Subscription: subscription, Amount: micros(amount), Currency: "USD", Interval: interval}
}

// movementEvents: in February 2024, A churns (100), B contracts from
// 1200/year to 600/year (−50), C joins and leaves (nothing), D expands
// 40 → 70 (+30), E's trial (0) converts to 20 (new), F, who churned in
// January, comes back at 35 (reactivation), G is new at 60, and a refund
// to A moves nothing.
func movementEvents() []events.Event {
	const (
		started  = events.TypeSubscriptionStarted
		changed  = events.TypeSubscriptionChanged
		canceled = events.TypeSubscriptionCanceled
	)
	return []events.Event{
		subEv(started, "2023-12-01T00:00:00Z", "F", "f1", 25, "month"),
		subEv(started, "2024-01-01T00:00:00Z", "A", "a1", 100, "month"),
		subEv(canceled, "2024-01-03T00:00:00Z", "F", "f1", 0, ""),
		subEv(started, "2024-01-10T00:00:00Z", "D", "d1", 40, "month"),
		subEv(started, "2024-01-15T00:00:00Z", "B", "b1", 1200, "year"),
		subEv(started, "2024-01-20T00:00:00Z", "E", "e1", 0, "month"),
		subEv(changed, "2024-02-03T00:00:00Z", "E", "e1", 20, "month"),
		subEv(canceled, "2024-02-05T00:00:00Z", "A", "a1", 0, ""),
		subEv(started, "2024-02-08T00:00:00Z", "G", "g1", 60, "month"),
		subEv(changed, "2024-02-10T00:00:00Z", "B", "b1", 600, "year"),
		subEv(started, "2024-02-10T00:00:00Z", "C", "c1", 30, "month"),
		subEv(changed, "2024-02-12T00:00:00Z", "D", "d1", 70, "month"),
		subEv(started, "2024-02-15T00:00:00Z", "F", "f2", 35, "month"),
		subEv(canceled, "2024-02-20T00:00:00Z", "C", "c1", 0, ""),
		subEv(events.TypeRefund, "2024-02-21T00:00:00Z", "A", "", 100, ""),
	}
}

// TestMRRMovementsWorkedByHand: MRR is 240 on February 1st (A 100, B 100,
// D 40) and 235 on March 1st (B 50, D 70, E 20, F 35, G 60).
func TestMRRMovementsWorkedByHand(t *testing.T) {
	e := engineWith(t, movementEvents()...)
	checkOne(t, e, feb, []kpiCase{
		{"mrr", "235.00"},
		{"mrr_new", "80.00"},
		{"mrr_expansion", "30.00"},
		{"mrr_contraction", "50.00"},
		{"mrr_churned", "100.00"},
		{"mrr_reactivation", "35.00"},
		{"net_new_mrr", "-5.00"},
		{"new_customers", "2"},
		{"customer_churn_rate", "33.333333"},
		{"gross_mrr_churn", "150.00"},
		{"net_mrr_churn", "85.00"},
		{"arpu", "47.00"},
		{"arpa", "47.00"},
		{"clv_predictive", "141.00"},
	})
	g := run(t, e, feb("net_mrr_churn")).Rows[0]
	if g.Rate == nil || text(value{Value: g.Rate}) != "35.416667" {
		t.Errorf("net MRR churn rate = %v, want 85 / 240 = 35.416667 %%", g.Rate)
	}
	g = run(t, e, feb("gross_mrr_churn")).Rows[0]
	if g.Rate == nil || *g.Rate != 62.5 {
		t.Errorf("gross MRR churn rate = %v, want 150 / 240 = 62.5 %%", g.Rate)
	}
}

// TestMRRMovementsInJanuary: F (25) churns on the 3rd; A, B and D are new;
// E's trial carries no MRR.
func TestMRRMovementsInJanuary(t *testing.T) {
	e := engineWith(t, movementEvents()...)
	jan := func(kpi string) Request {
		return Request{KPI: kpi, From: at("2024-01-01T00:00:00Z"), To: at("2024-02-01T00:00:00Z")}
	}
	checkOne(t, e, jan, []kpiCase{
		{"mrr", "240.00"},
		{"mrr_new", "240.00"},
		{"mrr_churned", "25.00"},
		{"mrr_reactivation", "0.00"},
		{"net_new_mrr", "215.00"},
		{"new_customers", "3"},
		{"customer_churn_rate", "100"},
		{"clv_predictive", "80.00"},
	})
}

func TestBillingZeroDenominators(t *testing.T) {
	e := engineWith(t, subEv(events.TypeSubscriptionStarted, "2024-02-10T00:00:00Z", "T", "t1",
		0, "month"))
	checkOne(t, e, feb, []kpiCase{
		{"mrr", "0.00"},
		{"customer_churn_rate", "null"},
		{"arpa", "null"},
		{"clv_predictive", "null"},
		{"new_customers", "0"},
	})
	g := run(t, e, feb("gross_mrr_churn")).Rows[0]
	if g.Exact != "0.00" || g.Rate != nil {
		t.Errorf("gross MRR churn = %s (%v %%), want 0.00 (null)", g.Exact, g.Rate)
	}
}

// TestBillingConvertsAtOneRate: X pays 107.05 USD, Y 100 EUR; in February X
// doubles. At the ECB rate of 1.0705 USD per EUR both are 100 EUR in
// January, and X's expansion is 100 EUR: the rate never moves MRR.
func TestBillingConvertsAtOneRate(t *testing.T) {
	y := subEv(events.TypeSubscriptionStarted, "2024-01-01T00:00:00Z", "Y", "y1", 100, "month")
	y.Currency = "EUR"
	e := engineWith(t, y,
		subEv(events.TypeSubscriptionStarted, "2024-01-01T00:00:00Z", "X", "x1", 107.05, "month"),
		subEv(events.TypeSubscriptionChanged, "2024-02-10T00:00:00Z", "X", "x1", 214.10, "month"))
	if _, err := e.Run(context.Background(), feb("mrr")); !errors.Is(err, ErrMixedCurrencies) {
		t.Fatalf("mrr over USD and EUR: err = %v, want ErrMixedCurrencies", err)
	}
	inEUR := func(kpi string) Request { r := feb(kpi); r.ConvertTo = "EUR"; return r }
	checkOne(t, e, inEUR, []kpiCase{
		{"mrr", "300.00"},
		{"mrr_expansion", "100.00"},
		{"net_new_mrr", "100.00"},
		{"arpa", "150.00"},
	})
	inUSD := func(kpi string) Request { r := feb(kpi); r.ConvertTo = "USD"; return r }
	checkOne(t, e, inUSD, []kpiCase{{"mrr", "321.15"}, {"mrr_expansion", "107.05"}})
	if ans := run(t, e, inEUR("mrr")); ans.Rows[0].Currency != "EUR" || ans.Rates != RatesSource {
		t.Errorf("converted row: currency %q, rates %q", ans.Rows[0].Currency, ans.Rates)
	}
}

// TestYearlyPlansSumExactly: twelve plans of 1000 a year are 1000 of MRR,
// not twelve times 83.333333; with a yearly plan in USD converted to EUR,
// value and exact agree.
func TestYearlyPlansSumExactly(t *testing.T) {
	var evs []events.Event
	for i := range 12 {
		c := fmt.Sprintf("c%d", i)
		evs = append(evs, subEv(events.TypeSubscriptionStarted, "2024-02-05T00:00:00Z", c, c+"s",
			1000, "year"))
	}
	eur := subEv(events.TypeSubscriptionStarted, "2024-02-06T00:00:00Z", "e", "es", 50, "month")
	eur.Currency = "EUR"
	e := engineWith(t, append(evs, eur,
		subEv(events.TypeSubscriptionStarted, "2024-02-06T00:00:00Z", "u", "us", 1284.60, "year"),
		subEv(events.TypeSubscriptionStarted, "2024-02-06T00:00:00Z", "v", "vs", 214.10, "month"))...)
	onlyYearly := func(kpi string) Request {
		r := feb(kpi)
		r.To = at("2024-02-06T00:00:00Z")
		return r
	}
	checkOne(t, e, onlyYearly, []kpiCase{{"mrr", "1000.00"}, {"mrr_new", "1000.00"},
		{"net_new_mrr", "1000.00"}, {"arpa", "83.333333"}})
	// 1284.60 / 12 + 214.10 = 321.15 USD = 300 EUR at the table's rate; with
	// the 50 EUR plan, 350 EUR besides the 1000 USD of the yearly plans.
	r := feb("mrr")
	r.From, r.ConvertTo = at("2024-02-06T00:00:00Z"), "EUR"
	ans := run(t, e, r)
	if len(ans.Rows) != 1 || ans.Rows[0].Value == nil {
		t.Fatalf("mrr in EUR: %+v", ans.Rows)
	}
	got := ans.Rows[0]
	if f, _ := strconv.ParseFloat(got.Exact, 64); *got.Value != f {
		t.Errorf("mrr in EUR: value %v, exact %s; want the same number", *got.Value, got.Exact)
	}
}

// TestBillingByTenant keeps each tenant's customers apart.
func TestBillingByTenant(t *testing.T) {
	other := subEv(events.TypeSubscriptionStarted, "2024-01-05T00:00:00Z", "A", "a9", 10, "month")
	other.Tenant = "other"
	e := engineWith(t, append(movementEvents(), other)...)
	got := byGroup(t, e, feb("mrr"), DimTenant)
	if got["saas"] != "235.00" || got["other"] != "10.00" || len(got) != 2 {
		t.Errorf("mrr by tenant = %v, want saas 235.00, other 10.00", got)
	}
	req := feb("new_customers")
	req.Filters = map[string]string{DimTenant: "other"}
	if got := text(run(t, e, req).Rows[0].value); got != "0" {
		t.Errorf("new customers of other in February = %s, want 0", got)
	}
}

// monthly runs kpi by month over [from, to) and returns each window's text.
func monthly(t *testing.T, e *Engine, kpi, from, to string) []string {
	t.Helper()
	ans := run(t, e, Request{KPI: kpi, From: at(from), To: at(to), Window: WindowMonth})
	out := make([]string, len(ans.Rows))
	for i, r := range ans.Rows {
		out[i] = text(r.value)
	}
	return out
}

// checkMonthly compares each KPI's monthly values over [from, to) with want.
func checkMonthly(t *testing.T, e *Engine, from, to string, want map[string][]string) {
	t.Helper()
	for kpi, w := range want {
		if got := monthly(t, e, kpi, from, to); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("%s by month: got %v, want %v", kpi, got, w)
		}
	}
}

// TestMRRStateCarriesThroughQuietWindows: by month from December to
// March, MRR carries into March, when nobody has an event, and March moves
// nothing.
func TestMRRStateCarriesThroughQuietWindows(t *testing.T) {
	e := engineWith(t, movementEvents()...)
	checkMonthly(t, e, "2023-12-01T00:00:00Z", "2024-04-01T00:00:00Z", map[string][]string{
		"mrr":                 {"25.00", "240.00", "235.00", "235.00"},
		"mrr_new":             {"25.00", "240.00", "80.00", "0.00"},
		"mrr_churned":         {"0.00", "25.00", "100.00", "0.00"},
		"net_new_mrr":         {"25.00", "215.00", "-5.00", "0.00"},
		"customer_churn_rate": {"null", "100", "33.333333", "0"},
	})
}

// TestMRRMovementsOfACustomerWithTwoSubscriptions: H pays 10 from January,
// adds a second subscription of 15 in February (expansion, not new),
// cancels the first in March (contraction, still paying) and the second
// in April (churn).
func TestMRRMovementsOfACustomerWithTwoSubscriptions(t *testing.T) {
	const (
		started  = events.TypeSubscriptionStarted
		canceled = events.TypeSubscriptionCanceled
	)
	e := engineWith(t,
		subEv(started, "2024-01-05T00:00:00Z", "H", "h1", 10, "month"),
		subEv(started, "2024-02-02T00:00:00Z", "H", "h2", 15, "month"),
		subEv(canceled, "2024-03-10T00:00:00Z", "H", "h1", 0, ""),
		subEv(canceled, "2024-04-10T00:00:00Z", "H", "h2", 0, ""))
	checkMonthly(t, e, "2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z", map[string][]string{
		"mrr":                 {"10.00", "25.00", "15.00", "0.00"},
		"mrr_new":             {"10.00", "0.00", "0.00", "0.00"},
		"mrr_expansion":       {"0.00", "15.00", "0.00", "0.00"},
		"mrr_contraction":     {"0.00", "0.00", "10.00", "0.00"},
		"mrr_churned":         {"0.00", "0.00", "0.00", "15.00"},
		"customer_churn_rate": {"null", "0", "0", "100"},
	})
}
