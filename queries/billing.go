package queries

import (
	"context"
	"fmt"
	"math/big"

	"github.com/kpi-analytics/kpi/projections"
)

// MRR follows the definitions of SaaS finance (ChartMogul's):
//
//   - A subscription's state at an instant is its latest subscription event
//     before it; its MRR is the amount, divided by 12 on yearly plans, while
//     it is not canceled. A customer's MRR is the sum over their
//     subscriptions. Trials (amount 0) carry no MRR; invoices and refunds
//     never move MRR.
//   - Movements of a window compare each customer's MRR at its start and at
//     its end: new (0 before, never paid before the window), reactivation (0
//     before, paid at some earlier time), expansion and contraction (paying
//     at both ends, more or less), churned (paying at the start, 0 at the
//     end). Net new MRR is their balance, which equals MRR at the end minus
//     MRR at the start. A customer who joins and leaves within one window
//     therefore moves nothing, and customer churn counts only customers who
//     paid at the window's start.
//   - With convert_to, every amount converts at one fixed rate (see
//     RatesSource), so a rate move is never a movement.

var srcBilling = &source{name: "billing", dims: []string{DimTenant}, run: runBilling}

// moveCols are the movement measures of billingSQL's columns after the
// point, the tenant and the two deltas, in order; its last column lists the
// currencies involved.
var moveCols = []measure{mChurnedCustomers, mChurnedMRR, mContractionMRR, mExpansionMRR,
	mNewMRR, mReactivationMRR, mNewCustomers, mReactivatedCustomers}

// twelvefold marks the columns of billingSQL that carry MRR times 12.
var twelvefold = map[measure]bool{mChurnedMRR: true, mContractionMRR: true,
	mExpansionMRR: true, mNewMRR: true, mReactivationMRR: true}

var twelve = big.NewRat(12, 1)

func runBilling(ctx context.Context, q *query) error {
	tenant, factor := "", ""
	if len(q.req.GroupBy) > 0 {
		tenant = ", tenant"
	}
	if q.fx != nil {
		factor = " * " + fxFactor("st.4")
	}
	sql := fmt.Sprintf(billingSQL, q.e.db, dimFilters(q.req), tenant, factor, latest,
		q.timeKey(), projections.Subscriptions.Filter)
	res, err := q.e.wh.Query(ctx, sql, q.boundParams())
	if err != nil {
		return err
	}
	return q.billingRows(res.Rows)
}

// billingSeries is one group's rows of billingSQL by point.
type billingSeries struct {
	dims []any
	rows map[int][]any
}

// billingRows turns billingSQL's sparse rows, one per point at which some
// customer's MRR may change, into every window's MRR and customers at both
// ends (running sums of the deltas) and its movements.
func (q *query) billingRows(rows [][]any) error {
	nd := len(q.req.GroupBy)
	series := map[string]*billingSeries{}
	var order []string
	for _, r := range rows {
		k := fmt.Sprint(r[1 : 1+nd])
		s, ok := series[k]
		if !ok {
			s = &billingSeries{dims: r[1 : 1+nd], rows: map[int][]any{}}
			series[k] = s
			order = append(order, k)
		}
		s.rows[int(r[0].(int64))] = r[1+nd:]
	}
	windows := len(q.bounds) - 1
	for _, k := range order {
		s := series[k]
		mrr, customers := new(big.Rat), new(big.Rat)
		started := false
		var curs []any
		for p := 0; p <= windows; p++ {
			startMRR, startCustomers := new(big.Rat).Set(mrr), new(big.Rat).Set(customers)
			r, ok := s.rows[p]
			if ok {
				started = true
				d, err := ratOf(r[0])
				if err != nil {
					return err
				}
				mrr.Add(mrr, d.Quo(d, twelve))
				if d, err = ratOf(r[1]); err != nil {
					return err
				}
				customers.Add(customers, d)
				list, _ := r[len(r)-1].([]any)
				curs = append(curs, list...)
			}
			if p == 0 || !started {
				continue
			}
			g := q.acc.group(p-1, s.dims)
			g.m.add(mMRRStart, startMRR)
			g.m.add(mMRREnd, mrr)
			g.m.add(mCustomersStart, startCustomers)
			g.m.add(mCustomersEnd, customers)
			if ok {
				for i, m := range moveCols {
					v, err := ratOf(r[2+i])
					if err != nil {
						return err
					}
					if twelvefold[m] {
						v.Quo(v, twelve)
					}
					g.m.add(m, v)
				}
			}
			if err := q.noteCurrencies(g, curs); err != nil {
				return err
			}
		}
	}
	return nil
}

