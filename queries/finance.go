package queries

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/projections"
)

// SalesMarketingCategories are the expense categories that count as sales
// and marketing costs in cac, next to ad spend (cost events).
var SalesMarketingCategories = []string{"marketing", "sales"}

var (
	srcRevenue = &source{name: "revenue", dims: []string{DimTenant, DimCurrency}, run: flow{
		types:    []events.Type{events.TypeInvoicePaid, events.TypeRefund},
		currency: true,
		aggs:     []string{"sum(amount)"},
		cols: []col{{sql: "sumIf(a1, type = 'invoice_paid')", m: mInvoiced, money: true},
			{sql: "sumIf(a1, type = 'refund')", m: mRefunded, money: true}}}.run}
	srcExpenses = &source{name: "expenses",
		dims: []string{DimTenant, DimCurrency, DimCategory, DimProject, DimTeam}, run: flow{
			types: []events.Type{events.TypeExpense}, currency: true,
			keys: []string{"category"}, aggs: []string{"sum(amount)"},
			cols: []col{{sql: "sum(a1)", m: mExpenses, money: true},
				{sql: "sumIf(a1, category IN (" + quoted(SalesMarketingCategories) + "))",
					m: mSalesMarketing, money: true}}}.run}
	srcRevenueToDate = &source{name: "revenue to date", dims: []string{DimTenant},
		run: runRevenueToDate}
)

// runRevenueToDate sums, at each window's end, the net revenue and counts
// the paying customers of all time up to it. The inner query sums per
// customer and point (point p holds the events between bound p and bound
// p+1); each window's end then takes the points before it.
func runRevenueToDate(ctx context.Context, q *query) error {
	for _, c := range []struct {
		currency bool
		agg      string
		m        measure
	}{
		{true, "sumIf(s, type = 'invoice_paid') - sumIf(s, type = 'refund')", mNetRevenueToDate},
		{false, "uniqExactIf(customer, type = 'invoice_paid' AND mx > 0)", mPayersToDate},
	} {
		keys := groupColumns(q.req.GroupBy)
		if c.currency {
			keys = append(keys, "currency")
		}
		sql := fmt.Sprintf(`WITH {bounds:Array(DateTime64(3, 'UTC'))} AS bounds
SELECT toInt64(bi) - 2 AS wi%[1]s, %[2]s
FROM (
	SELECT tenant, type, currency, customer, arrayCount(b -> b <= %[5]s, bounds) AS p,
		sum(amount) AS s, max(amount) AS mx
	FROM %[3]s.events
	WHERE type IN ('invoice_paid', 'refund') AND %[6]s AND %[5]s < bounds[-1]%[4]s
	GROUP BY tenant, type, currency, customer, p
)
ARRAY JOIN arrayEnumerate(bounds) AS bi
WHERE bi >= 2 AND p < bi
GROUP BY wi%[1]s`, prefixed(keys), c.agg, q.e.db, dimFilters(q.req), q.timeKey(),
			projections.Catalogue.Filter)
		res, err := q.e.wh.Query(ctx, sql, q.boundParams())
		if err != nil {
			return err
		}
		l := layout{byIndex: true, currency: c.currency,
			cols: []col{{m: c.m, money: c.currency}}}
		if err := q.collect(res, l); err != nil {
			return err
		}
	}
	return nil
}

// netRevenue is invoices paid minus refunds in the window.
func netRevenue(m *measures) *big.Rat { return minus(m.get(mInvoiced), m.get(mRefunded)) }

// totalExpenses is expense events plus ad spend.
func totalExpenses(m *measures) *big.Rat { return add(m.get(mExpenses), m.get(mSpend)) }

var profitSources = []*source{srcRevenue, srcExpenses, srcAds}

var financeKPIs = []KPI{
	{Name: "revenue", Category: CategoryFinancial, Description: "Net revenue collected.",
		Formula: "sum(amount) of invoice_paid − sum(amount) of refund", Unit: UnitMoney,
		HigherIsBetter: true, EventTypes: types("invoice_paid", "refund"),
		sources: []*source{srcRevenue}, compute: func(m *measures) value { return money(netRevenue(m)) }},
	{Name: "gross_sales", Category: CategoryFinancial, Description: "Invoices paid, " +
		"before refunds.", Formula: "sum(amount) of invoice_paid", Unit: UnitMoney,
		HigherIsBetter: true, EventTypes: types("invoice_paid"), sources: []*source{srcRevenue},
		compute: moneyOf(mInvoiced)},
	{Name: "expenses", Category: CategoryFinancial, Description: "Total expenses: expense " +
		"events and ad spend (do not also send ad spend as expense events).",
		Formula: "sum(amount) of expense + sum(amount) of cost", Unit: UnitMoney,
		EventTypes: types("expense", "cost"), sources: []*source{srcExpenses, srcAds},
		compute: func(m *measures) value { return money(totalExpenses(m)) }},
	{Name: "net_profit_margin", Category: CategoryFinancial,
		Description: "Share of net revenue left after all expenses.",
		Formula:     "(revenue − expenses) / revenue × 100", Unit: UnitPercent,
		HigherIsBetter: true, money: true,
		EventTypes: types("invoice_paid", "refund", "expense", "cost"), sources: profitSources,
		compute: func(m *measures) value {
			return percent(minus(netRevenue(m), totalExpenses(m)), netRevenue(m))
		}},
	{Name: "bottom_line", Category: CategoryPeople,
		Description: "Bottom-line profitability: gross sales minus total expenses.",
		Formula:     "gross_sales − expenses", Unit: UnitMoney, HigherIsBetter: true,
		EventTypes: types("invoice_paid", "expense", "cost"), sources: profitSources,
		compute: func(m *measures) value { return money(minus(m.get(mInvoiced), totalExpenses(m))) }},
	{Name: "cac", Category: CategoryClient,
		Description: "Customer acquisition cost: sales and marketing costs (ad spend, and " +
			"expenses in categories " + strings.Join(SalesMarketingCategories, ", ") +
			") per customer acquired (new_customers) in the window.",
		Formula: "(spend + sales and marketing expenses) / new customers", Unit: UnitMoney,
		EventTypes: append(types("cost", "expense"), billingTypes...),
		sources:    []*source{srcAds, srcExpenses, srcBilling},
		compute: func(m *measures) value {
			return moneyRatio(add(m.get(mSpend), m.get(mSalesMarketing)), m.get(mNewCustomers))
		}},
	{Name: "clv_historical", Category: CategoryClient,
		Description: "Historical customer lifetime value: net revenue per paying customer " +
			"from the first event up to the window's end.",
		Formula: "Σ invoice_paid − Σ refund to date / customers with a paid invoice to date",
		Unit:    UnitMoney, HigherIsBetter: true, EventTypes: types("invoice_paid", "refund"),
		sources: []*source{srcRevenueToDate},
		compute: func(m *measures) value {
			return moneyRatio(m.get(mNetRevenueToDate), m.get(mPayersToDate))
		}},
}

// quoted renders constant strings (no quotes or backslashes) as a SQL list.
func quoted(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = "'" + s + "'"
	}
	return strings.Join(parts, ", ")
}
