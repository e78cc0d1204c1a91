package queries

import (
	"context"
	"fmt"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/projections"
)

// Funnel counts are distinct leads per window: a lead qualified twice in a
// window counts once, and each step is counted in the window it happened
// in, so rates between steps compare the flows of one period.

var (
	srcFunnel = &source{name: "funnel", dims: []string{DimTenant}, run: flow{
		types: []events.Type{events.TypeLeadCreated, events.TypeLeadQualified,
			events.TypeOpportunityCreated, events.TypeDealWon, events.TypeDealLost},
		// Only qualifications are told apart by stage, so each step is one
		// inner row and its distinct leads are not summed over stages.
		keys: []string{"if(type = 'lead_qualified', stage, '') AS step_stage"},
		aggs: []string{"uniqExact(lead)"},
		cols: []col{
			{sql: "sumIf(a1, type = 'lead_created')", m: mLeads},
			{sql: "sumIf(a1, type = 'lead_qualified' AND step_stage = 'mql')", m: mMQLs},
			{sql: "sumIf(a1, type = 'lead_qualified' AND step_stage = 'sql')", m: mSQLs},
			{sql: "sumIf(a1, type = 'opportunity_created')", m: mOpportunities},
			{sql: "sumIf(a1, type = 'deal_won')", m: mDealsWon},
			{sql: "sumIf(a1, type = 'deal_lost')", m: mDealsLost}}}.run}
	srcUpsell = &source{name: "upsells", dims: []string{DimTenant, DimPlan, DimCampaign},
		run: flow{types: []events.Type{events.TypeUpsellOffered, events.TypeUpsellAccepted},
			aggs: []string{"count()"},
			cols: []col{{sql: "sumIf(a1, type = 'upsell_offered')", m: mUpsellOffered},
				{sql: "sumIf(a1, type = 'upsell_accepted')", m: mUpsellAccepted}}}.run}
	srcAttendance = &source{name: "event attendance",
		dims: []string{DimTenant, DimEventName, DimCampaign, DimChannel}, run: flow{
			types: []events.Type{events.TypeEventRegistration, events.TypeEventAttendance},
			aggs:  []string{"sum(count)"},
			cols: []col{{sql: "sumIf(a1, type = 'event_registration')", m: mRegistrations},
				{sql: "sumIf(a1, type = 'event_attendance')", m: mAttendees}}}.run}
	srcEventCustomers = &source{name: "customers acquired at events",
		dims: []string{DimTenant, DimEventName}, run: runEventCustomers}
)

// runEventCustomers counts, per event name, the attendees whose first paid
// subscription event came at or after their attendance and within the
// window; the customer counts in the window they started paying.
func runEventCustomers(ctx context.Context, q *query) error {
	sql := fmt.Sprintf(`SELECT %[1]s AS ws%[2]s, uniqExact(a.customer)
FROM (
	SELECT tenant, customer, event_name, min(occurred_at) AS attended
	FROM %[3]s.events
	WHERE type = 'event_attendance' AND %[5]s AND customer != ''%[4]s
	GROUP BY tenant, customer, event_name
) AS a
INNER JOIN (
	SELECT tenant, customer, minIf(occurred_at, amount > 0) AS first_paid
	FROM %[3]s.events
	WHERE type IN ('subscription_started', 'subscription_changed') AND %[6]s
	GROUP BY tenant, customer
	HAVING max(amount) > 0
) AS p ON a.tenant = p.tenant AND a.customer = p.customer
WHERE p.first_paid >= a.attended AND p.first_paid >= {from:DateTime64(3, 'UTC')}
	AND p.first_paid < {to:DateTime64(3, 'UTC')}
GROUP BY ws%[2]s`, windowExpr(q.req, "p.first_paid"), prefixed(qualified("a", q.req.GroupBy)),
		q.e.db, dimFilters(q.req), projections.Catalogue.Filter, projections.Subscriptions.Filter)
	res, err := q.e.wh.Query(ctx, sql, q.params())
	if err != nil {
		return err
	}
	return q.collect(res, layout{cols: []col{{m: mAcquiredAtEvents}}})
}

// qualified prefixes group-by columns with a table alias.
func qualified(alias string, dims []string) []string {
	cols := groupColumns(dims)
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return cols
}

var funnelTypes = types("lead_created", "lead_qualified", "opportunity_created", "deal_won",
	"deal_lost")

// funnelKPI fills in what every KPI of the funnel source shares.
func funnelKPI(k KPI) KPI {
	if k.Category == "" {
		k.Category = CategoryMarketing
	}
	k.EventTypes, k.sources = funnelTypes, []*source{srcFunnel}
	return k
}

