package queries

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kpi-analytics/kpi/events"
)

func f64(v float64) *float64 { return &v }

// TestGoalStatus: on track within ±5 % of the target; beyond, ahead on the
// better side.
func TestGoalStatus(t *testing.T) {
	tests := []struct {
		name     string
		value    *float64
		target   string
		higher   bool
		status   string
		progress string
	}{
		{"higher, well above", f64(120), "100", true, StatusAhead, "120"},
		{"higher, at +5 %", f64(105), "100", true, StatusOnTrack, "105"},
		{"higher, at −5 %", f64(95), "100", true, StatusOnTrack, "95"},
		{"higher, below", f64(80), "100", true, StatusBehind, "80"},
		{"lower, well below", f64(2), "4", false, StatusAhead, "50"},
		{"lower, within band", f64(4.1), "4", false, StatusOnTrack, "102.5"},
		{"lower, above", f64(6), "4", false, StatusBehind, "150"},
		{"negative target, lower", f64(-30), "-20", false, StatusAhead, "150"},
		{"zero target, higher", f64(3), "0", true, StatusAhead, "null"},
		{"zero target, exact", f64(0), "0", true, StatusOnTrack, "null"},
		{"null value", nil, "10", true, "", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := status(value{Value: tt.value}, tt.target, tt.higher)
			if s.Status != tt.status {
				t.Errorf("status: got %q, want %q", s.Status, tt.status)
			}
			if got := text(value{Value: s.Progress}); got != tt.progress {
				t.Errorf("progress: got %s, want %s", got, tt.progress)
			}
		})
	}
}

