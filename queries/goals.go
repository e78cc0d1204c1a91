package queries

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kpi-analytics/kpi/events"
	"github.com/kpi-analytics/kpi/internal/warehouse"
)

// AllTenants is the tenant of a goal for the whole agency: it applies to
// rows of requests neither grouped nor filtered by tenant.
const AllTenants = "*"

// OnTrackBand is how far from its target, in percent of the target, a
// value is still on track. Beyond it a value is ahead when it is on the
// better side of the target (above when higher is better, below when
// lower is) and behind on the other.
const OnTrackBand = 5

// Goal statuses.
const (
	StatusAhead   = "ahead"
	StatusOnTrack = "on_track"
	StatusBehind  = "behind"
)

// Goal is a target for one KPI, tenant and period. It applies to result
// rows whose window is exactly the period, of requests grouped or filtered
// by tenant only (or not at all, for AllTenants). A money target is in the
// currency the rows come out in.
type Goal struct {
	KPI    string    `json:"kpi"`
	Tenant string    `json:"tenant"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// Target is exact decimal text, at most 6 decimals, possibly negative.
	Target string `json:"target"`
	// SetAt is when the goal was last set; setting it again replaces it.
	SetAt time.Time `json:"set_at"`
}

// GoalStatus is how a row's value stands against its goal. Progress is
// value / target × 100, null for a zero target or a null value; Status is
// empty for a null value.
type GoalStatus struct {
	Target   string   `json:"target"`
	Progress *float64 `json:"progress_percent"`
	Status   string   `json:"status,omitempty"`
}

// goalColumns are the columns of the goals table (projections migration 3).
var goalColumns = []warehouse.Column{{Name: "tenant", Type: "String"},
	{Name: "kpi", Type: "LowCardinality(String)"},
	{Name: "period_start", Type: "DateTime64(3, 'UTC')"},
	{Name: "period_end", Type: "DateTime64(3, 'UTC')"},
	{Name: "target", Type: "Decimal(18, 6)"}, {Name: "set_at", Type: "DateTime64(3, 'UTC')"}}

// SetGoal stores g, replacing any goal of the same KPI, tenant and period,
// and returns it as stored. It returns a *RequestError for an unknown KPI,
// a bad tenant, an empty period or a target that is not a decimal.
func (e *Engine) SetGoal(ctx context.Context, g Goal) (Goal, error) {
	micros, err := g.validate()
	if err != nil {
		return g, err
	}
	g.From, g.To = g.From.UTC().Truncate(time.Millisecond), g.To.UTC().Truncate(time.Millisecond)
	g.SetAt = time.Now().UTC().Truncate(time.Millisecond)
	g.Target = events.Micros(micros).String()
	row := []any{g.Tenant, g.KPI, g.From, g.To, micros, g.SetAt}
	if err := e.wh.Insert(ctx, e.db+".goals", goalColumns, [][]any{row}); err != nil {
		return g, fmt.Errorf("set goal: %w", err)
	}
	return g, nil
}

// validate checks a goal and returns its target in millionths.
func (g Goal) validate() (int64, error) {
	if _, ok := Lookup(g.KPI); !ok {
		return 0, &RequestError{"kpi", fmt.Sprintf("unknown KPI %q; GET /v1/kpis lists them", g.KPI)}
	}
	if g.Tenant != AllTenants && !events.ValidTenant(g.Tenant) {
		return 0, &RequestError{"tenant", `must be a tenant name or "*" for all tenants`}
	}
	if err := g.validPeriod(); err != nil {
		return 0, err
	}
	neg := strings.HasPrefix(g.Target, "-")
	m, err := events.ParseMicros(strings.TrimPrefix(g.Target, "-"))
	if err != nil {
		return 0, &RequestError{"target", "must be a decimal such as 1500 or -2.5 with at " +
			"most 6 decimals"}
	}
	if neg {
		return -int64(m), nil
	}
	return int64(m), nil
}

// Goal periods lie within these years, like the events they measure.
var (
	goalEarliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	goalLatest   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (g Goal) validPeriod() error {
	if err := requireRange(g.From, g.To); err != nil {
		return err
	}
	switch {
	case !g.From.Before(g.To):
		return &RequestError{"to", "must be after from"}
	case g.From.Before(goalEarliest):
		return &RequestError{"from", "must be in 2000 or later"}
	case g.To.After(goalLatest):
		return &RequestError{"to", "must be 2100-01-01 or earlier"}
	}
	return nil
}

// DeleteGoal removes the goal of g's KPI, tenant and period (g.Target is
// ignored) and returns it as it was stored; ok is false when there was none.
func (e *Engine) DeleteGoal(ctx context.Context, g Goal) (deleted Goal, ok bool, err error) {
	if _, known := Lookup(g.KPI); !known {
		return Goal{}, false, &RequestError{"kpi",
			fmt.Sprintf("unknown KPI %q; GET /v1/kpis lists them", g.KPI)}
	}
	if err := g.validPeriod(); err != nil {
		return Goal{}, false, err
	}
	stored, err := e.Goals(ctx, GoalFilter{KPI: g.KPI, Tenant: g.Tenant, From: g.From, To: g.To})
	if err != nil {
		return Goal{}, false, fmt.Errorf("delete goal: %w", err)
	}
	i := slices.IndexFunc(stored, func(s Goal) bool {
		return s.Tenant == g.Tenant && s.From.Equal(g.From) && s.To.Equal(g.To)
	})
	if i < 0 {
		return Goal{}, false, nil
	}
	p := warehouse.Params{"kpi": g.KPI, "tenant": g.Tenant,
		"from": warehouse.FormatTime(g.From.UTC()), "to": warehouse.FormatTime(g.To.UTC())}
	const where = ` WHERE tenant = {tenant:String} AND kpi = {kpi:String}
	AND period_start = {from:DateTime64(3, 'UTC')} AND period_end = {to:DateTime64(3, 'UTC')}`
	if err := e.wh.Exec(ctx, "DELETE FROM "+e.db+".goals"+where, p); err != nil {
		return Goal{}, false, fmt.Errorf("delete goal: %w", err)
	}
	return stored[i], true, nil
}

// GoalFilter narrows Goals; zero fields match everything. A period keeps
// the goals that overlap it.
type GoalFilter struct {
	KPI, Tenant string
	From, To    time.Time
}

// Goals lists the goals matching f, ordered by KPI, tenant and period.
func (e *Engine) Goals(ctx context.Context, f GoalFilter) ([]Goal, error) {
	q := `SELECT kpi, tenant, period_start, period_end, target, set_at FROM %s.goals FINAL
WHERE ({kpi:String} = '' OR kpi = {kpi:String})
	AND ({tenant:String} = '' OR tenant = {tenant:String})
	AND period_end > {from:DateTime64(3, 'UTC')} AND period_start < {to:DateTime64(3, 'UTC')}
ORDER BY kpi, tenant, period_start, period_end`
	to := f.To
	if to.IsZero() {
		to = time.Date(2299, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	res, err := e.wh.Query(ctx, fmt.Sprintf(q, e.db), warehouse.Params{"kpi": f.KPI,
		"tenant": f.Tenant, "from": warehouse.FormatTime(f.From), "to": warehouse.FormatTime(to)})
	if err != nil {
		return nil, fmt.Errorf("list goals: %w", err)
	}
	out := make([]Goal, 0, len(res.Rows))
	for _, r := range res.Rows {
		out = append(out, Goal{KPI: r[0].(string), Tenant: r[1].(string), From: r[2].(time.Time),
			To: r[3].(time.Time), Target: trimTarget(r[4].(string)), SetAt: r[5].(time.Time)})
	}
	return out, nil
}

// trimTarget renders the table's decimal text like Micros.String does.
func trimTarget(s string) string {
	r, err := ParseDecimal(s)
	if err != nil {
		return s
	}
	return Decimal(r, 2)
}

// attachGoals sets the Goal of every row that has one.
func (e *Engine) attachGoals(ctx context.Context, k KPI, req Request, ans *Answer) error {
	if !goalsApply(req) || len(ans.Rows) == 0 {
		return nil
	}
	goals, err := e.Goals(ctx, GoalFilter{KPI: k.Name, From: req.From, To: req.To})
	if err != nil {
		return err
	}
	byKey := make(map[goalKey]Goal, len(goals))
	for _, g := range goals {
		byKey[goalKey{g.Tenant, g.From.UnixMilli(), g.To.UnixMilli()}] = g
	}
	for i := range ans.Rows {
		r := &ans.Rows[i]
		key := goalKey{rowTenant(req, *r), r.WindowStart.UnixMilli(), r.WindowEnd.UnixMilli()}
		if g, ok := byKey[key]; ok {
			r.Goal = status(r.value, g.Target, k.HigherIsBetter)
		}
	}
	return nil
}

type goalKey struct {
	tenant   string
	from, to int64
}

// goalsApply reports whether the request's rows are whole tenants or the
// whole agency: goals are set per tenant, not per campaign or channel.
func goalsApply(req Request) bool {
	for _, d := range req.GroupBy {
		if d != DimTenant {
			return false
		}
	}
	for d := range req.Filters {
		if d != DimTenant {
			return false
		}
	}
	return true
}

func rowTenant(req Request, r Row) string {
	if t, ok := r.Group[DimTenant]; ok {
		return t
	}
	if t, ok := req.Filters[DimTenant]; ok {
		return t
	}
	return AllTenants
}

// status compares v with target; see OnTrackBand.
func status(v value, target string, higherIsBetter bool) *GoalStatus {
	s := &GoalStatus{Target: target}
	t, err := ParseDecimal(target)
	if err != nil || v.Value == nil {
		return s
	}
	tf, _ := t.Float64()
	if tf != 0 {
		p := *v.Value / tf * 100
		s.Progress = &p
	}
	dev := *v.Value - tf // how far above the target, in units of |target|
	if tf != 0 {
		dev /= math.Abs(tf)
	}
	band := float64(OnTrackBand) / 100
	if tf == 0 {
		band = 0
	}
	switch {
	case math.Abs(dev) <= band:
		s.Status = StatusOnTrack
	case (dev > 0) == higherIsBetter:
		s.Status = StatusAhead
	default:
		s.Status = StatusBehind
	}
	return s
}