// billingSQL finds, for each customer, the points at which their MRR may
// change, and their MRR there. Point 0 is the first bound (the state after
// every earlier event), point p ≥ 1 the end of window p (1-based): only a
// window in which one of the customer's subscriptions has an event can
// change their MRR, so the work grows with the events, not with customers
// times windows. Per point it returns the change of the total MRR and of
// the paying customers (running sums give every window's ends), and the
// window's movements from each customer's MRR before (m0) and after (m1)
// and whether they had paid before (paid0). MRR is carried twelvefold
// (a yearly amount as it is, a monthly one times 12) and divided by 12 in
// Go: dividing each yearly plan in SQL cut its share at 6 decimals, so
// twelve plans of 1000 a year summed to 999.999996.
//
// A subscription belongs to the customer of its first event. Array
// functions, not window functions, compute each subscription's deltas:
// the window functions made the query three times slower. The innermost
// query reads the latest state per subscription and point, which the
// subscriptions_30m projection holds per half hour. Verbs: 1 db, 2 filters,
// 3 group by tenant, 4 conversion factor, 5 the order of a subscription's
// events, 6 the time key, 7 the projection's filter.
const billingSQL = `WITH {bounds:Array(DateTime64(3, 'UTC'))} AS bounds
SELECT p%[3]s, sum(m1 - m0), sum(toInt64(m1 > 0) - toInt64(m0 > 0)),
	countIf(m0 > 0 AND m1 = 0), sumIf(m0, m0 > 0 AND m1 = 0),
	sumIf(m0 - m1, m0 > 0 AND m1 > 0 AND m1 < m0), sumIf(m1 - m0, m0 > 0 AND m1 > m0),
	sumIf(m1, m0 = 0 AND m1 > 0 AND NOT paid0), sumIf(m1, m0 = 0 AND m1 > 0 AND paid0),
	countIf(m0 = 0 AND m1 > 0 AND NOT paid0), countIf(m0 = 0 AND m1 > 0 AND paid0),
	groupUniqArrayArray(curs)
FROM (
	SELECT tenant, customer, pt.1 AS p, pt.2 AS m1, pt.3 AS m0, pt.4 AS paid0, curs
	FROM (
		SELECT tenant, customer, arraySort(groupArray((p, dm, paid))) AS pts,
			arrayCumSum(arrayMap(x -> x.2, pts)) AS ms,
			arrayCumSum(arrayMap(x -> x.3, pts)) AS paids,
			groupUniqArrayArray(curs) AS curs
		FROM (
			SELECT tenant, customer, p, sum(dm) AS dm, toUInt64(max(paid)) AS paid,
				groupUniqArrayArray(curs) AS curs
			FROM (
				SELECT tenant, subscription, argMin(cust, p) AS customer,
					arraySort(groupArray((p, m, paid, curs))) AS pts,
					arrayPopFront(arrayDifference(arrayPushFront(arrayMap(x -> x.2, pts), 0))) AS dms
				FROM (
					SELECT tenant, subscription,
						arrayCount(b -> b <= %[6]s, bounds) AS p,
						argMin(customer, %[5]s) AS cust,
						argMax((type, billing_interval, amount, currency), %[5]s) AS st,
						if(st.1 = 'subscription_canceled', 0, if(st.2 = 'year',
							toDecimal128(st.3, 6), toDecimal128(st.3, 6) * 12)%[4]s) AS m,
						max((type != 'subscription_canceled') AND (amount > 0)) AS paid,
						if(m > 0, [st.4], []) AS curs
					FROM %[1]s.events
					WHERE type IN ('subscription_started', 'subscription_changed',
							'subscription_canceled') AND %[7]s
						AND %[6]s < bounds[-1]%[2]s
					GROUP BY tenant, subscription, p
				)
				GROUP BY tenant, subscription
			)
			ARRAY JOIN arrayMap(x -> x.1, pts) AS p, dms AS dm, arrayMap(x -> x.3, pts) AS paid,
				arrayMap(x -> x.4, pts) AS curs
			GROUP BY tenant, customer, p
		)
		GROUP BY tenant, customer
	)
	ARRAY JOIN arrayZip(arrayMap(x -> x.1, pts), ms, arrayPushFront(arrayPopBack(ms), 0),
		arrayPushFront(arrayPopBack(arrayMap(c -> c > 0, paids)), 0)) AS pt
)
GROUP BY p%[3]s
ORDER BY p%[3]s`

var billingTypes = types("subscription_started", "subscription_changed",
	"subscription_canceled")

// billingKPI fills in what every KPI of the billing source shares.
func billingKPI(k KPI) KPI {
	if k.Category == "" {
		k.Category = CategoryFinancial
	}
	k.EventTypes, k.sources = billingTypes, []*source{srcBilling}
	return k
}

// arpa is MRR at the window's end per paying customer then.
func arpa(m *measures) *big.Rat { return quotient(m.get(mMRREnd), m.get(mCustomersEnd)) }

