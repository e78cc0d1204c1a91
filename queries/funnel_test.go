package queries

import (
	"testing"

	"github.com/kpi-analytics/kpi/events"
)

func leadEv(typ events.Type, when, lead, stage string) events.Event {
	return ev(typ, when, func(e *events.Event) { e.Lead, e.Stage = lead, stage })
}

// funnelEvents: four leads in February; l1 is qualified MQL twice (counted
// once), l1..l3 are MQLs, l1 and l2 SQLs, l1 and l2 opportunities, l1 won,
// l2 lost. A lead of January does not count in February.
func funnelEvents() []events.Event {
	const q = events.TypeLeadQualified
	return []events.Event{
		leadEv(events.TypeLeadCreated, "2024-01-30T00:00:00Z", "l0", ""),
		leadEv(events.TypeLeadCreated, "2024-02-01T00:00:00Z", "l1", ""),
		leadEv(events.TypeLeadCreated, "2024-02-02T00:00:00Z", "l2", ""),
		leadEv(events.TypeLeadCreated, "2024-02-03T00:00:00Z", "l3", ""),
		leadEv(events.TypeLeadCreated, "2024-02-04T00:00:00Z", "l4", ""),
		leadEv(q, "2024-02-05T00:00:00Z", "l1", "mql"),
		leadEv(q, "2024-02-06T00:00:00Z", "l1", "mql"),
		leadEv(q, "2024-02-05T00:00:00Z", "l2", "mql"),
		leadEv(q, "2024-02-05T00:00:00Z", "l3", "mql"),
		leadEv(q, "2024-02-08T00:00:00Z", "l1", "sql"),
		leadEv(q, "2024-02-08T00:00:00Z", "l2", "sql"),
		leadEv(events.TypeOpportunityCreated, "2024-02-09T00:00:00Z", "l1", ""),
		leadEv(events.TypeOpportunityCreated, "2024-02-09T00:00:00Z", "l2", ""),
		leadEv(events.TypeDealWon, "2024-02-20T00:00:00Z", "l1", ""),
		leadEv(events.TypeDealLost, "2024-02-21T00:00:00Z", "l2", ""),
	}
}

func TestFunnelWorkedByHand(t *testing.T) {
	e := engineWith(t, funnelEvents()...)
	checkOne(t, e, feb, []kpiCase{
		{"leads", "4"},
		{"mqls", "3"},
		{"sqls", "2"},
		{"mql_to_sql_rate", "66.666667"},
		{"mql_sql_gap", "1"},
		{"opportunities", "2"},
		{"lead_to_opportunity_rate", "50"},
		{"deals_won", "1"},
		{"deals_lost", "1"},
		{"conversion_rate_lead_deal", "25"},
	})
}

// TestLateEventLandsInItsWindow: an SQL qualification of February that
// arrives in March, after February was first queried, lands in February.
func TestLateEventLandsInItsWindow(t *testing.T) {
	e := engineWith(t, funnelEvents()...)
	if got := text(run(t, e, feb("sqls")).Rows[0].value); got != "2" {
		t.Fatalf("sqls before the late event = %s, want 2", got)
	}
	late := leadEv(events.TypeLeadQualified, "2024-02-10T00:00:00Z", "l3", "sql")
	late.ReceivedAt = at("2024-03-15T00:00:00Z")
	insert(t, e, 100, late)
	checkOne(t, e, feb, []kpiCase{{"sqls", "3"}, {"mql_to_sql_rate", "100"},
		{"mql_sql_gap", "0"}})
	march := feb("sqls")
	march.From, march.To = at("2024-03-01T00:00:00Z"), at("2024-04-01T00:00:00Z")
	if got := text(run(t, e, march).Rows[0].value); got != "0" {
		t.Errorf("sqls in March = %s, want 0", got)
	}
}

func TestFunnelZeroDenominators(t *testing.T) {
	e := engineWith(t, leadEv(events.TypeDealWon, "2024-02-20T00:00:00Z", "l9", ""))
	checkOne(t, e, feb, []kpiCase{
		{"mql_to_sql_rate", "null"},
		{"lead_to_opportunity_rate", "null"},
		{"conversion_rate_lead_deal", "null"},
		{"upsell_rate", "null"},
		{"event_attendance_rate", "null"},
		{"conversion_rate_signup_paid", "null"},
		{"conversion_rate_visit_signup", "null"},
	})
}

