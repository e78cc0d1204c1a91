package queries

import (
	"context"
	"fmt"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/projections"
)

var (
	srcTime = &source{name: "time logged", dims: []string{DimTenant, DimPerson, DimTeam,
		DimProject}, run: flow{types: []events.Type{events.TypeTimeLogged},
		keys: []string{"billable"}, aggs: []string{"sum(hours)"}, cols: []col{
			{sql: "sum(a1)", m: mHours}, {sql: "sumIf(a1, billable = 1)", m: mBillableHours}}}.run}
	srcSurvey = &source{name: "survey responses", dims: []string{DimTenant, DimTeam},
		run: flow{types: []events.Type{events.TypeSurveyResponse}, keys: []string{"score"},
			aggs: []string{"count()"}, cols: []col{
				{sql: "sum(a1)", m: mResponses}, {sql: "sumIf(a1, score >= 9)", m: mPromoters},
				{sql: "sumIf(a1, score <= 6)", m: mDetractors},
				{sql: "sum(a1 * score)", m: mScoreSum}}}.run}
	srcProjects = &source{name: "projects", dims: []string{DimTenant, DimProject},
		run: runProjects}
)

// runProjects compares, for each project completed in the window, the
// latest estimate with the actuals. A project counts once, in the window
// of its latest project_completed: a second one corrects the first. The
// actuals count every completed project; the variances compare only those
// with an estimate, so a project without one changes neither side. Costs
// are in the completion's currency, or the estimate's when the completion
// has no amount; both should be in the same currency.
func runProjects(ctx context.Context, q *query) error {
	sql := fmt.Sprintf(`SELECT %[1]s AS ws%[2]s, if(c.cur != '', c.cur, e.cur) AS currency,
	count(), sum(e.h), sum(c.h), sum(e.amt), sum(c.amt),
	sumIf(c.h, e.estimated = 1), sumIf(c.amt, e.estimated = 1)
FROM (
	SELECT tenant, project, max(occurred_at) AS done,
		argMax((hours, amount, currency), %[5]s) AS st, st.1 AS h, st.2 AS amt, st.3 AS cur
	FROM %[3]s.events WHERE type = 'project_completed' AND %[6]s%[4]s
	GROUP BY tenant, project
) AS c
LEFT JOIN (
	SELECT tenant, project, toUInt8(1) AS estimated,
		argMax((hours, amount, currency), %[5]s) AS st, st.1 AS h, st.2 AS amt, st.3 AS cur
	FROM %[3]s.events WHERE type = 'project_estimate' AND %[6]s%[4]s
	GROUP BY tenant, project
) AS e ON c.tenant = e.tenant AND c.project = e.project
WHERE c.done >= {from:DateTime64(3, 'UTC')} AND c.done < {to:DateTime64(3, 'UTC')}
GROUP BY ws%[2]s, currency`, windowExpr(q.req, "c.done"),
		prefixed(qualified("c", q.req.GroupBy)), q.e.db, dimFilters(q.req), latest,
		projections.Catalogue.Filter)
	res, err := q.e.wh.Query(ctx, sql, q.params())
	if err != nil {
		return err
	}
	return q.collect(res, layout{currency: true, cols: []col{{m: mProjects},
		{m: mEstimatedHours}, {m: mActualHours}, {m: mEstimatedCost, money: true},
		{m: mActualCost, money: true}, {m: mEstimatedProjectHours},
		{m: mEstimatedProjectCost, money: true}}})
}

// variance is (actual − estimate) / estimate × 100.
func variance(actual, estimate measure) func(*measures) value {
	return func(m *measures) value {
		return percent(minus(m.get(actual), m.get(estimate)), m.get(estimate))
	}
}

var projectTypes = types("project_estimate", "project_completed")

// projectKPI fills in what every KPI of the projects source shares.
func projectKPI(k KPI) KPI {
	k.Category, k.EventTypes, k.sources = CategoryPeople, projectTypes, []*source{srcProjects}
	return k
}