var billingKPIs = []KPI{
	billingKPI(KPI{Name: "mrr", Description: "Monthly recurring revenue at the window's end.",
		Formula: "sum of the monthly amount (yearly / 12) of subscriptions active at window end",
		Unit:    UnitMoney, HigherIsBetter: true, compute: moneyOf(mMRREnd)}),
	billingKPI(KPI{Name: "mrr_new", Description: "MRR of customers who started paying for " +
		"the first time in the window.", Formula: "Σ MRR at end of customers with none at " +
		"start who never paid before", Unit: UnitMoney, HigherIsBetter: true,
		compute: moneyOf(mNewMRR)}),
	billingKPI(KPI{Name: "mrr_expansion", Description: "MRR gained from customers who " +
		"paid at the window's start and pay more at its end.",
		Formula: "Σ (MRR at end − MRR at start) where both > 0 and end > start",
		Unit:    UnitMoney, HigherIsBetter: true, compute: moneyOf(mExpansionMRR)}),
	billingKPI(KPI{Name: "mrr_contraction", Description: "MRR lost from customers who " +
		"pay less at the window's end but still pay.",
		Formula: "Σ (MRR at start − MRR at end) where both > 0 and end < start",
		Unit:    UnitMoney, compute: moneyOf(mContractionMRR)}),
	billingKPI(KPI{Name: "mrr_churned", Description: "MRR of customers who paid at the " +
		"window's start and nothing at its end (their last subscription canceled).",
		Formula: "Σ MRR at start of customers with none at end", Unit: UnitMoney,
		compute: moneyOf(mChurnedMRR)}),
	billingKPI(KPI{Name: "mrr_reactivation", Description: "MRR of churned customers who " +
		"pay again: nothing at the window's start, paid at some earlier time.",
		Formula: "Σ MRR at end of customers with none at start who paid before",
		Unit:    UnitMoney, HigherIsBetter: true, compute: moneyOf(mReactivationMRR)}),
	billingKPI(KPI{Name: "net_new_mrr", Description: "Balance of the MRR movements.",
		Formula: "new + expansion + reactivation − contraction − churned " +
			"(= MRR at end − MRR at start)", Unit: UnitMoney, HigherIsBetter: true,
		compute: func(m *measures) value { return money(minus(m.get(mMRREnd), m.get(mMRRStart))) }}),
	billingKPI(KPI{Name: "new_customers", Category: CategoryClient,
		Description: "Customers acquired: paying for the first time in the window.",
		Formula:     "count of customers with MRR at end, none at start, who never paid before",
		Unit:        UnitCount, HigherIsBetter: true, compute: countOf(mNewCustomers)}),
	billingKPI(KPI{Name: "customer_churn_rate", Category: CategoryClient,
		Description: "Share of the customers paying at the window's start who pay nothing " +
			"at its end; customers who joined within the window are not counted.",
		Formula: "churned customers / customers at start × 100", Unit: UnitPercent,
		compute: percentOf(mChurnedCustomers, mCustomersStart)}),
	billingKPI(KPI{Name: "gross_mrr_churn", Category: CategoryClient,
		Description: "MRR lost in the window to cancellations and contractions.",
		Formula:     "churned MRR + contraction MRR (rate_percent: ÷ MRR at start × 100)",
		Unit:        UnitMoney, compute: func(m *measures) value {
			return withRate(add(m.get(mChurnedMRR), m.get(mContractionMRR)), m.get(mMRRStart))
		}}),
	billingKPI(KPI{Name: "net_mrr_churn", Category: CategoryClient,
		Description: "MRR lost net of what existing and returning customers added; " +
			"negative when expansion outgrows churn.",
		Formula: "churned + contraction − expansion − reactivation MRR " +
			"(rate_percent: ÷ MRR at start × 100)", Unit: UnitMoney,
		compute: func(m *measures) value {
			lost := add(m.get(mChurnedMRR), m.get(mContractionMRR))
			won := add(m.get(mExpansionMRR), m.get(mReactivationMRR))
			return withRate(minus(lost, won), m.get(mMRRStart))
		}}),
	billingKPI(KPI{Name: "arpu", Description: "Average revenue per paying customer at the " +
		"window's end (the same as arpa).", Formula: "MRR at end / customers at end",
		Unit: UnitMoney, HigherIsBetter: true,
		compute: func(m *measures) value { return moneyRatio(m.get(mMRREnd), m.get(mCustomersEnd)) }}),
	billingKPI(KPI{Name: "arpa", Description: "Average revenue per account: MRR per paying " +
		"customer at the window's end.", Formula: "MRR at end / customers at end",
		Unit: UnitMoney, HigherIsBetter: true,
		compute: func(m *measures) value { return moneyRatio(m.get(mMRREnd), m.get(mCustomersEnd)) }}),
	billingKPI(KPI{Name: "clv_predictive", Category: CategoryClient,
		Description: "Predicted lifetime value of a customer: ARPA over the customer churn " +
			"rate of the window (ask with window=month for a monthly rate).",
		Formula: "ARPA / (churned customers / customers at start)", Unit: UnitMoney,
		HigherIsBetter: true, compute: func(m *measures) value {
			a := arpa(m)
			if a == nil {
				return value{}
			}
			return moneyRatio(a, quotient(m.get(mChurnedCustomers), m.get(mCustomersStart)))
		}}),
}

// withRate is an amount with its share of base as rate_percent.
func withRate(amount, base *big.Rat) value {
	v := money(amount)
	v.Rate = percent(amount, base).Value
	return v
}