var funnelKPIs = []KPI{
	{Name: "conversion_rate", Category: CategoryClient,
		Description: "Conversion rate between two steps; this default is clicks to " +
			"conversions. Named variants: conversion_rate_signup_paid, " +
			"conversion_rate_lead_deal, conversion_rate_visit_signup.",
		Formula: "conversions / clicks × 100", Unit: UnitPercent, HigherIsBetter: true,
		EventTypes: types("conversion", "click"), sources: []*source{srcAds},
		compute: percentOf(mConversions, mClicks)},
	{Name: "conversion_rate_signup_paid", Category: CategoryClient,
		Description: "Customers who started paying for the first time, per sign-up, in " +
			"the same window.", Formula: "new_customers / signups × 100", Unit: UnitPercent,
		HigherIsBetter: true, EventTypes: append(types("signup"), billingTypes...),
		sources: []*source{srcAds, srcBilling}, compute: percentOf(mNewCustomers, mSignups)},
	funnelKPI(KPI{Name: "conversion_rate_lead_deal", Category: CategoryClient,
		Description: "Deals won per lead created in the same window.",
		Formula:     "deals_won / leads × 100", Unit: UnitPercent, HigherIsBetter: true,
		compute: percentOf(mDealsWon, mLeads)}),
	{Name: "conversion_rate_visit_signup", Category: CategoryClient,
		Description: "Sign-ups per web session (visit) in the same window.",
		Formula:     "signups / sessions × 100", Unit: UnitPercent, HigherIsBetter: true,
		EventTypes: types("page_view", "signup"), sources: []*source{srcWeb, srcAds},
		compute: percentOf(mSignups, mSessions)},
	{Name: "upsell_rate", Category: CategoryClient,
		Description: "Share of upsell offers accepted.",
		Formula:     "upsell_accepted events / upsell_offered events × 100", Unit: UnitPercent,
		HigherIsBetter: true, EventTypes: types("upsell_offered", "upsell_accepted"),
		sources: []*source{srcUpsell}, compute: percentOf(mUpsellAccepted, mUpsellOffered)},
	{Name: "event_registrations", Category: CategoryClient,
		Description: "Registrations for events (webinars, fairs, meetups).",
		Formula:     "sum(count) of event_registration", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("event_registration"), sources: []*source{srcAttendance},
		compute: countOf(mRegistrations)},
	{Name: "event_attendees", Category: CategoryClient, Description: "Event attendees.",
		Formula: "sum(count) of event_attendance", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("event_attendance"), sources: []*source{srcAttendance},
		compute: countOf(mAttendees)},
	{Name: "event_attendance_rate", Category: CategoryClient,
		Description: "Share of registrations that attended, both counted in the window.",
		Formula:     "attendees / registrations × 100", Unit: UnitPercent, HigherIsBetter: true,
		EventTypes: types("event_registration", "event_attendance"),
		sources:    []*source{srcAttendance}, compute: percentOf(mAttendees, mRegistrations)},
	{Name: "event_customers_acquired", Category: CategoryClient,
		Description: "Attendees (by customer id) whose first paid subscription started " +
			"in the window, at or after they attended; per event with group_by=event_name.",
		Formula: "distinct attendees whose first paid subscription event is in the window " +
			"and not before their attendance", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("event_attendance", "subscription_started", "subscription_changed"),
		sources:    []*source{srcEventCustomers}, compute: countOf(mAcquiredAtEvents)},
	funnelKPI(KPI{Name: "leads", Description: "Leads created.",
		Formula: "distinct leads of lead_created", Unit: UnitCount, HigherIsBetter: true,
		compute: countOf(mLeads)}),
	funnelKPI(KPI{Name: "mqls", Description: "Leads qualified by marketing (stage mql).",
		Formula: "distinct leads of lead_qualified with stage mql", Unit: UnitCount,
		HigherIsBetter: true, compute: countOf(mMQLs)}),
	funnelKPI(KPI{Name: "sqls", Description: "Leads qualified by sales (stage sql).",
		Formula: "distinct leads of lead_qualified with stage sql", Unit: UnitCount,
		HigherIsBetter: true, compute: countOf(mSQLs)}),
	funnelKPI(KPI{Name: "mql_to_sql_rate", Description: "SQLs per MQL in the same window.",
		Formula: "sqls / mqls × 100", Unit: UnitPercent, HigherIsBetter: true,
		compute: percentOf(mSQLs, mMQLs)}),
	funnelKPI(KPI{Name: "mql_sql_gap", Description: "MQLs that sales did not (yet) " +
		"qualify: the gap between the two counts.", Formula: "mqls − sqls", Unit: UnitCount,
		compute: func(m *measures) value { return count(minus(m.get(mMQLs), m.get(mSQLs))) }}),
	funnelKPI(KPI{Name: "opportunities", Description: "Opportunities created.",
		Formula: "distinct leads of opportunity_created", Unit: UnitCount,
		HigherIsBetter: true, compute: countOf(mOpportunities)}),
	funnelKPI(KPI{Name: "lead_to_opportunity_rate", Description: "Opportunities created " +
		"per lead created in the same window.", Formula: "opportunities / leads × 100",
		Unit: UnitPercent, HigherIsBetter: true, compute: percentOf(mOpportunities, mLeads)}),
	funnelKPI(KPI{Name: "deals_won", Description: "Deals won.",
		Formula: "distinct leads of deal_won", Unit: UnitCount, HigherIsBetter: true,
		compute: countOf(mDealsWon)}),
	funnelKPI(KPI{Name: "deals_lost", Description: "Deals lost.",
		Formula: "distinct leads of deal_lost", Unit: UnitCount, compute: countOf(mDealsLost)}),
}