var peopleKPIs = []KPI{
	projectKPI(KPI{Name: "project_hours_estimated", Description: "Estimated hours of the " +
		"projects completed in the window (latest estimate per project, even one made after " +
		"the completion).",
		Formula: "Σ hours of the latest project_estimate", Unit: UnitHours,
		compute: hoursOf(mEstimatedHours)}),
	projectKPI(KPI{Name: "project_hours_actual", Description: "Hours the projects " +
		"completed in the window took, estimated or not; a project counts in the window of " +
		"its latest completion.", Formula: "Σ hours of the latest project_completed",
		Unit: UnitHours, compute: hoursOf(mActualHours)}),
	projectKPI(KPI{Name: "project_hours_variance", Description: "Duration overrun of the " +
		"projects completed in the window, per project with group_by=project.",
		Formula: "(actual − estimated hours) / estimated hours × 100, over the projects " +
			"with an estimate", Unit: UnitPercent,
		compute: variance(mEstimatedProjectHours, mEstimatedHours)}),
	projectKPI(KPI{Name: "project_cost_estimated", Description: "Estimated cost of the " +
		"projects completed in the window.", Formula: "Σ amount of the latest project_estimate",
		Unit: UnitMoney, compute: moneyOf(mEstimatedCost)}),
	projectKPI(KPI{Name: "project_cost_actual", Description: "Actual cost of the projects " +
		"completed in the window.", Formula: "Σ amount of the latest project_completed",
		Unit: UnitMoney, compute: moneyOf(mActualCost)}),
	projectKPI(KPI{Name: "project_cost_variance", Description: "Cost overrun of the " +
		"projects completed in the window.",
		Formula: "(actual − estimated cost) / estimated cost × 100, over the projects " +
			"with an estimate", Unit: UnitPercent,
		money: true, compute: variance(mEstimatedProjectCost, mEstimatedCost)}),
	{Name: "hours_logged", Category: CategoryPeople, Description: "Hours worked, as logged.",
		Formula: "sum(hours) of time_logged", Unit: UnitHours, HigherIsBetter: true,
		EventTypes: types("time_logged"), sources: []*source{srcTime}, compute: hoursOf(mHours)},
	{Name: "billable_hours", Category: CategoryPeople, Description: "Hours logged as billable.",
		Formula: "sum(hours) of time_logged with billable", Unit: UnitHours, HigherIsBetter: true,
		EventTypes: types("time_logged"), sources: []*source{srcTime},
		compute: hoursOf(mBillableHours)},
	{Name: "utilisation_rate", Category: CategoryPeople, Description: "Share of hours " +
		"worked that are billable, per person or team with group_by.",
		Formula: "billable hours / hours logged × 100", Unit: UnitPercent, HigherIsBetter: true,
		EventTypes: types("time_logged"), sources: []*source{srcTime},
		compute: percentOf(mBillableHours, mHours)},
	{Name: "enps", Category: CategoryPeople, Description: "Employee net promoter score: " +
		"promoters answer 9 or 10, detractors 0 to 6.",
		Formula: "(promoters − detractors) / responses × 100", Unit: UnitScore,
		HigherIsBetter: true, EventTypes: types("survey_response"), sources: []*source{srcSurvey},
		compute: func(m *measures) value {
			return percent(minus(m.get(mPromoters), m.get(mDetractors)), m.get(mResponses))
		}},
	{Name: "satisfaction_score", Category: CategoryPeople, Description: "Average survey " +
		"score, 0 to 10.", Formula: "sum(score) / responses", Unit: UnitScore,
		HigherIsBetter: true, EventTypes: types("survey_response"), sources: []*source{srcSurvey},
		compute: func(m *measures) value { return ratio(m.get(mScoreSum), m.get(mResponses)) }},
	{Name: "survey_responses", Category: CategoryPeople, Description: "Survey responses.",
		Formula: "count of survey_response", Unit: UnitCount, HigherIsBetter: true,
		EventTypes: types("survey_response"), sources: []*source{srcSurvey},
		compute: countOf(mResponses)},
}
