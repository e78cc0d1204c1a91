package queries

import (
	"testing"

	"github.com/kpi-analytics/kpi/events"
)

// TestUtilisation: ana logs 6.5 billable and 1.5 other hours, bob 2.5 and
// 2.5.
func TestUtilisation(t *testing.T) {
	logged := func(person, team string, hours float64, billable bool) events.Event {
		return ev(events.TypeTimeLogged, "2024-02-12T09:00:00Z", func(e *events.Event) {
			e.Person, e.Team, e.Hours, e.Billable = person, team, micros(hours), billable
		})
	}
	e := engineWith(t, logged("ana", "design", 6.5, true), logged("ana", "design", 1.5, false),
		logged("bob", "ops", 2.5, true), logged("bob", "ops", 2.5, false))
	checkOne(t, e, feb, []kpiCase{
		{"hours_logged", "13.00"},
		{"billable_hours", "9.00"},
		{"utilisation_rate", "69.230769"},
	})
	if got := byGroup(t, e, feb("utilisation_rate"), DimPerson); got["ana"] != "81.25" ||
		got["bob"] != "50" {
		t.Errorf("utilisation by person = %v, want ana 81.25, bob 50", got)
	}
	if got := byGroup(t, e, feb("utilisation_rate"), DimTeam); got["design"] != "81.25" {
		t.Errorf("utilisation by team = %v, want design 81.25", got)
	}
	e = engineWith(t)
	checkOne(t, e, feb, []kpiCase{{"utilisation_rate", "null"}, {"hours_logged", "0.00"}})
}

// TestProjectVariance: site was estimated at 100 h / 8000, re-estimated at
// 120 h / 9000, and took 150 h / 10800; app was estimated at 50 h / 4000
// and took 40 h / 4400. old finished in January; noest has no estimate,
// so it counts in the actuals but not in the variances.
func TestProjectVariance(t *testing.T) {
	p := func(typ events.Type, when, project string, hours, amount float64) events.Event {
		return ev(typ, when, func(e *events.Event) {
			e.Project, e.Hours, e.Amount, e.Currency = project, micros(hours), micros(amount), "EUR"
		})
	}
	est, done := events.TypeProjectEstimate, events.TypeProjectCompleted
	e := engineWith(t,
		p(est, "2024-01-02T00:00:00Z", "site", 100, 8000),
		p(est, "2024-01-20T00:00:00Z", "site", 120, 9000),
		p(done, "2024-02-20T00:00:00Z", "site", 150, 10800),
		p(est, "2024-01-05T00:00:00Z", "app", 50, 4000),
		p(done, "2024-02-25T00:00:00Z", "app", 40, 4400),
		p(est, "2023-12-01T00:00:00Z", "old", 10, 100),
		p(done, "2024-01-25T00:00:00Z", "old", 10, 100),
		p(done, "2024-02-25T00:00:00Z", "noest", 10, 100))
	checkOne(t, e, feb, []kpiCase{
		{"project_hours_estimated", "170.00"},
		{"project_hours_actual", "200.00"},
		{"project_hours_variance", "11.764706"},
		{"project_cost_estimated", "13000.00"},
		{"project_cost_actual", "15300.00"},
		{"project_cost_variance", "16.923077"},
	})
	got := byGroup(t, e, feb("project_hours_variance"), DimProject)
	if got["site"] != "25" || got["app"] != "-20" || got["noest"] != "null" || len(got) != 3 {
		t.Errorf("hours variance by project = %v, want site 25, app -20, noest null", got)
	}
	e = engineWith(t, p(done, "2024-02-25T00:00:00Z", "noest", 10, 100))
	checkOne(t, e, feb, []kpiCase{{"project_cost_variance", "null"},
		{"project_cost_actual", "100.00"}, {"project_hours_estimated", "0.00"}})

	// A second completion corrects the first and moves the project to its
	// window: "fix" counts in March with 15 hours, not in February with 12.
	e = engineWith(t, p(est, "2024-01-02T00:00:00Z", "fix", 10, 0),
		p(done, "2024-02-10T00:00:00Z", "fix", 12, 0), p(done, "2024-03-10T00:00:00Z", "fix", 15, 0))
	checkOne(t, e, feb, []kpiCase{{"project_hours_actual", "0.00"}})
	march := func(kpi string) Request {
		return Request{KPI: kpi, From: at("2024-03-01T00:00:00Z"), To: at("2024-04-01T00:00:00Z")}
	}
	checkOne(t, e, march, []kpiCase{{"project_hours_actual", "15.00"},
		{"project_hours_variance", "50"}})
}

// TestSurvey: scores 10, 9, 9, 8, 6 and 3: 3 promoters, 2 detractors.
func TestSurvey(t *testing.T) {
	var evs []events.Event
	for _, s := range []int64{10, 9, 9, 8, 6, 3} {
		evs = append(evs, ev(events.TypeSurveyResponse, "2024-02-14T00:00:00Z",
			func(e *events.Event) { e.Score, e.Team = s, "ops" }))
	}
	e := engineWith(t, evs...)
	checkOne(t, e, feb, []kpiCase{
		{"survey_responses", "6"},
		{"enps", "16.666667"},
		{"satisfaction_score", "7.5"},
	})
	e = engineWith(t)
	checkOne(t, e, feb, []kpiCase{{"enps", "null"}, {"satisfaction_score", "null"}})
}