func TestUpsellRate(t *testing.T) {
	offer := func(typ events.Type, c, plan string) events.Event {
		return ev(typ, "2024-02-10T00:00:00Z", func(e *events.Event) { e.Customer, e.Plan = c, plan })
	}
	e := engineWith(t, offer(events.TypeUpsellOffered, "c1", "pro"),
		offer(events.TypeUpsellOffered, "c2", "pro"), offer(events.TypeUpsellOffered, "c3", "pro"),
		offer(events.TypeUpsellOffered, "c4", "team"), offer(events.TypeUpsellAccepted, "c1", "pro"))
	checkOne(t, e, feb, []kpiCase{{"upsell_rate", "25"}})
	if got := byGroup(t, e, feb("upsell_rate"), DimPlan); got["pro"] != "33.333333" ||
		got["team"] != "0" {
		t.Errorf("upsell rate by plan = %v, want pro 33.333333, team 0", got)
	}
}

// TestEventAttendance: the summit has 10 registrations and 7 attendees
// (5 in bulk, s1, s2); s1 starts paying after attending, s2 paid before.
// The webinar has 4 registrations and 1 attendee, w1, who pays in March.
func TestEventAttendance(t *testing.T) {
	reg := func(typ events.Type, when, name, customer string, n int64) events.Event {
		return ev(typ, when, func(e *events.Event) { e.EventName, e.Customer, e.Count = name, customer, n })
	}
	pays := func(when, c string) events.Event {
		return ev(events.TypeSubscriptionStarted, when, func(e *events.Event) {
			e.Customer, e.Subscription, e.Amount, e.Currency = c, c, 10e6, "EUR"
		})
	}
	e := engineWith(t,
		reg(events.TypeEventRegistration, "2024-02-01T00:00:00Z", "summit", "", 10),
		reg(events.TypeEventAttendance, "2024-02-10T00:00:00Z", "summit", "", 5),
		reg(events.TypeEventAttendance, "2024-02-10T00:00:00Z", "summit", "s1", 1),
		reg(events.TypeEventAttendance, "2024-02-10T00:00:00Z", "summit", "s2", 1),
		reg(events.TypeEventRegistration, "2024-02-01T00:00:00Z", "webinar", "", 4),
		reg(events.TypeEventAttendance, "2024-02-15T00:00:00Z", "webinar", "w1", 1),
		pays("2024-01-05T00:00:00Z", "s2"), pays("2024-02-20T00:00:00Z", "s1"),
		pays("2024-03-02T00:00:00Z", "w1"))
	checkOne(t, e, feb, []kpiCase{
		{"event_registrations", "14"},
		{"event_attendees", "8"},
		{"event_attendance_rate", "57.142857"},
		{"event_customers_acquired", "1"},
	})
	rate := byGroup(t, e, feb("event_attendance_rate"), DimEventName)
	if rate["summit"] != "70" || rate["webinar"] != "25" {
		t.Errorf("attendance rate by event = %v, want summit 70, webinar 25", rate)
	}
	march := feb("event_customers_acquired")
	march.From, march.To = at("2024-03-01T00:00:00Z"), at("2024-04-01T00:00:00Z")
	if got := byGroup(t, e, march, DimEventName); got["webinar"] != "1" || len(got) != 1 {
		t.Errorf("customers acquired in March by event = %v, want webinar 1", got)
	}
}

// TestConversionVariants: 4 sign-ups and 2 first payments; 4 sessions
// and 1 sign-up on May 1st.
func TestConversionVariants(t *testing.T) {
	signup := ad("signup", "2024-02-03T00:00:00Z", "c", 1)
	pays := func(c string) events.Event {
		return ev(events.TypeSubscriptionStarted, "2024-02-05T00:00:00Z", func(e *events.Event) {
			e.Customer, e.Subscription, e.Amount, e.Currency = c, c, 10e6, "EUR"
		})
	}
	e := engineWith(t, signup, signup, signup, signup, pays("a"), pays("b"))
	checkOne(t, e, feb, []kpiCase{{"conversion_rate_signup_paid", "50"}, {"signups", "4"}})

	e = engineWith(t, append(pageViews(), ad("signup", "2024-05-01T12:00:00Z", "c", 1))...)
	checkOne(t, e, may1, []kpiCase{{"conversion_rate_visit_signup", "16.666667"}})
}