// TestGoalsOnRows: MRR targets per month for tenant saas (higher is
// better) and a churn target (lower is better) give one row in each
// status; a goal for another tenant or period does not attach.
func TestGoalsOnRows(t *testing.T) {
	e := engineWith(t, movementEvents()...)
	ctx := context.Background()
	set := func(kpi, tenant, from, to, target string) {
		t.Helper()
		if _, err := e.SetGoal(ctx, Goal{KPI: kpi, Tenant: tenant, From: at(from), To: at(to),
			Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	set("mrr", "saas", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "300") // 240: behind
	set("mrr", "saas", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "100") // first target
	set("mrr", "saas", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "230") // replaces it
	set("mrr", "saas", "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z", "200") // 235: ahead
	set("mrr", "other", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "1")  // other tenant
	set("mrr", "saas", "2024-02-01T00:00:00Z", "2024-02-15T00:00:00Z", "1")   // other period
	set("customer_churn_rate", AllTenants, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "50")
	req := Request{KPI: "mrr", From: at("2024-01-01T00:00:00Z"), To: at("2024-04-01T00:00:00Z"),
		Window: WindowMonth, Filters: map[string]string{DimTenant: "saas"}}
	want := []struct{ status, progress string }{{StatusBehind, "80"},
		{StatusOnTrack, "102.173913"}, {StatusAhead, "117.5"}}
	for i, r := range run(t, e, req).Rows {
		if r.Goal == nil || r.Goal.Status != want[i].status ||
			text(value{Value: r.Goal.Progress}) != want[i].progress {
			t.Errorf("month %d: goal %+v, want %+v", i, r.Goal, want[i])
		}
	}
	churn := run(t, e, feb("customer_churn_rate")).Rows[0]
	if churn.Goal == nil || churn.Goal.Status != StatusAhead || churn.Goal.Target != "50.00" {
		t.Errorf("churn 33.3 %% against 50 %%: goal %+v, want ahead", churn.Goal)
	}
	byTenant := feb("mrr")
	byTenant.GroupBy = []string{DimTenant}
	if g := run(t, e, byTenant).Rows[0].Goal; g == nil || g.Target != "230.00" {
		t.Errorf("mrr grouped by tenant: goal %+v, want target 230.00", g)
	}
}

func TestGoalsList(t *testing.T) {
	e := engineWith(t)
	ctx := context.Background()
	for _, target := range []string{"10", "12.5"} {
		if _, err := e.SetGoal(ctx, Goal{KPI: "ctr", Tenant: "acme", From: at("2024-02-01T00:00:00Z"),
			To: at("2024-03-01T00:00:00Z"), Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	goals, err := e.Goals(ctx, GoalFilter{KPI: "ctr"})
	if err != nil {
		t.Fatal(err)
	}
	if len(goals) != 1 || goals[0].Target != "12.50" || goals[0].Tenant != "acme" {
		t.Errorf("goals = %+v, want one with target 12.50", goals)
	}
	if goals, _ := e.Goals(ctx, GoalFilter{From: at("2024-03-01T00:00:00Z")}); len(goals) != 0 {
		t.Errorf("goals from March = %+v, want none", goals)
	}
}

func TestSetGoalRejects(t *testing.T) {
	e := engineWith(t)
	ok := Goal{KPI: "mrr", Tenant: "acme", From: at("2024-02-01T00:00:00Z"),
		To: at("2024-03-01T00:00:00Z"), Target: "10"}
	tests := []struct {
		name  string
		edit  func(*Goal)
		param string
	}{
		{"unknown kpi", func(g *Goal) { g.KPI = "nope" }, "kpi"},
		{"bad tenant", func(g *Goal) { g.Tenant = "a.b" }, "tenant"},
		{"empty period", func(g *Goal) { g.To = g.From }, "to"},
		{"target text", func(g *Goal) { g.Target = "lots" }, "target"},
		{"target 7 decimals", func(g *Goal) { g.Target = "1.1234567" }, "target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ok
			tt.edit(&g)
			_, err := e.SetGoal(context.Background(), g)
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tt.param {
				t.Errorf("err = %v, want RequestError on %s", err, tt.param)
			}
		})
	}
}

// TestComparePrevious: 30 clicks in February against 20 in January, and
// day by day.
func TestComparePrevious(t *testing.T) {
	e := engineWith(t, ad("click", "2024-01-10T00:00:00Z", "c", 20),
		ad("click", "2024-02-10T00:00:00Z", "c", 30), ad("click", "2024-02-11T00:00:00Z", "c", 0))
	req := feb("clicks")
	req.Compare = ComparePrevious
	ans := run(t, e, req)
	p := ans.Rows[0].Previous
	if p == nil || p.Exact != "20" || *p.Change != 10 || p.ChangeExact != "10" ||
		*p.ChangePercent != 50 {
		t.Fatalf("previous = %+v, want 20, +10, +50 %%", p)
	}
	if !ans.Compare.From.Equal(at("2024-01-01T00:00:00Z")) {
		t.Errorf("compared with %v, want January", ans.Compare)
	}
	req = feb("ctr")
	req.Compare = ComparePrevious
	p = run(t, e, req).Rows[0].Previous
	if p == nil || p.Value != nil || p.Change != nil || p.ChangePercent != nil {
		t.Errorf("ctr without impressions: previous %+v, want null value and change", p)
	}
}

func TestPreviousPeriod(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	d := func(y int, m time.Month, day, h int, loc *time.Location) time.Time {
		return time.Date(y, m, day, h, 0, 0, 0, loc)
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     time.Time
	}{
		{"month after a short one", d(2024, 3, 1, 0, time.UTC), d(2024, 4, 1, 0, time.UTC),
			d(2024, 2, 1, 0, time.UTC)},
		{"quarter", d(2024, 4, 1, 0, time.UTC), d(2024, 7, 1, 0, time.UTC),
			d(2024, 1, 1, 0, time.UTC)},
		{"day after the DST day", d(2024, 4, 1, 0, paris), d(2024, 4, 2, 0, paris),
			d(2024, 3, 31, 0, paris)},
		{"week across DST", d(2024, 4, 1, 0, paris), d(2024, 4, 8, 0, paris),
			d(2024, 3, 25, 0, paris)},
		{"hours", d(2024, 4, 1, 10, time.UTC), d(2024, 4, 1, 13, time.UTC),
			d(2024, 4, 1, 7, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Request{From: tt.from, To: tt.to, Location: tt.from.Location()}.Previous()
			if !p.From.Equal(tt.want) || !p.To.Equal(tt.from) {
				t.Errorf("previous of [%v, %v) = [%v, %v), want [%v, %v)", tt.from, tt.to,
					p.From, p.To, tt.want, tt.from)
			}
		})
	}
}

// TestCompareAcrossDST: the 23-hour March 31st in Paris is compared with
// March 30th, a whole calendar day. Paris times: 00:30 on the 30th (4 h),
// 00:30 (8 h) and 23:30 (2 h) on the 31st.
func TestCompareAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	logged := func(when string, h float64) events.Event {
		return ev(events.TypeTimeLogged, when, func(e *events.Event) {
			e.Person, e.Hours, e.Billable = "ana", micros(h), true
		})
	}
	e := engineWith(t, logged("2024-03-29T23:30:00Z", 4), logged("2024-03-30T23:30:00Z", 8),
		logged("2024-03-31T21:30:00Z", 2))
	req := Request{KPI: "hours_logged", Location: paris, Compare: ComparePrevious,
		From: time.Date(2024, 3, 31, 0, 0, 0, 0, paris), To: time.Date(2024, 4, 1, 0, 0, 0, 0, paris)}
	r := run(t, e, req).Rows[0]
	if r.Exact != "10.00" || r.Previous == nil || r.Previous.Exact != "4.00" ||
		r.Previous.ChangeExact != "6.00" || *r.Previous.ChangePercent != 150 {
		t.Errorf("hours on March 31st = %s, previous %+v; want 10.00 against 4.00 (+150 %%)",
			r.Exact, r.Previous)
	}
}

// TestHourWindowsInAHalfHourZone: hours in Asia/Kolkata (UTC+5:30) start
// on the local hour.
func TestHourWindowsInAHalfHourZone(t *testing.T) {
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip(err)
	}
	r := Request{From: time.Date(2024, 5, 1, 0, 0, 0, 0, ist),
		To: time.Date(2024, 5, 1, 3, 0, 0, 0, ist), Window: WindowHour, Location: ist}
	b := r.Bounds()
	if len(b) != 4 {
		t.Fatalf("bounds %v, want 4", b)
	}
	for i, x := range b {
		if h, m, _ := x.In(ist).Clock(); h != i || m != 0 {
			t.Errorf("bound %d = %s, want %02d:00 local", i, x.In(ist), i)
		}
	}
}
