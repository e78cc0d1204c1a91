package queries

import (
	"testing"

	"github.com/kpi-analytics/kpi/events"
)

func paidEv(typ events.Type, when, customer string, amount float64) events.Event {
	return ev(typ, when, func(e *events.Event) {
		e.Customer, e.Amount, e.Currency = customer, micros(amount), "EUR"
	})
}

func expenseEv(when, category string, amount float64) events.Event {
	return ev(events.TypeExpense, when, func(e *events.Event) {
		e.Category, e.Amount, e.Currency = category, micros(amount), "EUR"
	})
}

// TestFinanceWorkedByHand: in February P1 pays 1000 and P2 500, P1 gets
// 100 back; expenses are 200 marketing, 300 payroll and 100 of ad spend;
// two customers start paying. In January P1 paid 300.
func TestFinanceWorkedByHand(t *testing.T) {
	cost := withMoney(ad("cost", "2024-02-03T00:00:00Z", "c1", 1), 100e6, "EUR")
	start := func(c string) events.Event {
		return ev(events.TypeSubscriptionStarted, "2024-02-04T00:00:00Z", func(e *events.Event) {
			e.Customer, e.Subscription, e.Amount, e.Currency = c, c, 50e6, "EUR"
		})
	}
	e := engineWith(t,
		paidEv(events.TypeInvoicePaid, "2024-01-10T00:00:00Z", "P1", 300),
		paidEv(events.TypeInvoicePaid, "2024-02-10T00:00:00Z", "P1", 1000),
		paidEv(events.TypeInvoicePaid, "2024-02-11T00:00:00Z", "P2", 500),
		paidEv(events.TypeRefund, "2024-02-12T00:00:00Z", "P1", 100),
		expenseEv("2024-02-01T00:00:00Z", "marketing", 200),
		expenseEv("2024-02-28T23:59:59Z", "payroll", 300),
		cost, start("N1"), start("N2"))
	checkOne(t, e, feb, []kpiCase{
		{"revenue", "1400.00"},
		{"gross_sales", "1500.00"},
		{"expenses", "600.00"},
		{"net_profit_margin", "57.142857"}, // (1400 − 600) / 1400
		{"bottom_line", "900.00"},          // 1500 − 600
		{"cac", "150.00"},                  // (100 + 200) / 2
		{"clv_historical", "850.00"},       // (300 + 1500 − 100) / 2 payers
		{"roi", "-100"},                    // no conversion value for 100 spent
	})
	req := feb("expenses")
	req.Filters = map[string]string{DimCurrency: "EUR"}
	if got := text(run(t, e, req).Rows[0].value); got != "600.00" {
		t.Errorf("expenses in EUR = %s, want 600.00", got)
	}
	cats := byGroup(t, e, feb("expenses"), DimTenant)
	if cats["acme"] != "600.00" {
		t.Errorf("expenses by tenant = %v, want acme 600.00", cats)
	}
}

// TestHistoricalCLVByMonth: value to date at each month's end.
func TestHistoricalCLVByMonth(t *testing.T) {
	e := engineWith(t,
		paidEv(events.TypeInvoicePaid, "2024-01-10T00:00:00Z", "P1", 300),
		paidEv(events.TypeInvoicePaid, "2024-02-10T00:00:00Z", "P2", 500),
		paidEv(events.TypeRefund, "2024-03-12T00:00:00Z", "P1", 100))
	ans := run(t, e, Request{KPI: "clv_historical", From: at("2023-12-01T00:00:00Z"),
		To: at("2024-04-01T00:00:00Z"), Window: WindowMonth})
	want := []string{"null", "300.00", "400.00", "350.00"}
	for i, r := range ans.Rows {
		if got := text(r.value); got != want[i] {
			t.Errorf("month %d: got %s, want %s", i, got, want[i])
		}
	}
}

func TestFinanceZeroDenominators(t *testing.T) {
	e := engineWith(t, expenseEv("2024-02-01T00:00:00Z", "sales", 10))
	checkOne(t, e, feb, []kpiCase{
		{"net_profit_margin", "null"},
		{"cac", "null"},
		{"clv_historical", "null"},
		{"roi", "null"},
		{"bottom_line", "-10.00"},
	})
}

// TestSpendConverts: 10 EUR and 10.705 USD of ad spend are 20 EUR at the
// ECB rate of 1.0705 USD per EUR.
func TestSpendConverts(t *testing.T) {
	e := engineWith(t, withMoney(ad("cost", "2024-02-01T00:00:00Z", "c", 1), 10e6, "EUR"),
		withMoney(ad("cost", "2024-02-02T00:00:00Z", "c", 1), 10_705_000, "USD"))
	req := feb("spend")
	req.ConvertTo = "EUR"
	if got := text(run(t, e, req).Rows[0].value); got != "20.00" {
		t.Errorf("spend in EUR = %s, want 20.00", got)
	}
}
